//! `imds-defaults-weakened`: the account's instance metadata defaults no longer require IMDSv2
//! tokens for new instances.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::node::{
    HttpTokens, MetadataDefaults, NodeAction, NodeChange, NodeState, ACCOUNT_SETTING, INSTANCE_METADATA_DEFAULTS,
};

pub static RULE: Rule<NodeChange, NodeState> = Rule {
    meta: RuleMeta {
        id: "imds-defaults-weakened",
        title: "Account IMDS defaults do not require IMDSv2",
        severity: Severity::Medium,
        default_mode: Mode::Remediate,
        rationale: "The account default is what every instance gets when its AMI and its launch say nothing: \
                    without tokens required there, new nodes quietly allow IMDSv1.",
        manual_fix: "aws ec2 modify-instance-metadata-defaults --http-tokens required (in each region)",
        events: &[super::super::ec2("ModifyInstanceMetadataDefaults")],
        iam_actions: &["ec2:GetInstanceMetadataDefaults", "ec2:ModifyInstanceMetadataDefaults"],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The defaults as they are, read as the call that set them (unset: no-preference).
    check_state: Some(|meta, defaults, config| check_change(meta, &defaults.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &NodeChange, _config: &Config) -> Option<Finding> {
    let NodeChange::MetadataDefaults(MetadataDefaults { http_tokens: Some(tokens), .. }) = change else {
        return None;
    };
    if *tokens == HttpTokens::Required {
        return None;
    }
    let changed = vec![format!("account default HttpTokens set to {}", tokens.as_str())];
    let resource = INSTANCE_METADATA_DEFAULTS;
    Some(super::super::restore_finding(
        meta,
        &ACCOUNT_SETTING,
        resource,
        changed,
        vec![NodeAction::RequireDefaultTokens],
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::node::{HttpTokens, MetadataDefaults, NodeState};
    use crate::services::test_support::*;
    use crate::Config;

    fn modify(body: serde_json::Value) -> serde_json::Value {
        ec2(
            "ModifyInstanceMetadataDefaults",
            json!({"ModifyInstanceMetadataDefaultsRequest": body}),
            json!({"ModifyInstanceMetadataDefaultsResponse": {"return": true}}),
        )
    }

    #[test]
    fn optional_or_no_preference_is_restored_in_every_scope() {
        for tokens in ["optional", "no-preference"] {
            let found =
                findings(&modify(json!({"HttpTokens": tokens, "HttpPutResponseHopLimit": 2})), &Config::default());
            assert_eq!(
                plans(&found),
                ["imds-defaults-weakened instance-metadata-defaults: require IMDSv2 tokens in the account's instance metadata defaults"]
            );
            assert_eq!(found[0].changed, [format!("account default HttpTokens set to {tokens}")]);
            assert!(!found[0].kind.scoped_by_cluster);
        }
        assert!(findings(&modify(json!({"HttpTokens": "required"})), &Config::default()).is_empty());
        assert!(
            findings(&modify(json!({"HttpPutResponseHopLimit": 1})), &Config::default()).is_empty(),
            "tokens untouched"
        );
    }

    #[test]
    fn defaults_that_leave_tokens_unset_are_reported_as_they_are() {
        let unset = NodeState::MetadataDefaults(MetadataDefaults::default());
        let required =
            NodeState::MetadataDefaults(MetadataDefaults { http_tokens: Some(HttpTokens::Required), hop_limit: None });
        let found = state_findings(&unset, &Config::default());
        assert_eq!(found[0].changed, ["account default HttpTokens set to no-preference"]);
        assert_eq!(
            plans(&found),
            plans(&findings(&modify(json!({"HttpTokens": "no-preference"})), &Config::default()))
        );
        assert!(state_findings(&required, &Config::default()).is_empty());
    }

    #[test]
    fn a_request_that_is_not_an_object_is_unreadable() {
        let record = ec2("ModifyInstanceMetadataDefaults", json!(["optional"]), json!(null));
        assert!(crate::Event::from_value(&record).is_err(), "refused whole, before any rule");
        assert!(unreadable(&modify(json!({"HttpTokens": 0}))).unwrap().contains("HttpTokens"));
    }
}
