//! The registry: the functions, the service slices each one hosts, and their rules. It is the one
//! list every consumer reads (evaluation, `snapback rules`, RULES.md, the EventBridge patterns,
//! the IAM actions and the function table Terraform deploys), so they cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Deref;
use std::sync::LazyLock;

use serde_json::Value;

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::OptionsSpec;
use crate::services::{ecr, eks, node, security_groups, watchdog, Slice};

/// An (eventSource, eventName) pair a rule listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    pub source: &'static str,
    pub name: &'static str,
}

/// What every rule declares about itself, whatever its service.
pub struct RuleMeta {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub default_mode: Mode,
    /// Why the change is dangerous, in a sentence or two.
    pub rationale: &'static str,
    /// How to put it right by hand.
    pub manual_fix: &'static str,
    pub events: &'static [EventKey],
    /// The IAM actions the plan and the lookups before it need, and nothing else.
    pub iam_actions: &'static [&'static str],
    /// Its typed options: documented, defaulted, read from the configuration document.
    pub options: OptionsSpec,
    /// None when sweeps judge the rule on described state too; else why it judges changes only
    /// (a state check may still confirm its change's findings).
    pub changes_only: Option<&'static str>,
}

impl RuleMeta {
    pub fn listens_to(&self, event_source: &str, event_name: &str) -> bool {
        self.events.iter().any(|key| key.source == event_source && key.name == event_name)
    }
}

impl fmt::Debug for RuleMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleMeta").field("id", &self.id).finish_non_exhaustive()
    }
}

impl PartialEq for RuleMeta {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for RuleMeta {}

/// A rule's check of one input: the finding, if the input trips the rule.
pub type Check<T> = fn(&'static RuleMeta, &T, &Config) -> Option<Finding>;

/// A rule of a service whose changes read as `C` and whose resources, as described, as `S`: its
/// metadata, its change check and its state check.
pub struct Rule<C: 'static, S: 'static> {
    pub meta: RuleMeta,
    /// The finding, if the change trips the rule.
    pub check_change: Check<C>,
    /// The finding, if the resource as it is trips the rule: the same finding and plan a change
    /// to this state gets. Sweeps judge with it unless `meta.changes_only` says why not (then it
    /// only confirms a change's finding on a kind `confirmed_by_look_up`); None requires
    /// `changes_only`.
    pub check_state: Option<Check<S>>,
}

impl<C, S> Deref for Rule<C, S> {
    type Target = RuleMeta;

    fn deref(&self) -> &RuleMeta {
        &self.meta
    }
}

/// What invokes a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// EventBridge rules with the function's CloudTrail event patterns.
    Cloudtrail,
    /// A subscription to the alert topic (the Slack relay).
    AlertTopic,
    /// A schedule (EventBridge Scheduler): sweeps every slice of every guard.
    Schedule,
}

/// A Lambda function: the slices it hosts and how it is deployed.
pub struct Function {
    pub name: &'static str,
    pub description: &'static str,
    pub trigger: Trigger,
    pub services: &'static [&'static dyn Slice],
    /// What the function needs beyond its rules' actions (publishing alerts, reading config).
    pub base_actions: &'static [&'static [&'static str]],
    pub timeout_seconds: u32,
    pub memory_mb: u32,
    /// Swept on the sweeper's schedule by the function itself, not by the sweeper: the watchdog,
    /// whose adapter's clients would take the sweeper's zip past its budget, and whose check of
    /// snapback should not depend on the sweeper it checks.
    pub sweeps_itself: bool,
}

impl Function {
    /// The rules it hosts (the registry's rules are the guards' rules; the sweeper hosts none).
    pub fn rules(&self) -> impl Iterator<Item = &'static RuleMeta> + '_ {
        self.services.iter().flat_map(|service| service.rules())
    }

    /// The slices it judges: its own, or, for the sweeper, every guard's with a rule sweeps judge
    /// (but those of a function that sweeps itself).
    pub fn slices(&self) -> Vec<&'static dyn Slice> {
        match self.trigger {
            Trigger::Schedule => FUNCTIONS
                .iter()
                .filter(|function| !function.sweeps_itself)
                .flat_map(|function| function.services.iter().copied())
                .filter(|service| sweeps_any(*service))
                .collect(),
            _ => self.services.to_vec(),
        }
    }

    /// The rules it judges: its slices' rules.
    pub fn judged_rules(&self) -> Vec<&'static RuleMeta> {
        self.slices().into_iter().flat_map(|service| service.rules()).collect()
    }

    /// The CloudTrail events its rules listen to, by eventSource: one EventBridge rule each (the
    /// manifest's `event_patterns`, in this order). None for a function without CloudTrail trigger.
    pub fn events_by_source(&self) -> BTreeMap<&'static str, BTreeSet<&'static str>> {
        let mut events: BTreeMap<&'static str, BTreeSet<&'static str>> = BTreeMap::new();
        if self.trigger == Trigger::Cloudtrail {
            for key in self.judged_rules().iter().flat_map(|meta| meta.events) {
                events.entry(key.source).or_default().insert(key.name);
            }
        }
        events
    }

    /// Does any slice of this function listen to this eventSource/eventName?
    pub fn listens_to(&self, event_source: &str, event_name: &str) -> bool {
        self.services.iter().any(|service| service.listens_to(event_source, event_name))
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Function").field("name", &self.name).finish_non_exhaustive()
    }
}

