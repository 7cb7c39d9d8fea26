//! `snapshot-public`: an EBS snapshot shared with everyone.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::node::{NodeAction, NodeChange, NodeState, SharedKind, SNAPSHOT};

pub static RULE: Rule<NodeChange, NodeState> = Rule {
    meta: RuleMeta {
        id: "snapshot-public",
        title: "EBS snapshot made public",
        severity: Severity::Critical,
        default_mode: Mode::Remediate,
        rationale: "Anyone with an AWS account can create a volume from a public snapshot and read it: node and \
                    database disks, keys and secrets included. Public snapshots are scanned for within minutes.",
        manual_fix: "aws ec2 modify-snapshot-attribute --snapshot-id <snapshot> --attribute createVolumePermission \
                     --operation-type remove --group-names all",
        events: &[super::super::ec2("ModifySnapshotAttribute")],
        iam_actions: &["ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute", "ec2:ModifySnapshotAttribute"],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The snapshot as it is, read as the call that shared it.
    check_state: Some(|meta, snapshot, config| check_change(meta, &snapshot.as_change(), config)),
};

/// Only the `add` side counts: a call that removes group `all` makes the snapshot private.
fn check_change(meta: &'static RuleMeta, change: &NodeChange, _config: &Config) -> Option<Finding> {
    let NodeChange::Sharing(sharing) = change else { return None };
    if sharing.kind != SharedKind::Snapshot || !sharing.made_public() {
        return None;
    }
    let changed = vec!["create-volume permission given to group all (public)".to_owned()];
    let action = NodeAction::UnshareSnapshotPublicly { snapshot_id: sharing.id.clone() };
    Some(super::super::restore_finding(meta, &SNAPSHOT, &sharing.id, changed, vec![action]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::node::{NodeState, SharedKind, SharingState};
    use crate::services::test_support::*;
    use crate::Config;

    fn modify(permission: serde_json::Value) -> serde_json::Value {
        ec2(
            "ModifySnapshotAttribute",
            json!({"snapshotId": "snap-0a", "attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": permission}),
            json!({"requestId": "r", "_return": true}),
        )
    }

    #[test]
    fn adding_group_all_is_undone_exactly_and_account_shares_are_left_alone() {
        let record = modify(json!({"add": {"items": [{"userId": "444455556666"}, {"group": "all"}]}}));
        let found = findings(&record, &Config::default());
        assert_eq!(
            plans(&found),
            ["snapshot-public snap-0a: remove the public create-volume permission (group all) of snapshot snap-0a"]
        );
        assert!(!found[0].kind.scoped_by_cluster);
    }

    #[test]
    fn removing_group_all_or_sharing_with_an_account_is_no_finding() {
        for permission in [
            json!({"remove": {"items": [{"group": "all"}]}}),
            json!({"add": {"items": [{"userId": "444455556666"}]}, "remove": {}}),
            json!({}),
        ] {
            assert!(findings(&modify(permission.clone()), &Config::default()).is_empty(), "{permission}");
        }
    }

    #[test]
    fn a_public_snapshot_gets_the_verdict_of_the_call_that_shared_it() {
        let shared = |public| {
            NodeState::Sharing(SharingState {
                kind: SharedKind::Snapshot,
                id: "snap-0a".into(),
                public,
                accounts: vec!["444455556666".into()],
                tags: Default::default(),
            })
        };
        let call = findings(&modify(json!({"add": {"items": [{"group": "all"}]}})), &Config::default());
        assert_eq!(plans(&state_findings(&shared(true), &Config::default())), plans(&call));
        assert!(state_findings(&shared(false), &Config::default()).is_empty());
    }

    #[test]
    fn a_call_without_a_snapshot_id_is_unreadable() {
        let record = ec2(
            "ModifySnapshotAttribute",
            json!({"createVolumePermission": {"add": {"items": [{"group": "all"}]}}}),
            json!(null),
        );
        assert!(unreadable(&record).unwrap().contains("without snapshotId"));
    }
}
