//! One module per AWS service: its change parser (CloudTrail record → typed change), its rules
//! (one file each), its typed restore actions. The [`Slice`] trait is all the rest of snapback
//! knows about a service.

pub mod ecr;
pub mod eks;
pub mod node;
pub mod security_groups;
pub mod watchdog;

use std::any::Any;
use std::borrow::Cow;

use crate::config::{Config, Mode};
use crate::event::Event;
use crate::finding::Finding;
use crate::registry::{Rule, RuleMeta};

/// A record that names this service but cannot be judged: garbage is not a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// A real-shaped finding of a rule, for `snapback alert preview` and the alerts' golden tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub resource: String,
    pub event_name: &'static str,
    pub changed: String,
    /// The restore, when the rule has one.
    pub restored: Option<String>,
    /// How a failed restore reads.
    pub failure: String,
}

/// A service as the registry and the pipeline see it.
pub trait Slice: Sync {
    /// `security-groups`, `eks`: also the name of its adapter in `shared/aws`.
    fn name(&self) -> &'static str;
    fn rules(&self) -> Vec<&'static RuleMeta>;
    /// Does any of its rules listen to this eventSource/eventName? (Per event: no allocation.)
    fn listens_to(&self, event_source: &str, event_name: &str) -> bool;
    /// The findings of the enabled rules for a record; an empty list when the record is not
    /// this service's.
    fn judge_change(&self, event: &Event, config: &Config) -> Result<Vec<Finding>, Unreadable>;
    /// The findings of the enabled rules that judge state, for a resource as described; an
    /// empty list when `state` is not this service's state type.
    fn judge_state(&self, state: &dyn Any, config: &Config) -> Vec<Finding>;
    /// Does the rule judge described state (a sweep covers it)?
    fn judges_state(&self, rule_id: &str) -> bool;
    /// A change's finding, judged again on its resource as the adapter's look-up described it
    /// (`described`, this slice's state type), when its kind says the record alone cannot settle
    /// it ([`crate::ResourceKind::confirmed_by_look_up`]): the finding that stands (the state
    /// check's, whose plan fits the resource as it is), or None when the resource as it is does
    /// not trip the rule. Any other finding, or a description of another type, stands as it is.
    /// This is how facts a record cannot carry reach a rule while the rule stays pure.
    fn confirm(&self, finding: &Finding, described: &dyn Any, config: &Config) -> Option<Finding>;
    /// An example finding of one of its rules.
    fn example(&self, meta: &RuleMeta) -> Example;
    /// The read-only calls its adapter's sweep makes (IAM actions of the sweeper and of `snapback scan`).
    fn sweep_actions(&self) -> &'static [&'static str];
}

/// A service's change as its parser reads it from one record.
pub trait Change: Clone + 'static {
    /// The change as the rules judge it: itself, or, for a call that changed several resources
    /// at once (RunInstances launching a fleet), one change per resource, so that each resource
    /// gets its own finding.
    fn per_resource(&self) -> Vec<Cow<'_, Self>> {
        vec![Cow::Borrowed(self)]
    }
}

/// A service whose CloudTrail changes read as `C` and whose described resources as `S`.
pub struct ServiceRules<C: 'static, S: 'static> {
    pub name: &'static str,
    /// None when the record is not one this service reads.
    pub parse: fn(&Event) -> Result<Option<C>, Unreadable>,
    pub rules: &'static [&'static Rule<C, S>],
    pub example: fn(&RuleMeta) -> Example,
    /// The read-only calls its adapter's sweep makes.
    pub sweep_actions: &'static [&'static str],
}

impl<C: Change, S: 'static> Slice for ServiceRules<C, S> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn rules(&self) -> Vec<&'static RuleMeta> {
        self.rules.iter().map(|rule| &rule.meta).collect()
    }

    fn listens_to(&self, event_source: &str, event_name: &str) -> bool {
        self.rules.iter().any(|rule| rule.listens_to(event_source, event_name))
    }

    fn judge_change(&self, event: &Event, config: &Config) -> Result<Vec<Finding>, Unreadable> {
        let listening = || {
            self.rules
                .iter()
                .filter(|rule| rule.listens_to(&event.event_source, &event.event_name))
                .filter(|rule| config.mode(rule.id) != Mode::Off)
        };
        // Most records concern no rule of this slice: nothing to parse.
        if listening().next().is_none() {
            return Ok(Vec::new());
        }
        let Some(change) = (self.parse)(event)? else { return Ok(Vec::new()) };
        let parts = change.per_resource();
        Ok(listening()
            .flat_map(|rule| parts.iter().filter_map(move |part| (rule.check_change)(&rule.meta, part, config)))
            .collect())
    }

    fn judge_state(&self, state: &dyn Any, config: &Config) -> Vec<Finding> {
        let Some(state) = state.downcast_ref::<S>() else { return Vec::new() };
        self.rules
            .iter()
            .filter(|rule| config.mode(rule.id) != Mode::Off && rule.changes_only.is_none())
            .filter_map(|rule| (rule.check_state?)(&rule.meta, state, config))
            .collect()
    }

    fn judges_state(&self, rule_id: &str) -> bool {
        self.rules.iter().any(|rule| rule.id == rule_id && rule.check_state.is_some() && rule.changes_only.is_none())
    }

    fn confirm(&self, finding: &Finding, described: &dyn Any, config: &Config) -> Option<Finding> {
        let stands = || Some(finding.clone());
        if !finding.kind.confirmed_by_look_up {
            return stands();
        }
        let Some(state) = described.downcast_ref::<S>() else { return stands() };
        let Some(rule) = self.rules.iter().find(|rule| rule.id == finding.rule.id) else { return stands() };
        let Some(check) = rule.check_state else { return stands() };
        check(&rule.meta, state, config).filter(|confirmed| confirmed.resource == finding.resource)
    }

    fn example(&self, meta: &RuleMeta) -> Example {
        (self.example)(meta)
    }

    fn sweep_actions(&self) -> &'static [&'static str] {
        self.sweep_actions
    }
}

