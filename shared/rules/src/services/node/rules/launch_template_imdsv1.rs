//! `launch-template-imdsv1`: a node launch template version that does not require IMDSv2 tokens.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::node::{HttpTokens, NodeAction, NodeChange, NodeState, LAUNCH_TEMPLATE};

pub static RULE: Rule<NodeChange, NodeState> = Rule {
    meta: RuleMeta {
        id: "launch-template-imdsv1",
        title: "Node launch template allows IMDSv1",
        severity: Severity::Medium,
        default_mode: Mode::Notify,
        rationale: "Every node launched from the template answers IMDSv1, so fixing running nodes one by one never \
                    ends. A new template version changes no running node: they take it at their node group's next \
                    update.",
        manual_fix:
            "aws ec2 create-launch-template-version --launch-template-id <template> --source-version <version> \
                     --launch-template-data '{\"MetadataOptions\":{\"HttpTokens\":\"required\"}}', make it the default \
                     if the old one was, then update the node group to the new version",
        events: super::super::LAUNCH_TEMPLATE_EVENTS,
        iam_actions: &[
            "ec2:DescribeLaunchTemplates",
            "ec2:DescribeLaunchTemplateVersions",
            "ec2:CreateLaunchTemplateVersion",
            "ec2:ModifyLaunchTemplate",
            "eks:ListClusters",
            "eks:ListNodegroups",
            "eks:DescribeNodegroup",
        ],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The template as it is: its default version, read as the call that made it.
    check_state: Some(|meta, template, config| check_change(meta, &template.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &NodeChange, _config: &Config) -> Option<Finding> {
    let NodeChange::LaunchTemplate(made) = change else { return None };
    if made.tokens_not_required() != Some(true) {
        return None;
    }
    let version = made.version.as_deref().map_or_else(|| "the new version".to_owned(), |v| format!("version {v}"));
    let changed = match &made.metadata.http_tokens {
        Some(HttpTokens::Optional) => format!("{version} allows IMDSv1 (HttpTokens optional)"),
        Some(other) => format!("{version} does not require IMDSv2 tokens (HttpTokens {})", other.as_str()),
        None => format!(
            "{version} does not require IMDSv2 tokens (HttpTokens not set: IMDSv1 unless the AMI or the account \
             default requires tokens)"
        ),
    };
    let resource = made.resource();
    let Some(source_version) = made.version.clone() else {
        let manual = format!("the record does not say which version was made: {}", meta.manual_fix);
        return Some(super::super::manual_finding(meta, &LAUNCH_TEMPLATE, resource, vec![changed], manual));
    };
    let action = NodeAction::RequireTemplateTokens {
        template: resource.to_owned(),
        source_version,
        // Only the default version launches nodes that ask for `$Default`: never promote a new one.
        make_default: made.is_default,
    };
    Some(super::super::restore_finding(meta, &LAUNCH_TEMPLATE, resource, vec![changed], vec![action]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::node::{HttpTokens, LaunchTemplateState, MetadataOptions, NodeState};
    use crate::services::test_support::*;
    use crate::Config;

    fn create(metadata: serde_json::Value) -> serde_json::Value {
        ec2(
            "CreateLaunchTemplate",
            json!({"CreateLaunchTemplateRequest": {"LaunchTemplateName": "shop-nodes", "ClientToken": "t-1",
                   "LaunchTemplateData": {"InstanceType": "m6i.large", "MetadataOptions": metadata}}}),
            json!({"CreateLaunchTemplateResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "requestId": "r",
                   "launchTemplate": {"launchTemplateId": "lt-0a", "launchTemplateName": "shop-nodes", "defaultVersionNumber": 1, "latestVersionNumber": 1}}}),
        )
    }

    fn new_version(data: serde_json::Value, default: bool) -> serde_json::Value {
        ec2(
            "CreateLaunchTemplateVersion",
            json!({"CreateLaunchTemplateVersionRequest": {"LaunchTemplateId": "lt-0a", "LaunchTemplateData": data}}),
            json!({"CreateLaunchTemplateVersionResponse": {"launchTemplateVersion": {"launchTemplateId": "lt-0a", "versionNumber": 5, "defaultVersion": default}}}),
        )
    }

    #[test]
    fn a_new_template_with_optional_tokens_gets_a_required_version_made_default() {
        let found = findings(&create(json!({"HttpTokens": "optional"})), &Config::default());
        assert_eq!(
            plans(&found),
            ["launch-template-imdsv1 lt-0a: create a version of launch template lt-0a from version 1 with IMDSv2 tokens \
              required and make it the default (running nodes change at their node group's next update to it)"]
        );
        assert_eq!(found[0].changed, ["version 1 allows IMDSv1 (HttpTokens optional)"]);
        assert!(findings(&create(json!({"HttpTokens": "required", "HttpPutResponseHopLimit": 2})), &Config::default())
            .is_empty());
    }

    #[test]
    fn a_non_default_version_is_fixed_without_promoting_the_fix() {
        let found = findings(&new_version(json!({"ImageId": "ami-1"}), false), &Config::default());
        assert_eq!(
            plans(&found),
            ["launch-template-imdsv1 lt-0a: create a version of launch template lt-0a from version 5 with IMDSv2 tokens \
              required (running nodes change at their node group's next update to it)"]
        );
        assert!(found[0].changed[0].contains("HttpTokens not set"));
        let inherited = new_version(json!({"ImageId": "ami-1"}), false);
        let mut inherited = inherited;
        inherited["requestParameters"]["CreateLaunchTemplateVersionRequest"]["SourceVersion"] = json!("4");
        assert!(findings(&inherited, &Config::default()).is_empty(), "its metadata options come from version 4");
        let off = new_version(json!({"MetadataOptions": {"HttpTokens": "optional", "HttpEndpoint": "disabled"}}), true);
        assert!(findings(&off, &Config::default()).is_empty(), "no metadata service at all");
    }

    #[test]
    fn a_version_the_record_does_not_number_gets_the_fix_by_hand() {
        let record = ec2(
            "CreateLaunchTemplateVersion",
            json!({"CreateLaunchTemplateVersionRequest": {"LaunchTemplateName": "shop-nodes", "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "optional"}}}}),
            json!(null),
        );
        let found = findings(&record, &Config::default());
        assert_eq!(found[0].resource, "shop-nodes");
        assert!(found[0].plan.manual.as_deref().unwrap().starts_with("the record does not say which version"));
    }

    #[test]
    fn a_template_whose_default_version_allows_imdsv1_gets_the_verdict_of_its_creation() {
        let template = |tokens| {
            NodeState::LaunchTemplate(LaunchTemplateState {
                template_id: "lt-0a".into(),
                template_name: Some("shop-nodes".into()),
                default_version: "1".into(),
                metadata: MetadataOptions { http_tokens: tokens, ..MetadataOptions::default() },
                ..LaunchTemplateState::default()
            })
        };
        let created = findings(&create(json!({"HttpTokens": "optional"})), &Config::default());
        assert_eq!(plans(&state_findings(&template(Some(HttpTokens::Optional)), &Config::default())), plans(&created));
        assert!(state_findings(&template(Some(HttpTokens::Required)), &Config::default()).is_empty());
    }

    #[test]
    fn garbled_metadata_options_are_unreadable() {
        assert!(unreadable(&create(json!("optional"))).unwrap().contains("MetadataOptions"));
        assert!(unreadable(&create(json!({"HttpTokens": true}))).unwrap().contains("HttpTokens"));
    }
}
