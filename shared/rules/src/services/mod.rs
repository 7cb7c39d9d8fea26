//! One module per AWS service: its change parser (CloudTrail record → typed change), its rules
//! (one file each), its typed restore actions. The [`Slice`] trait is all the rest of snapback
//! knows about a service.

pub mod eks;
pub mod security_groups;

use std::any::Any;

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
    /// An example finding of one of its rules.
    fn example(&self, meta: &RuleMeta) -> Example;
    /// The read-only calls its adapter's sweep makes (IAM actions of the sweeper and of `snapback scan`).
    fn sweep_actions(&self) -> &'static [&'static str];
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

impl<C: 'static, S: 'static> Slice for ServiceRules<C, S> {
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
        Ok(listening().filter_map(|rule| (rule.check_change)(&rule.meta, &change, config)).collect())
    }

    fn judge_state(&self, state: &dyn Any, config: &Config) -> Vec<Finding> {
        let Some(state) = state.downcast_ref::<S>() else { return Vec::new() };
        self.rules
            .iter()
            .filter(|rule| config.mode(rule.id) != Mode::Off)
            .filter_map(|rule| (rule.check_state?)(&rule.meta, state, config))
            .collect()
    }

    fn judges_state(&self, rule_id: &str) -> bool {
        self.rules.iter().any(|rule| rule.id == rule_id && rule.check_state.is_some())
    }

    fn example(&self, meta: &RuleMeta) -> Example {
        (self.example)(meta)
    }

    fn sweep_actions(&self) -> &'static [&'static str] {
        self.sweep_actions
    }
}

/// Every finding of every enabled rule for this record, in registry order; an unreadable record
/// has none. (`snapback replay` and the tests; the pipeline judges its own slices only.)
pub fn evaluate(event: &Event, config: &Config) -> Vec<Finding> {
    judge_change(crate::registry::services(), event, config).unwrap_or_default()
}

/// The findings of every slice's rules for a resource as described (`state` is a slice's state
/// type: a `GroupState`, an `EksState`).
pub fn judge_state(state: &dyn Any, config: &Config) -> Vec<Finding> {
    crate::registry::services().flat_map(|service| service.judge_state(state, config)).collect()
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
}
