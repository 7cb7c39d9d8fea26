//! `instance-imds-hop-limit`: a node whose IMDS hop limit lets containers reach the metadata
//! service through the node's network stack.

use serde::{Deserialize, Serialize};

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::{read, OptionDoc, OptionsSpec};
use crate::registry::{Rule, RuleMeta};
use crate::services::node::{InstanceMetadata, NodeAction, NodeChange, NodeState, INSTANCE};

pub static RULE: Rule<NodeChange, NodeState> = Rule {
    meta: RuleMeta {
        id: "instance-imds-hop-limit",
        title: "Node IMDS hop limit above the allowed maximum",
        severity: Severity::Medium,
        default_mode: Mode::Notify,
        rationale: "With a hop limit above 1, IMDS answers pods on the node's network through the extra hop: every \
                    pod can take the node role's credentials, unless it is meant to (then raise max_hop_limit).",
        manual_fix:
            "aws ec2 modify-instance-metadata-options --instance-id <instance> --http-put-response-hop-limit 1, \
                     and give pods their own role (EKS Pod Identity or IRSA)",
        events: super::super::INSTANCE_METADATA_EVENTS,
        iam_actions: &["ec2:DescribeInstances", "ec2:ModifyInstanceMetadataOptions"],
        options: OptionsSpec {
            docs: &[OptionDoc {
                name: "max_hop_limit",
                description: "the highest HttpPutResponseHopLimit a node may have (1-64); the restore sets it",
            }],
            defaults: || Box::new(HopLimitOptions { max_hop_limit: HopLimit(1) }),
            read: read::<HopLimitOptions>,
        },
        changes_only: None,
    },
    check_change,
    // The instance as it is, read as its launch.
    check_state: Some(|meta, instance, config| check_change(meta, &instance.as_change(), config)),
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HopLimitOptions {
    pub max_hop_limit: HopLimit,
}

/// An IMDS hop limit the API accepts: 1-64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value", into = "u8")]
pub struct HopLimit(pub u8);

impl TryFrom<serde_json::Value> for HopLimit {
    type Error = String;
    fn try_from(value: serde_json::Value) -> Result<HopLimit, String> {
        value
            .as_u64()
            .filter(|hops| (1..=64).contains(hops))
            .map(|hops| HopLimit(hops as u8))
            .ok_or_else(|| format!("expected a hop limit 1-64, got {value}"))
    }
}

impl From<HopLimit> for u8 {
    fn from(limit: HopLimit) -> u8 {
        limit.0
    }
}

fn check_change(meta: &'static RuleMeta, change: &NodeChange, config: &Config) -> Option<Finding> {
    let NodeChange::Instance(InstanceMetadata { instance_id, options, launched }) = change else { return None };
    let max = i64::from(config.options::<HopLimitOptions>(meta).max_hop_limit.0);
    let hops = options.hop_limit_above(max)?;
    let changed = if *launched {
        format!("launched with IMDS hop limit {hops} (above {max})")
    } else {
        format!("IMDS hop limit set to {hops} (above {max})")
    };
    let action = NodeAction::UpdateInstanceMetadata {
        instance_id: instance_id.clone(),
        require_tokens: false,
        hop_limit: Some(max),
    };
    Some(super::super::restore_finding(meta, &INSTANCE, instance_id, vec![changed], vec![action]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::node::{InstanceState, MetadataOptions, NodeState};
    use crate::services::test_support::*;
    use crate::Config;

    fn modify(body: serde_json::Value) -> serde_json::Value {
        ec2("ModifyInstanceMetadataOptions", json!({"ModifyInstanceMetadataOptionsRequest": body}), json!({}))
    }

    #[test]
    fn a_hop_limit_above_the_maximum_is_caught_and_its_plan_merges_with_the_tokens_restore() {
        let record = modify(json!({"InstanceId": "i-1", "HttpTokens": "optional", "HttpPutResponseHopLimit": 2}));
        let found = findings(&record, &Config::default());
        assert_eq!(
            plans(&found),
            [
                "instance-imdsv1 i-1: require IMDSv2 tokens on instance i-1",
                "instance-imds-hop-limit i-1: set the IMDS hop limit to 1 on instance i-1",
            ]
        );
        assert_eq!(found[1].changed, ["IMDS hop limit set to 2 (above 1)"]);
        let mut merged = found[0].plan.actions[0].clone();
        assert!(merged.absorb(&found[1].plan.actions[0]));
        assert_eq!(merged.describe(), "require IMDSv2 tokens and set the IMDS hop limit to 1 on instance i-1");
    }

    #[test]
    fn max_hop_limit_raises_the_bar_and_is_validated() {
        let config = Config::from_json(r#"{"rules": {"instance-imds-hop-limit": {"max_hop_limit": 2}}}"#).unwrap();
        let two = modify(json!({"InstanceId": "i-1", "HttpPutResponseHopLimit": "2"}));
        assert!(findings(&two, &config).is_empty());
        let three = modify(json!({"InstanceId": "i-1", "HttpPutResponseHopLimit": 3}));
        assert_eq!(
            plans(&findings(&three, &config)),
            ["instance-imds-hop-limit i-1: set the IMDS hop limit to 2 on instance i-1"]
        );
        for bad in ["0", "65", "\"1\"", "1.5"] {
            let error = Config::from_json(&format!(
                r#"{{"rules": {{"instance-imds-hop-limit": {{"max_hop_limit": {bad}}}}}}}"#
            ))
            .unwrap_err();
            assert_eq!(error.field, "rules.instance-imds-hop-limit.max_hop_limit", "{bad}");
        }
    }

    #[test]
    fn a_node_with_a_high_hop_limit_is_reported_as_it_is() {
        let node = NodeState::Instance(InstanceState {
            instance_id: "i-1".into(),
            metadata: MetadataOptions { hop_limit: Some(2), ..MetadataOptions::default() },
            ..InstanceState::default()
        });
        assert_eq!(
            plans(&state_findings(&node, &Config::default())),
            ["instance-imds-hop-limit i-1: set the IMDS hop limit to 1 on instance i-1"]
        );
    }

    #[test]
    fn a_hop_limit_that_is_not_a_number_is_unreadable() {
        let record = modify(json!({"InstanceId": "i-1", "HttpPutResponseHopLimit": "two"}));
        assert!(unreadable(&record).unwrap().contains("HttpPutResponseHopLimit"));
    }
}