/// Every finding of every enabled rule of every registered slice for this record, in registry
/// order; an unreadable record has none. (The tests; the pipeline judges its own slices only.)
pub fn evaluate(event: &Event, config: &Config) -> Vec<Finding> {
    judge_change(crate::registry::registered_services(), event, config).unwrap_or_default()
}

/// The findings of every registered slice's rules for a resource as described (`state` is a
/// slice's state type: a `GroupState`, an `EksState`, a `NodeState`, a `RepositoryState`).
pub fn judge_state(state: &dyn Any, config: &Config) -> Vec<Finding> {
    crate::registry::registered_services().flat_map(|service| service.judge_state(state, config)).collect()
}

/// [`Slice::confirm`] by the slice that owns the finding's kind; a finding of no registered
/// slice stands.
pub fn confirm(finding: &Finding, described: &dyn Any, config: &Config) -> Option<Finding> {
    match crate::registry::registered_services().find(|service| service.name() == finding.kind.service) {
        Some(service) => service.confirm(finding, described, config),
        None => Some(finding.clone()),
    }
}

/// The findings of these slices for a record.
pub fn judge_change<'a>(
    services: impl IntoIterator<Item = &'a dyn Slice>,
    event: &Event,
    config: &Config,
) -> Result<Vec<Finding>, Unreadable> {
    let mut findings = Vec::new();
    for service in services {
        findings.extend(service.judge_change(event, config)?);
    }
    Ok(findings)
}

/// The records the rules' tests judge, built by the shared test kit.
#[cfg(test)]
pub(crate) mod test_support {
    use serde_json::Value;
    use snapback_testkit::cloudtrail::{self, ACCOUNT};

    use crate::{evaluate, Config, Event, Finding};

    /// AuthorizeSecurityGroupIngress on sg-0123 of these permission items (a JSON array) and,
    /// when given, the rules AWS created (a JSON array).
    pub fn authorize(permissions: Value, created_rules: Option<Value>) -> Value {
        let list = |value: Option<Value>| value.and_then(|v| v.as_array().cloned()).unwrap_or_default();
        cloudtrail::authorize_ingress(ACCOUNT, "sg-0123", list(Some(permissions)), list(created_rules))
    }

    /// A tcp permission from one CIDR.
    pub fn tcp(from: i64, to: i64, cidr: &str) -> Value {
        cloudtrail::permission("tcp", from, to, &[cidr])
    }

    pub fn findings(record: &Value, config: &Config) -> Vec<Finding> {
        evaluate(&Event::from_value(record).unwrap(), config)
    }

    /// An EKS record by alice with this request and response.
    pub fn eks(event_name: &str, request: Value, response: Value) -> Value {
        cloudtrail::eks(event_name, ACCOUNT, request, response)
    }

    pub fn rule_ids(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|finding| finding.rule.id).collect()
    }

    /// An EC2 record by alice with this request and response.
    pub fn ec2(event_name: &str, request: Value, response: Value) -> Value {
        cloudtrail::ec2(event_name, ACCOUNT, request, response)
    }

    /// An ECR record by alice with this request and response.
    pub fn ecr(event_name: &str, request: Value, response: Value) -> Value {
        cloudtrail::record(crate::services::ecr::ECR_SOURCE, event_name, ACCOUNT, request, response)
    }

    /// A record of `source` by alice with this request and no response.
    pub fn record(source: &str, event_name: &str, request: Value) -> Value {
        cloudtrail::record(source, event_name, ACCOUNT, request, Value::Null)
    }

    /// The findings of every registered slice for a resource as described.
    pub fn state_findings(state: &dyn std::any::Any, config: &Config) -> Vec<Finding> {
        crate::services::judge_state(state, config)
    }

    /// Why the registered slices refuse this record, when they do.
    pub fn unreadable(record: &Value) -> Option<String> {
        let event = Event::from_value(record).unwrap();
        crate::services::judge_change(crate::registry::registered_services(), &event, &Config::default())
            .err()
            .map(|unreadable| unreadable.0)
    }

    /// Each finding as `rule resource: plan` (the actions described, or the manual note).
    pub fn plans(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .map(|finding| {
                let plan = match &finding.plan.manual {
                    Some(manual) => format!("manual: {manual}"),
                    None => finding.plan.actions.iter().map(|action| action.describe()).collect::<Vec<_>>().join(" + "),
                };
                format!("{} {}: {plan}", finding.rule.id, finding.resource)
            })
            .collect()
    }
}
