//! `instance-imdsv1`: a node launched, or changed, with IMDSv1 allowed (HttpTokens optional).

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::node::{InstanceMetadata, NodeAction, NodeChange, NodeState, INSTANCE};

pub static RULE: Rule<NodeChange, NodeState> = Rule {
    meta: RuleMeta {
        id: "instance-imdsv1",
        title: "Node allows IMDSv1",
        severity: Severity::High,
        default_mode: Mode::Remediate,
        rationale: "IMDSv1 answers any request that reaches 169.254.169.254: one server-side request forgery in a \
                    pod hands out the node role's credentials. IMDSv2's session tokens stop that.",
        manual_fix: "aws ec2 modify-instance-metadata-options --instance-id <instance> --http-tokens required, and \
                     require tokens in the node group's launch template",
        events: super::super::INSTANCE_METADATA_EVENTS,
        // Describe the instance (tags: is it a node?), then restore.
        iam_actions: &["ec2:DescribeInstances", "ec2:ModifyInstanceMetadataOptions"],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The instance as it is, read as its launch.
    check_state: Some(|meta, instance, config| check_change(meta, &instance.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &NodeChange, _config: &Config) -> Option<Finding> {
    let NodeChange::Instance(InstanceMetadata { instance_id, options, launched }) = change else { return None };
    if !options.allows_v1() {
        return None;
    }
    let changed = if *launched {
        "launched with IMDSv1 allowed (HttpTokens optional)"
    } else {
        "IMDSv1 allowed (HttpTokens set to optional)"
    };
    let action =
        NodeAction::UpdateInstanceMetadata { instance_id: instance_id.clone(), require_tokens: true, hop_limit: None };
    Some(super::super::restore_finding(meta, &INSTANCE, instance_id, vec![changed.to_owned()], vec![action]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::node::{HttpTokens, InstanceState, MetadataOptions, NodeState};
    use crate::services::test_support::*;
    use crate::Config;

    fn launched(tokens: &str, hops: i64) -> serde_json::Value {
        json!({"instanceId": format!("i-{tokens}"), "instanceType": "m6i.large", "tagSet": {"items": [{"key": "eks:cluster-name", "value": "prod"}]},
               "metadataOptions": {"state": "pending", "httpTokens": tokens, "httpPutResponseHopLimit": hops, "httpEndpoint": "enabled",
                                   "httpProtocolIpv4": "enabled", "httpProtocolIpv6": "disabled", "instanceMetadataTags": "disabled"}})
    }

    fn run(instances: Vec<serde_json::Value>) -> serde_json::Value {
        ec2(
            "RunInstances",
            json!({"instancesSet": {"items": [{"minCount": 1, "maxCount": 2}]}, "launchTemplate": {"launchTemplateId": "lt-1", "version": "4"}}),
            json!({"reservationId": "r-1", "ownerId": "111122223333", "groupSet": {}, "instancesSet": {"items": instances}}),
        )
    }

    #[test]
    fn every_instance_launched_with_optional_tokens_gets_its_own_finding_and_restore() {
        let found = findings(&run(vec![launched("optional", 1), launched("required", 1)]), &Config::default());
        assert_eq!(plans(&found), ["instance-imdsv1 i-optional: require IMDSv2 tokens on instance i-optional"]);
        assert_eq!(found[0].changed, ["launched with IMDSv1 allowed (HttpTokens optional)"]);
        let mut second = launched("optional", 1);
        second["instanceId"] = json!("i-second");
        let both = findings(&run(vec![launched("optional", 1), second]), &Config::default());
        assert_eq!(both.iter().map(|f| f.resource.as_str()).collect::<Vec<_>>(), ["i-optional", "i-second"]);
    }

    #[test]
    fn setting_tokens_optional_is_caught_and_requiring_them_is_not() {
        let modify = |tokens: &str| {
            ec2(
                "ModifyInstanceMetadataOptions",
                json!({"ModifyInstanceMetadataOptionsRequest": {"HttpTokens": tokens, "InstanceId": "i-1"}}),
                json!({"ModifyInstanceMetadataOptionsResponse": {"requestId": "r", "instanceId": "i-1"}}),
            )
        };
        let found = findings(&modify("optional"), &Config::default());
        assert_eq!(plans(&found), ["instance-imdsv1 i-1: require IMDSv2 tokens on instance i-1"]);
        assert_eq!(found[0].changed, ["IMDSv1 allowed (HttpTokens set to optional)"]);
        assert!(findings(&modify("required"), &Config::default()).is_empty());
    }

    #[test]
    fn a_node_allowing_imdsv1_gets_the_verdict_of_its_launch_unless_its_endpoint_is_off() {
        let node = |endpoint_enabled| {
            NodeState::Instance(InstanceState {
                instance_id: "i-optional".into(),
                metadata: MetadataOptions {
                    http_tokens: Some(HttpTokens::Optional),
                    hop_limit: Some(1),
                    endpoint_enabled,
                },
                ..InstanceState::default()
            })
        };
        let launch = findings(&run(vec![launched("optional", 1)]), &Config::default());
        assert_eq!(plans(&state_findings(&node(Some(true)), &Config::default())), plans(&launch));
        assert!(state_findings(&node(Some(false)), &Config::default()).is_empty());
    }

    #[test]
    fn a_launch_finding_needs_no_confirmation_from_the_look_up() {
        let found = findings(&run(vec![launched("optional", 1)]), &Config::default());
        let since_fixed = NodeState::Instance(InstanceState {
            instance_id: "i-optional".into(),
            metadata: MetadataOptions { http_tokens: Some(HttpTokens::Required), ..MetadataOptions::default() },
            ..InstanceState::default()
        });
        assert!(!found[0].kind.confirmed_by_look_up);
        assert_eq!(crate::services::confirm(&found[0], &since_fixed, &Config::default()).as_ref(), Some(&found[0]));
    }

    #[test]
    fn garbled_metadata_options_make_the_record_unreadable() {
        let mut garbled = launched("optional", 1);
        garbled["metadataOptions"]["httpTokens"] = json!(["optional"]);
        assert!(unreadable(&run(vec![garbled])).unwrap().contains("httpTokens"));
        let no_id = json!({"metadataOptions": {"httpTokens": "optional"}});
        assert!(unreadable(&run(vec![no_id])).unwrap().contains("without instanceId"));
    }
}
