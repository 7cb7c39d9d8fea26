//! The deployment manifest, generated from the registry: per function its EventBridge event
//! patterns and IAM actions, and every rule's id, severity and default mode. Terraform reads the
//! committed copy (`infra/modules/snapback/manifest.json`), so code and infrastructure cannot
//! drift apart.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::event::CLOUDTRAIL_DETAIL_TYPE;
use crate::registry::registry;

/// snapback's roles are named with this prefix; their own calls are left out of the patterns.
pub const OWN_ROLE_PREFIX: &str = "snapback-";

/// What each function needs beyond its rules' actions: publishing alerts to the (KMS-encrypted)
/// topic and reading the config parameter; the relay reads its webhook secret.
const FUNCTION_ACTIONS: &[(&str, &[&str])] = &[
    ("sg-guard", &["sns:Publish", "ssm:GetParameter", "kms:Decrypt", "kms:GenerateDataKey"]),
    ("eks-guard", &["sns:Publish", "ssm:GetParameter", "kms:Decrypt", "kms:GenerateDataKey"]),
    ("slack-notifier", &["secretsmanager:GetSecretValue", "kms:Decrypt"]),
];

/// The EventBridge `source` of a CloudTrail eventSource: `ec2.amazonaws.com` → `aws.ec2`.
fn bus_source(event_source: &str) -> String {
    format!("aws.{}", event_source.split('.').next().unwrap_or(event_source))
}

/// One pattern per event source. EventBridge matches a pattern only when every field it names is
/// present, so the exclusion of snapback's own roles is an `$or` with "no session issuer" (IAM
/// users, the root user and AWS services have none); the code's own-principal guard stays as
/// the second layer.
fn patterns(events: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<Value> {
    events
        .iter()
        .map(|(event_source, names)| {
            json!({
                "source": [bus_source(event_source)],
                "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
                "detail": {
                    "eventSource": [event_source],
                    "eventName": names,
                    "errorCode": [{"exists": false}],
                    "$or": [
                        {"userIdentity": {"sessionContext": {"sessionIssuer": {"userName": [{"anything-but": {"prefix": OWN_ROLE_PREFIX}}]}}}},
                        {"userIdentity": {"sessionContext": {"sessionIssuer": {"userName": [{"exists": false}]}}}}
                    ]
                }
            })
        })
        .collect()
}

pub fn manifest() -> Value {
    let mut functions = serde_json::Map::new();
    for (function, base_actions) in FUNCTION_ACTIONS {
        let rules: Vec<_> = registry().iter().filter(|meta| meta.function == *function).collect();
        let mut events: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut actions: BTreeSet<&str> = base_actions.iter().copied().collect();
        for meta in &rules {
            for key in meta.events {
                events.entry(key.source).or_default().insert(key.name);
            }
            actions.extend(meta.iam_actions.iter().copied());
        }
        functions.insert(
            (*function).to_owned(),
            json!({
                "event_patterns": patterns(&events),
                "iam_actions": actions,
                "rules": rules.iter().map(|meta| meta.id).collect::<Vec<_>>(),
            }),
        );
    }
    json!({
        "own_role_prefix": OWN_ROLE_PREFIX,
        "functions": functions,
        "rules": registry().iter().map(|meta| json!({
            "id": meta.id, "severity": meta.severity, "default_mode": meta.default_mode, "function": meta.function,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_belongs_to_a_function_with_a_pattern_and_its_actions() {
        let manifest = manifest();
        for meta in registry() {
            let function = &manifest["functions"][meta.function];
            assert!(function.is_object(), "{} names unknown function {}", meta.id, meta.function);
            let actions = function["iam_actions"].to_string();
            for action in meta.iam_actions {
                assert!(actions.contains(action), "{}: {action}", meta.id);
            }
            let patterns = function["event_patterns"].to_string();
            for key in meta.events {
                assert!(patterns.contains(key.name) && patterns.contains(key.source), "{}: {key:?}", meta.id);
            }
        }
        assert_eq!(manifest["functions"]["slack-notifier"]["event_patterns"], json!([]));
    }
}
