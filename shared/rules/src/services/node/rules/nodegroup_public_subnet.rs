//! `nodegroup-public-subnet`: a managed node group whose subnets give its nodes public IPv4
//! addresses.
//!
//! A CreateNodegroup record names the subnets but not whether they auto-assign public
//! addresses. On a change the rule therefore reports a candidate on the node-group kind, which
//! is [`confirmed_by_look_up`](crate::ResourceKind::confirmed_by_look_up): the adapter's look-up
//! describes the node group with its public subnets (`NodeState::Nodegroup`), and
//! [`Slice::confirm`](crate::Slice::confirm) keeps the finding only when the state check agrees.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{EventKey, Rule, RuleMeta};
use crate::services::eks::EKS_SOURCE;
use crate::services::node::{NodeChange, NodeState, NODEGROUP};

pub static RULE: Rule<NodeChange, NodeState> = Rule {
    meta: RuleMeta {
        id: "nodegroup-public-subnet",
        title: "Node group in subnets that auto-assign public IP addresses",
        severity: Severity::Medium,
        default_mode: Mode::Notify,
        rationale: "Its nodes get internet-routable addresses: reachable from anywhere through any port a security \
                    group opens, and the kubelet and node ports with them. A node group's subnets cannot be changed \
                    after it is created.",
        manual_fix: "Turn auto-assign off on the subnets (aws ec2 modify-subnet-attribute --subnet-id <subnet> \
                     --no-map-public-ip-on-launch) and replace the running nodes, or create a node group in private \
                     subnets, move the workloads and delete this one.",
        events: &[EventKey { source: EKS_SOURCE, name: "CreateNodegroup" }],
        // The look-up that confirms a candidate: the node group's subnets, described.
        iam_actions: &["eks:DescribeNodegroup", "ec2:DescribeSubnets"],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The node group as it is, read as its creation with its subnets known.
    check_state: Some(|meta, group, config| check_change(meta, &group.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &NodeChange, _config: &Config) -> Option<Finding> {
    let NodeChange::Nodegroup(group) = change else { return None };
    let changed = match &group.public_subnets {
        Some(public) if public.is_empty() => return None,
        Some(public) => format!(
            "node group {} launches nodes into subnets that auto-assign public IPv4 addresses: {}",
            group.nodegroup,
            public.join(", ")
        ),
        None if group.subnets.is_empty() => return None,
        // A candidate: the look-up describes the subnets and confirms or drops it.
        None => format!(
            "node group {} created in subnets {} (whether they auto-assign public IPv4 addresses is for the \
             look-up to confirm)",
            group.nodegroup,
            group.subnets.join(", ")
        ),
    };
    let manual = format!("{} (node group {} of cluster {})", meta.manual_fix, group.nodegroup, group.cluster);
    Some(super::super::manual_finding(meta, &NODEGROUP, &group.resource(), vec![changed], manual))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::node::{NodeState, NodegroupState};
    use crate::services::test_support::*;
    use crate::services::{confirm, judge_state};
    use crate::Config;

    fn create(subnets: serde_json::Value) -> serde_json::Value {
        eks(
            "CreateNodegroup",
            json!({"name": "shop", "nodegroupName": "web", "subnets": subnets, "nodeRole": "arn:aws:iam::111122223333:role/node"}),
            json!({"nodegroup": {"nodegroupName": "web", "clusterName": "shop", "status": "CREATING"}}),
        )
    }

    fn described(public: &[&str]) -> NodeState {
        NodeState::Nodegroup(NodegroupState {
            cluster: "shop".into(),
            nodegroup: "web".into(),
            subnets: vec!["subnet-a".into(), "subnet-b".into()],
            public_subnets: public.iter().map(|id| (*id).to_owned()).collect(),
            ..NodegroupState::default()
        })
    }

    #[test]
    fn a_creation_is_a_candidate_that_the_described_subnets_confirm_or_drop() {
        let config = Config::default();
        let found = findings(&create(json!(["subnet-a", "subnet-b"])), &config);
        let candidate = found.iter().find(|f| f.rule.id == "nodegroup-public-subnet").unwrap();
        assert_eq!(candidate.resource, "shop/web");
        assert!(candidate.kind.confirmed_by_look_up);
        assert!(candidate.changed[0].contains("for the look-up to confirm"));

        let confirmed = confirm(candidate, &described(&["subnet-b"]), &config).unwrap();
        assert_eq!(
            confirmed.changed,
            ["node group web launches nodes into subnets that auto-assign public IPv4 addresses: subnet-b"]
        );
        assert!(confirmed.plan.actions.is_empty());
        assert!(confirmed.plan.manual.as_deref().unwrap().ends_with("(node group web of cluster shop)"));
        assert_eq!(confirm(candidate, &described(&[]), &config), None);
        // A description of another type settles nothing: the candidate stands.
        assert_eq!(confirm(candidate, &"not a node state", &config).as_ref(), Some(candidate));
    }

    #[test]
    fn a_node_group_in_public_subnets_is_reported_as_it_is() {
        let config = Config::default();
        assert_eq!(rule_ids(&judge_state(&described(&["subnet-a"]), &config)), ["nodegroup-public-subnet"]);
        assert!(judge_state(&described(&[]), &config).is_empty());
    }

    #[test]
    fn a_creation_without_subnets_or_with_garbled_ones_reports_nothing_and_never_fails() {
        let config = Config::default();
        for subnets in [json!([]), json!("subnet-a"), json!([1, 2])] {
            let found = findings(&create(subnets.clone()), &config);
            assert!(!rule_ids(&found).contains(&"nodegroup-public-subnet"), "{subnets}");
            assert_eq!(unreadable(&create(subnets)), None);
        }
    }
}
