//! `sg-open-k8s-api`: the Kubernetes API port opened to the whole internet on a cluster group.

use crate::config::Mode;
use crate::finding::Severity;
use crate::options::{read, OptionDoc, OptionsSpec, PortList};
use crate::registry::{Rule, RuleMeta};
use crate::services::security_groups::{GroupState, PortOptions, SecurityGroupChange};

pub static RULE: Rule<SecurityGroupChange, GroupState> = Rule {
    meta: RuleMeta {
        id: "sg-open-k8s-api",
        title: "Kubernetes API port open to the internet",
        severity: Severity::Medium,
        default_mode: Mode::Notify,
        rationale: "The API server still authenticates, but a world-open 443/6443 exposes it to credential \
                    stuffing and to every future API-server vulnerability; webhooks and ingress often open 443 on \
                    purpose, so this rule notifies by default.",
        manual_fix: "Limit the rule to the address ranges of your offices, VPN or CI, or tag the group \
                     `snapback:exempt=sg-open-k8s-api` when a public load balancer needs it.",
        events: super::super::INGRESS_EVENTS,
        iam_actions: super::super::REVOKE_ACTIONS,
        options: OptionsSpec {
            docs: &[OptionDoc { name: "ports", description: "tcp ports of the Kubernetes API server" }],
            defaults: || Box::new(PortOptions { ports: PortList::of(&[443, 6443]) }),
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
    fn one_event_opening_443_and_22_reports_both_rules() {
        let record = authorize(json!([tcp(443, 443, "::/0"), tcp(22, 22, "0.0.0.0/0")]), None);
        assert_eq!(rule_ids(&findings(&record, &Config::default())), ["sg-open-remote-admin", "sg-open-k8s-api"]);
    }
}
