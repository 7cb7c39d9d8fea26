//! `ami-public`: an AMI shared with everyone.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::node::{NodeAction, NodeChange, NodeState, SharedKind, IMAGE};

pub static RULE: Rule<NodeChange, NodeState> = Rule {
    meta: RuleMeta {
        id: "ami-public",
        title: "AMI made public",
        severity: Severity::High,
        default_mode: Mode::Remediate,
        rationale: "Anyone can launch a public image and read its disks: node images often carry bootstrap \
                    scripts, baked-in credentials and internal endpoints.",
        manual_fix: "aws ec2 modify-image-attribute --image-id <image> --launch-permission 'Remove=[{Group=all}]'",
        events: &[super::super::ec2("ModifyImageAttribute")],
        iam_actions: &["ec2:DescribeImages", "ec2:DescribeImageAttribute", "ec2:ModifyImageAttribute"],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The image as it is, read as the call that shared it.
    check_state: Some(|meta, image, config| check_change(meta, &image.as_change(), config)),
};

/// Only the `add` side counts: a call that removes group `all` makes the image private.
fn check_change(meta: &'static RuleMeta, change: &NodeChange, _config: &Config) -> Option<Finding> {
    let NodeChange::Sharing(sharing) = change else { return None };
    if sharing.kind != SharedKind::Image || !sharing.made_public() {
        return None;
    }
    let changed = vec!["launch permission given to group all (public)".to_owned()];
    let action = NodeAction::UnshareImagePublicly { image_id: sharing.id.clone() };
    Some(super::super::restore_finding(meta, &IMAGE, &sharing.id, changed, vec![action]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::node::{NodeState, SharedKind, SharingState};
    use crate::services::test_support::*;
    use crate::Config;

    fn modify(permission: serde_json::Value) -> serde_json::Value {
        // Mixed-case ids occur in anonymised records; the id is kept as written.
        ec2(
            "ModifyImageAttribute",
            json!({"launchPermission": permission, "attributeType": "launchPermission", "imageId": "ami-0aBc"}),
            json!({"_return": true}),
        )
    }

    #[test]
    fn adding_group_all_is_undone_exactly() {
        let found = findings(&modify(json!({"add": {"items": [{"group": "all"}]}, "remove": {}})), &Config::default());
        assert_eq!(
            plans(&found),
            ["ami-public ami-0aBc: remove the public launch permission (group all) of image ami-0aBc"]
        );
    }

    #[test]
    fn account_shares_removals_and_failed_calls_are_no_finding() {
        assert!(
            findings(&modify(json!({"add": {"items": [{"userId": "846424999548"}]}})), &Config::default()).is_empty()
        );
        assert!(findings(&modify(json!({"remove": {"items": [{"group": "all"}]}})), &Config::default()).is_empty());
        let mut failed = modify(json!({"add": {"items": [{"group": "all"}]}}));
        failed["errorCode"] = json!("UnauthorizedOperation");
        let event = crate::Event::from_value(&failed).unwrap();
        let ignored = crate::screen(&event, &Config::default(), &[], crate::registry::listens_to);
        assert_eq!(ignored.map(|i| i.label()), Some("call-failed"));
    }

    #[test]
    fn a_public_image_gets_the_verdict_of_the_call_that_shared_it_and_a_snapshot_is_not_an_image() {
        let shared = |kind| {
            NodeState::Sharing(SharingState {
                kind,
                id: "ami-0aBc".into(),
                public: true,
                accounts: vec![],
                tags: Default::default(),
            })
        };
        let call = findings(&modify(json!({"add": {"items": [{"group": "all"}]}})), &Config::default());
        assert_eq!(plans(&state_findings(&shared(SharedKind::Image), &Config::default())), plans(&call));
        assert_eq!(rule_ids(&state_findings(&shared(SharedKind::Snapshot), &Config::default())), ["snapshot-public"]);
    }

    #[test]
    fn a_permission_item_naming_nobody_is_unreadable() {
        assert!(unreadable(&modify(json!({"add": {"items": [{}]}}))).unwrap().contains("names no group"));
    }
}
