//! `sg-open-remote-admin`: SSH or RDP opened to the whole internet on a cluster's security group.

use crate::config::Mode;
use crate::finding::Severity;
use crate::options::{read, OptionDoc, OptionsSpec, PortList};
use crate::registry::{Rule, RuleMeta};
use crate::services::security_groups::{GroupState, PortOptions, SecurityGroupChange};

pub static RULE: Rule<SecurityGroupChange, GroupState> = Rule {
    meta: RuleMeta {
        id: "sg-open-remote-admin",
        title: "Remote administration (SSH/RDP) open to the internet",
        severity: Severity::High,
        default_mode: Mode::Remediate,
        rationale: "Nodes reachable on SSH or RDP from anywhere are scanned and brute-forced within minutes; \
                    one weak key or password hands an attacker a node and the credentials of its instance role.",
        manual_fix: "Remove the 0.0.0.0/0 or ::/0 rule for the port and reach nodes through SSM Session Manager \
                     or a bastion whose address range you allow instead.",
        events: super::super::INGRESS_EVENTS,
        iam_actions: super::super::REVOKE_ACTIONS,
        options: OptionsSpec {
            docs: &[OptionDoc { name: "ports", description: "tcp ports treated as remote administration" }],
            defaults: || Box::new(PortOptions { ports: PortList::of(&[22, 3389]) }),
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

    use crate::services::security_groups::{RevokeTarget, SecurityGroupAction};
    use crate::services::test_support::*;
    use crate::Action;
    use crate::Config;

    #[test]
    fn world_open_ssh_is_revoked_by_the_rule_id_aws_gave_it() {
        let record = authorize(
            json!([tcp(22, 22, "0.0.0.0/0"), tcp(22, 22, "10.0.0.0/8")]),
            Some(json!([
                {"securityGroupRuleId": "sgr-world", "isEgress": false, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"},
                {"securityGroupRuleId": "sgr-private", "isEgress": false, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "10.0.0.0/8"}
            ])),
        );
        let findings = findings(&record, &Config::default());
        assert_eq!(rule_ids(&findings), ["sg-open-remote-admin"]);
        assert_eq!(findings[0].resource, "sg-0123");
        assert_eq!(findings[0].changed, ["tcp 22 from 0.0.0.0/0 (sgr-world)"]);
        assert_eq!(
            findings[0].plan.actions,
            [Action::from(SecurityGroupAction::RevokeIngress {
                group_id: "sg-0123".into(),
                target: RevokeTarget::RuleId("sgr-world".into())
            })]
        );
    }

    #[test]
    fn configured_ports_replace_the_defaults() {
        let config = Config::from_json(r#"{"rules": {"sg-open-remote-admin": {"ports": [2222]}}}"#).unwrap();
        assert!(findings(&authorize(json!([tcp(22, 22, "0.0.0.0/0")]), None), &config).is_empty());
        assert_eq!(
            rule_ids(&findings(&authorize(json!([tcp(2222, 2222, "0.0.0.0/0")]), None), &config)),
            ["sg-open-remote-admin"]
        );
    }
}
