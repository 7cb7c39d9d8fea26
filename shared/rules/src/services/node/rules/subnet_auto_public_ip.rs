//! `subnet-auto-public-ip`: a cluster subnet set to give every instance launched in it a public
//! IPv4 address.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::node::{NodeAction, NodeChange, NodeState, SubnetAttribute, SUBNET};

pub static RULE: Rule<NodeChange, NodeState> = Rule {
    meta: RuleMeta {
        id: "subnet-auto-public-ip",
        title: "Cluster subnet auto-assigns public IP addresses",
        severity: Severity::High,
        default_mode: Mode::Remediate,
        rationale: "Every node launched into the subnet gets an internet-routable address: one open port or \
                    security-group mistake away from the internet, and off the private path the cluster was built on.",
        manual_fix: "aws ec2 modify-subnet-attribute --subnet-id <subnet> --no-map-public-ip-on-launch",
        events: &[super::super::ec2("ModifySubnetAttribute")],
        // Describe the subnet (tags, whether a cluster or node group lists it), then restore.
        iam_actions: &[
            "ec2:DescribeSubnets",
            "ec2:ModifySubnetAttribute",
            "eks:ListClusters",
            "eks:DescribeCluster",
            "eks:ListNodegroups",
            "eks:DescribeNodegroup",
        ],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The subnet as it is, read as the call that set its flag.
    check_state: Some(|meta, subnet, config| check_change(meta, &subnet.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &NodeChange, _config: &Config) -> Option<Finding> {
    let NodeChange::Subnet(SubnetAttribute { subnet_id, map_public_ip_on_launch: Some(true) }) = change else {
        return None;
    };
    let changed = vec!["auto-assign public IPv4 addresses on launch turned on".to_owned()];
    let action = NodeAction::DisableSubnetPublicIp { subnet_id: subnet_id.clone() };
    Some(super::super::restore_finding(meta, &SUBNET, subnet_id, changed, vec![action]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::node::{NodeState, SubnetState};
    use crate::services::test_support::*;
    use crate::Config;

    fn modify(attribute: serde_json::Value) -> serde_json::Value {
        let mut request = json!({"subnetId": "subnet-0a"});
        request.as_object_mut().unwrap().extend(attribute.as_object().unwrap().clone());
        ec2("ModifySubnetAttribute", request, json!({"requestId": "r-1", "_return": true}))
    }

    #[test]
    fn turning_auto_assign_on_is_restored_and_off_or_other_attributes_are_not_findings() {
        let found = findings(&modify(json!({"mapPublicIpOnLaunch": {"value": true}})), &Config::default());
        assert_eq!(
            plans(&found),
            ["subnet-auto-public-ip subnet-0a: turn off auto-assigned public IPv4 addresses on subnet subnet-0a"]
        );
        assert_eq!(found[0].kind.name, "subnet");
        assert!(found[0].kind.scoped_by_cluster);
        for quiet in
            [json!({"mapPublicIpOnLaunch": {"value": false}}), json!({"assignIpv6AddressOnCreation": {"value": true}})]
        {
            assert!(findings(&modify(quiet), &Config::default()).is_empty());
        }
    }

    #[test]
    fn a_subnet_that_auto_assigns_gets_the_verdict_of_the_call_that_set_it() {
        let public = NodeState::Subnet(SubnetState {
            subnet_id: "subnet-0a".into(),
            map_public_ip_on_launch: true,
            ..SubnetState::default()
        });
        let private = NodeState::Subnet(SubnetState { subnet_id: "subnet-0b".into(), ..SubnetState::default() });
        let changed = findings(&modify(json!({"mapPublicIpOnLaunch": {"value": true}})), &Config::default());
        assert_eq!(plans(&state_findings(&public, &Config::default())), plans(&changed));
        assert!(state_findings(&private, &Config::default()).is_empty());
    }

    #[test]
    fn a_call_without_a_subnet_or_with_a_garbled_flag_is_unreadable() {
        let no_subnet = ec2("ModifySubnetAttribute", json!({"mapPublicIpOnLaunch": {"value": true}}), json!(null));
        assert!(unreadable(&no_subnet).unwrap().contains("without subnetId"));
        assert!(unreadable(&modify(json!({"mapPublicIpOnLaunch": {"value": "yes"}})))
            .unwrap()
            .contains("not a boolean"));
    }
}
