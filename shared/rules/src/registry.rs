//! The rule registry: the one list every consumer (evaluation, `snapback rules`, RULES.md, the
//! EventBridge patterns and IAM actions) reads, so they cannot drift apart.

use std::fmt;

use serde_json::Value;

use crate::config::{Config, Mode, OptionValue};
use crate::eks::EksChange;
use crate::event::Event;
use crate::finding::{Finding, Severity};
use crate::rules;
use crate::security_group::SecurityGroupChange;

/// An (eventSource, eventName) pair a rule listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    pub source: &'static str,
    pub name: &'static str,
}

/// A rule option and its compiled-in default.
#[derive(Debug)]
pub struct OptionSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub default: OptionDefault,
}

#[derive(Debug)]
pub enum OptionDefault {
    Ports(&'static [u16]),
    /// A list of CIDRs; none may be a /0.
    Cidrs(&'static [&'static str]),
    Strings(&'static [&'static str]),
    Text(&'static str),
}

impl OptionDefault {
    pub fn value(&self) -> OptionValue {
        match self {
            OptionDefault::Ports(ports) => OptionValue::Ports(ports.to_vec()),
            OptionDefault::Cidrs(list) | OptionDefault::Strings(list) => {
                OptionValue::Strings(list.iter().map(|s| (*s).to_owned()).collect())
            }
            OptionDefault::Text(text) => OptionValue::Text((*text).to_owned()),
        }
    }
}

/// What an event is about, parsed once and shared by every rule that listens to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    SecurityGroup(SecurityGroupChange),
    Eks(EksChange),
}

impl Subject {
    pub fn of(event: &Event) -> Option<Subject> {
        SecurityGroupChange::from_event(event)
            .map(Subject::SecurityGroup)
            .or_else(|| EksChange::from_event(event).map(Subject::Eks))
    }
}

/// A rule: its metadata and its evaluation.
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
    /// The function that handles this rule's events (`sg-guard`, `eks-guard`).
    pub function: &'static str,
    pub options: &'static [OptionSpec],
    pub evaluate: fn(&'static RuleMeta, &Subject, &Config) -> Option<Finding>,
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

static REGISTRY: &[&RuleMeta] = &[
    &rules::sg_open_remote_admin::RULE,
    &rules::sg_open_kubelet::RULE,
    &rules::sg_open_k8s_api::RULE,
    &rules::sg_open_all_traffic::RULE,
    &rules::eks_public_endpoint::RULE,
    &rules::eks_public_endpoint_open_cidr::RULE,
    &rules::eks_private_endpoint_disabled::RULE,
    &rules::eks_control_plane_logging_disabled::RULE,
    &rules::eks_secrets_encryption_missing::RULE,
    &rules::eks_nodegroup_ssh_open::RULE,
    &rules::eks_cluster_admin_access_entry::RULE,
];

pub fn registry() -> &'static [&'static RuleMeta] {
    REGISTRY
}

pub fn rule(id: &str) -> Option<&'static RuleMeta> {
    REGISTRY.iter().copied().find(|meta| meta.id == id)
}

/// Does any rule listen to this eventSource/eventName?
pub fn listens_to(event_source: &str, event_name: &str) -> bool {
    REGISTRY.iter().any(|meta| meta.listens_to(event_source, event_name))
}

/// Every finding the enabled rules report for this event, in registry order.
pub fn evaluate(event: &Event, config: &Config) -> Vec<Finding> {
    let Some(subject) = Subject::of(event) else { return Vec::new() };
    REGISTRY
        .iter()
        .filter(|meta| meta.listens_to(&event.event_source, &event.event_name))
        .filter(|meta| config.mode(meta.id) != Mode::Off)
        .filter_map(|meta| (meta.evaluate)(meta, &subject, config))
        .collect()
}

/// Registry metadata as JSON, for `snapback rules --json` and generated documents.
pub fn describe(meta: &RuleMeta) -> Value {
    serde_json::json!({
        "id": meta.id,
        "title": meta.title,
        "severity": meta.severity,
        "default_mode": meta.default_mode,
        "rationale": meta.rationale,
        "manual_fix": meta.manual_fix,
        "events": meta.events.iter().map(|key| format!("{}:{}", key.source, key.name)).collect::<Vec<_>>(),
        "iam_actions": meta.iam_actions,
        "options": meta.options.iter().map(|spec| serde_json::json!({
            "name": spec.name, "description": spec.description, "default": spec.default.value(),
        })).collect::<Vec<_>>(),
    })
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
        }
    }
}
