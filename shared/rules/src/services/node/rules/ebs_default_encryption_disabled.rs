//! `ebs-default-encryption-disabled`: EBS encryption by default turned off for the account.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::node::{NodeAction, NodeChange, NodeState, ACCOUNT_SETTING, EBS_ENCRYPTION_BY_DEFAULT};

pub static RULE: Rule<NodeChange, NodeState> = Rule {
    meta: RuleMeta {
        id: "ebs-default-encryption-disabled",
        title: "EBS encryption by default disabled",
        severity: Severity::High,
        default_mode: Mode::Remediate,
        rationale: "With it off, every volume and snapshot whose launch does not ask for encryption is stored in \
                    the clear, node volumes included; turning it off is also a quiet step before copying data out.",
        manual_fix: "aws ec2 enable-ebs-encryption-by-default (in each region)",
        events: &[super::super::ec2("DisableEbsEncryptionByDefault")],
        iam_actions: &["ec2:GetEbsEncryptionByDefault", "ec2:EnableEbsEncryptionByDefault"],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The setting as it is, read as the call that set it.
    check_state: Some(|meta, setting, config| check_change(meta, &setting.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &NodeChange, _config: &Config) -> Option<Finding> {
    let NodeChange::EbsEncryptionByDefault { enabled: false } = change else { return None };
    let changed = vec!["EBS encryption by default turned off".to_owned()];
    let action = NodeAction::EnableEbsEncryptionByDefault;
    Some(super::super::restore_finding(meta, &ACCOUNT_SETTING, EBS_ENCRYPTION_BY_DEFAULT, changed, vec![action]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::node::NodeState;
    use crate::services::test_support::*;
    use crate::Config;

    #[test]
    fn disabling_is_restored_even_from_a_record_with_nothing_but_its_name() {
        let full = ec2(
            "DisableEbsEncryptionByDefault",
            json!({"DisableEbsEncryptionByDefaultRequest": {}}),
            json!({"DisableEbsEncryptionByDefaultResponse": {"ebsEncryptionByDefault": false}}),
        );
        let stub = json!({"awsRegion": "us-west-2", "eventName": "DisableEbsEncryptionByDefault",
            "eventSource": "ec2.amazonaws.com", "recipientAccountId": "123456789", "sourceIPAddress": "1.2.3.4", "userAgent": "x"});
        for record in [full, stub] {
            let found = findings(&record, &Config::default());
            assert_eq!(
                plans(&found),
                ["ebs-default-encryption-disabled ebs-encryption-by-default: turn EBS encryption by default back on"]
            );
            assert_eq!(found[0].kind.name, "account-setting");
        }
        // CloudTrail writes no such record: it is refused whole, before any rule (no restore).
        let garbage = ec2("DisableEbsEncryptionByDefault", json!("garbage"), json!(7));
        assert!(crate::Event::from_value(&garbage).is_err());
    }

    #[test]
    fn the_setting_is_judged_as_it_is() {
        let off = state_findings(&NodeState::EbsEncryptionByDefault { enabled: false }, &Config::default());
        assert_eq!(rule_ids(&off), ["ebs-default-encryption-disabled"]);
        assert!(state_findings(&NodeState::EbsEncryptionByDefault { enabled: true }, &Config::default()).is_empty());
    }
}
