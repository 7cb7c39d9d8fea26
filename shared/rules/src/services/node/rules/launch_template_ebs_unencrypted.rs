//! `launch-template-ebs-unencrypted`: a node launch template version with an EBS volume that
//! asks not to be encrypted.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::node::{NodeChange, NodeState, LAUNCH_TEMPLATE};

pub static RULE: Rule<NodeChange, NodeState> = Rule {
    meta: RuleMeta {
        id: "launch-template-ebs-unencrypted",
        title: "Node launch template with an unencrypted EBS volume",
        severity: Severity::Medium,
        default_mode: Mode::Notify,
        rationale: "Node volumes hold container images, logs, emptyDir data and sometimes secrets; unencrypted, \
                    they and every snapshot of them can be read by whoever gets hold of a copy. (A volume that does \
                    not say is encrypted when the account encrypts by default: ebs-default-encryption-disabled \
                    guards that.)",
        manual_fix:
            "aws ec2 create-launch-template-version --launch-template-id <template> --source-version <version> \
                     with Encrypted true on every EBS block device mapping, make it the default, then update the node \
                     group to it",
        events: super::super::LAUNCH_TEMPLATE_EVENTS,
        iam_actions: super::super::LAUNCH_TEMPLATE_LOOK_UP,
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The template as it is: its default version, read as the call that made it.
    check_state: Some(|meta, template, config| check_change(meta, &template.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &NodeChange, _config: &Config) -> Option<Finding> {
    let NodeChange::LaunchTemplate(made) = change else { return None };
    let unencrypted: Vec<&str> = made
        .block_devices
        .iter()
        .filter(|device| device.encrypted == Some(false))
        .map(|device| device.device_name.as_deref().unwrap_or("a device"))
        .collect();
    if unencrypted.is_empty() {
        return None;
    }
    let version = made.version.as_deref().map_or_else(|| "the new version".to_owned(), |v| format!("version {v}"));
    let changed = vec![format!("{version} has unencrypted EBS volumes ({}, Encrypted false)", unencrypted.join(", "))];
    let manual = format!("{} (launch template {})", meta.manual_fix, made.resource());
    Some(super::super::manual_finding(meta, &LAUNCH_TEMPLATE, made.resource(), changed, manual))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::node::{BlockDevice, HttpTokens, LaunchTemplateState, MetadataOptions, NodeState};
    use crate::services::test_support::*;
    use crate::Config;

    fn create(mappings: serde_json::Value) -> serde_json::Value {
        ec2(
            "CreateLaunchTemplate",
            json!({"CreateLaunchTemplateRequest": {"LaunchTemplateName": "shop-nodes",
                   "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}, "BlockDeviceMapping": mappings}}}),
            json!({"CreateLaunchTemplateResponse": {"launchTemplate": {"launchTemplateId": "lt-0a", "launchTemplateName": "shop-nodes"}}}),
        )
    }

    #[test]
    fn a_volume_asking_not_to_be_encrypted_is_reported_with_the_fix() {
        let mappings = json!([
            {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 80, "Encrypted": "false"}, "tag": 1},
            {"DeviceName": "/dev/xvdb", "Ebs": {"VolumeSize": 80, "Encrypted": true}, "tag": 2},
            {"DeviceName": "/dev/xvdc", "VirtualName": "ephemeral0", "tag": 3}
        ]);
        let found = findings(&create(mappings), &Config::default());
        assert_eq!(rule_ids(&found), ["launch-template-ebs-unencrypted"]);
        assert_eq!(found[0].changed, ["version 1 has unencrypted EBS volumes (/dev/xvda, Encrypted false)"]);
        assert!(found[0].plan.actions.is_empty());
        assert!(found[0].plan.manual.as_deref().unwrap().ends_with("(launch template lt-0a)"));
    }

    #[test]
    fn a_volume_that_does_not_say_is_left_to_the_account_default() {
        let single = json!({"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 80}, "tag": 1});
        assert!(findings(&create(single), &Config::default()).is_empty());
    }

    #[test]
    fn a_default_version_with_an_unencrypted_volume_is_reported_as_it_is() {
        let template = NodeState::LaunchTemplate(LaunchTemplateState {
            template_id: "lt-0a".into(),
            default_version: "1".into(),
            metadata: MetadataOptions { http_tokens: Some(HttpTokens::Required), ..MetadataOptions::default() },
            block_devices: vec![BlockDevice { device_name: Some("/dev/xvda".into()), encrypted: Some(false) }],
            ..LaunchTemplateState::default()
        });
        let created =
            findings(&create(json!({"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": false}})), &Config::default());
        assert_eq!(plans(&state_findings(&template, &Config::default())), plans(&created));
    }

    #[test]
    fn an_encrypted_flag_that_is_not_a_boolean_is_unreadable() {
        let garbled = json!({"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": "maybe"}});
        assert!(unreadable(&create(garbled)).unwrap().contains("Encrypted"));
    }
}
