//! `eks-nodegroup-ssh-open`: a managed nodegroup created with an SSH key and no source groups,
//! which opens port 22 of its nodes to the whole internet.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{EventKey, Rule, RuleMeta};
use crate::services::eks::{EksChange, EksState, NodegroupAccess};

pub static RULE: Rule<EksChange, EksState> = Rule {
    meta: RuleMeta {
        id: "eks-nodegroup-ssh-open",
        title: "EKS nodegroup with SSH open to the internet",
        severity: Severity::High,
        default_mode: Mode::Notify,
        rationale: "remoteAccess with an EC2 key and no sourceSecurityGroups makes EKS open port 22 of every node to \
                    0.0.0.0/0; the setting cannot be changed after the nodegroup is created.",
        manual_fix: "Create a replacement nodegroup without remoteAccess (use SSM Session Manager) or with \
                     remoteAccess.sourceSecurityGroups, move the workloads, then delete this nodegroup.",
        events: &[EventKey { source: super::super::EKS_SOURCE, name: "CreateNodegroup" }],
        iam_actions: &["eks:DescribeCluster"],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The resource as it is, read as the change that made it so.
    check_state: Some(|meta, resource, config| check_change(meta, &resource.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &EksChange, _config: &Config) -> Option<Finding> {
    let EksChange::Nodegroup(NodegroupAccess { cluster, nodegroup, ssh_key: Some(key), source_security_groups }) =
        change
    else {
        return None;
    };
    if !source_security_groups.is_empty() {
        return None;
    }
    let changed = format!(
        "nodegroup {nodegroup} created with SSH key {key} and no source security groups (port 22 open to 0.0.0.0/0)"
    );
    let manual = format!("{} (nodegroup {nodegroup} of cluster {cluster})", meta.manual_fix);
    Some(super::super::manual_finding(meta, cluster, changed, manual))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::Config;

    #[test]
    fn ssh_without_source_groups_is_caught_and_with_them_is_not() {
        let open = eks(
            "CreateNodegroup",
            json!({"name": "prod", "nodegroupName": "ng-1", "remoteAccess": {"ec2SshKey": "ops"}}),
            json!({}),
        );
        let found = findings(&open, &Config::default());
        assert_eq!(rule_ids(&found), ["eks-nodegroup-ssh-open"]);
        assert!(found[0].plan.manual.as_deref().unwrap().contains("nodegroup ng-1 of cluster prod"));
        let limited = eks(
            "CreateNodegroup",
            json!({"clusterName": "prod", "nodegroupName": "ng-2",
            "remoteAccess": {"ec2SshKey": "ops", "sourceSecurityGroups": ["sg-bastion"]}}),
            json!({}),
        );
        assert!(findings(&limited, &Config::default()).is_empty());
    }
}