/// Publishing to the (KMS-encrypted) alert topic, reading the config parameter, the ledger, and,
/// in an organization deployment only (the module grants them only there), assuming the member
/// role and reading which organizational units an account is in.
const GUARD_BASE_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "organizations:ListParents",
    "sns:Publish",
    "ssm:GetParameter",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
];

/// The watchdog's, besides a guard's: when the alert topic refuses an alert for good (deleted,
/// its policy or key changed), the alert goes to the Slack relay function directly.
const RELAY_FALLBACK_ACTIONS: &[&str] = &["lambda:InvokeFunction"];

/// A central deployment's sweeps (the sweeper's, besides a guard's actions): the organization's
/// accounts, and the queue the schedule puts one message per account and region on and the same
/// function reads back.
pub const SWEEP_FAN_OUT_ACTIONS: &[&str] = &[
    "organizations:ListAccounts",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
];

/// Every function. A new service is one slice in one function's `services`.
pub static FUNCTIONS: &[Function] = &[
    Function {
        name: "sg-guard",
        description: "Reverts world-open ingress on EKS security groups.",
        trigger: Trigger::Cloudtrail,
        services: &[&security_groups::SLICE],
        base_actions: &[GUARD_BASE_ACTIONS],
        timeout_seconds: 30,
        memory_mb: 128,
        sweeps_itself: false,
    },
    Function {
        name: "eks-guard",
        description: "Restores EKS endpoint posture, control-plane logging and access policies.",
        trigger: Trigger::Cloudtrail,
        services: &[&eks::SLICE],
        base_actions: &[GUARD_BASE_ACTIONS],
        // A cluster stays CREATING for about ten minutes; the guard waits for it.
        timeout_seconds: 900,
        memory_mb: 128,
        sweeps_itself: false,
    },
    Function {
        name: "node-guard",
        description: "Restores node IMDS settings, private subnets, account EBS and IMDS defaults; unshares public snapshots and AMIs.",
        trigger: Trigger::Cloudtrail,
        services: &[&node::SLICE],
        base_actions: &[GUARD_BASE_ACTIONS],
        timeout_seconds: 30,
        memory_mb: 128,
        sweeps_itself: false,
    },
    Function {
        name: "ecr-guard",
        description:
            "Restores scan on push on ECR repositories; alerts on mutable tags and public repository policies.",
        trigger: Trigger::Cloudtrail,
        services: &[&ecr::SLICE],
        base_actions: &[GUARD_BASE_ACTIONS],
        timeout_seconds: 30,
        memory_mb: 128,
        sweeps_itself: false,
    },
    Function {
        name: "watchdog",
        description: "Snaps back attempts to blind snapback (its trail, rules, functions, alerts, configuration) and \
                      the account's detectors.",
        trigger: Trigger::Cloudtrail,
        services: &[&watchdog::SLICE],
        base_actions: &[GUARD_BASE_ACTIONS, RELAY_FALLBACK_ACTIONS],
        timeout_seconds: 30,
        memory_mb: 128,
        sweeps_itself: true,
    },
    Function {
        name: "sweeper",
        description: "Sweeps the account and region on a schedule: every guard's rules on everything as it is.",
        trigger: Trigger::Schedule,
        // Every slice (see `Function::slices`): hosting them here would list their rules twice.
        services: &[],
        base_actions: &[GUARD_BASE_ACTIONS],
        // Stops before the deadline and goes on at the next run from a cursor in the ledger.
        timeout_seconds: 300,
        memory_mb: 256,
        sweeps_itself: false,
    },
    Function {
        name: "slack-notifier",
        description: "Posts alerts from the topic to Slack.",
        trigger: Trigger::AlertTopic,
        services: &[],
        base_actions: &[&["secretsmanager:GetSecretValue", "kms:Decrypt"]],
        timeout_seconds: 60,
        memory_mb: 128,
        sweeps_itself: false,
    },
];

pub fn functions() -> &'static [Function] {
    FUNCTIONS
}

pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|function| function.name == name)
}

/// Slices whose rules are registered (the configuration, `evaluate`, `snapback rules`, RULES.md)
/// but that no function hosts yet: no guard listens to their events, no sweep reads their
/// resources, the deployment manifest leaves them out. Moving a slice from here into a
/// function's `services` (once its adapter exists) is how it goes live.
pub static UNHOSTED: &[&dyn Slice] = &[];

