//! `sg-open-kubelet`: the kubelet API opened to the whole internet.

use crate::config::Mode;
use crate::finding::Severity;
use crate::options::{read, OptionDoc, OptionsSpec, PortList};
use crate::registry::{Rule, RuleMeta};
use crate::services::security_groups::{GroupState, PortOptions, SecurityGroupChange};

pub static RULE: Rule<SecurityGroupChange, GroupState> = Rule {
    meta: RuleMeta {
        id: "sg-open-kubelet",
        title: "Kubelet API open to the internet",
        severity: Severity::Critical,
        default_mode: Mode::Remediate,
        rationale: "The kubelet API (10250) runs commands in any pod on the node, and the read-only port (10255) \
                    leaks pod specs and environment; neither should be reachable from outside the cluster.",
        manual_fix: "Remove the world-open rule; only the cluster security group needs to reach 10250.",
        events: super::super::INGRESS_EVENTS,
        iam_actions: super::super::REVOKE_ACTIONS,
        options: OptionsSpec {
            docs: &[OptionDoc { name: "ports", description: "tcp ports of the kubelet" }],
            defaults: || Box::new(PortOptions { ports: PortList::of(&[10250, 10255]) }),
            read: read::<PortOptions>,
        },
        changes_only: None,
    },
    check_change: super::super::world_open_tcp_ports,
    // The group as it is, read as the change that opened all its ingress rules.
    check_state: Some(|meta, group, config| (RULE.check_change)(meta, &group.as_change(), config)),
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::Config;

    #[test]
    fn a_range_covering_the_kubelet_port_is_caught_and_a_private_one_is_not() {
        let config = Config::default();
        assert_eq!(
            rule_ids(&findings(&authorize(json!([tcp(10000, 11000, "0.0.0.0/0")]), None), &config)),
            ["sg-open-kubelet"]
        );
        assert!(findings(&authorize(json!([tcp(10250, 10250, "172.16.0.0/12")]), None), &config).is_empty());
    }
}