/// Whether sweeps judge any rule of the slice (the watchdog's judge changes only).
fn sweeps_any(service: &dyn Slice) -> bool {
    service.rules().iter().any(|meta| service.judges_state(meta.id))
}

/// Every slice a function hosts, in function order: each has an adapter.
pub fn services() -> impl Iterator<Item = &'static dyn Slice> {
    FUNCTIONS.iter().flat_map(|function| function.services.iter().copied())
}

/// Every registered slice: the hosted ones in function order, then [`UNHOSTED`].
pub fn registered_services() -> impl Iterator<Item = &'static dyn Slice> {
    services().chain(UNHOSTED.iter().copied())
}

static RULES: LazyLock<Vec<&'static RuleMeta>> =
    LazyLock::new(|| registered_services().flat_map(|service| service.rules()).collect());

/// Every rule, in registry order.
pub fn registry() -> &'static [&'static RuleMeta] {
    &RULES
}

pub fn rule(id: &str) -> Option<&'static RuleMeta> {
    registry().iter().copied().find(|meta| meta.id == id)
}

/// The function that hosts a rule.
pub fn function_of(rule_id: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|function| function.rules().any(|meta| meta.id == rule_id))
}

/// Does any rule listen to this eventSource/eventName?
pub fn listens_to(event_source: &str, event_name: &str) -> bool {
    registry().iter().any(|meta| meta.listens_to(event_source, event_name))
}

/// A real-shaped example finding of a rule, from its slice.
pub fn example(meta: &RuleMeta) -> Option<crate::services::Example> {
    registered_services()
        .find(|service| service.rules().iter().any(|rule| rule.id == meta.id))
        .map(|service| service.example(meta))
}

/// Registry metadata as JSON, for `snapback rules --json` and generated documents.
pub fn describe(meta: &RuleMeta) -> Value {
    serde_json::json!({
        "id": meta.id,
        "title": meta.title,
        "severity": meta.severity,
        "default_mode": meta.default_mode,
        "function": function_of(meta.id).map(|function| function.name),
        "judges_state": meta.changes_only.is_none(),
        "rationale": meta.rationale,
        "manual_fix": meta.manual_fix,
        "events": meta.events.iter().map(|key| format!("{}:{}", key.source, key.name)).collect::<Vec<_>>(),
        "iam_actions": meta.iam_actions,
        "options": option_docs(meta).into_iter().map(|(name, description, default)| serde_json::json!({
            "name": name, "description": description, "default": default,
        })).collect::<Vec<_>>(),
    })
}

/// (name, description, default) of each of a rule's options.
pub fn option_docs(meta: &RuleMeta) -> Vec<(&'static str, &'static str, Value)> {
    let defaults = (meta.options.defaults)().to_value();
    meta.options.docs.iter().map(|doc| (doc.name, doc.description, defaults[doc.name].clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn rule_ids_are_unique_kebab_case_and_fully_described() {
        let mut seen = BTreeSet::new();
        for meta in registry() {
            assert!(seen.insert(meta.id), "duplicate rule id {}", meta.id);
            assert!(meta.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{}", meta.id);
            for text in [meta.title, meta.rationale, meta.manual_fix] {
                assert!(!text.trim().is_empty(), "{} lacks a description", meta.id);
            }
            assert!(!meta.events.is_empty(), "{} listens to nothing", meta.id);
            assert!(meta.iam_actions.iter().all(|action| action.contains(':')), "{}", meta.id);
            let defaults = (meta.options.defaults)().to_value();
            let mut documented: Vec<&str> = meta.options.docs.iter().map(|doc| doc.name).collect();
            let mut declared: Vec<&str> = defaults.as_object().unwrap().keys().map(String::as_str).collect();
            documented.sort();
            declared.sort();
            assert_eq!(documented, declared, "{}: every option documented, nothing else", meta.id);
            assert!((meta.options.read)(defaults.clone()).is_ok(), "{}: the defaults read back", meta.id);
            let judged = registered_services().any(|service| service.judges_state(meta.id));
            assert_eq!(judged, meta.changes_only.is_none(), "{}: changes_only says whether sweeps judge it", meta.id);
        }
    }

    #[test]
    fn every_slice_is_hosted_by_exactly_one_function() {
        let mut seen = BTreeSet::new();
        for service in services() {
            assert!(seen.insert(service.name()), "{} is hosted twice", service.name());
        }
        assert_eq!(seen, BTreeSet::from(["ecr", "eks", "node", "security-groups", "watchdog"]));
        for service in UNHOSTED {
            assert!(seen.insert(service.name()), "{} is both hosted and unhosted, or listed twice", service.name());
            for meta in service.rules() {
                assert!(function_of(meta.id).is_none(), "{} has a function", meta.id);
                assert!(rule(meta.id).is_some(), "{} is registered", meta.id);
            }
        }
    }
}
