//! `sg-open-all-traffic`: every protocol, or every tcp/udp port, opened to the whole internet.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::security_groups::{GroupState, SecurityGroupChange};

pub static RULE: Rule<SecurityGroupChange, GroupState> = Rule {
    meta: RuleMeta {
        id: "sg-open-all-traffic",
        title: "All traffic open to the internet",
        severity: Severity::Critical,
        default_mode: Mode::Remediate,
        rationale: "A rule for all protocols or all ports from anywhere exposes every service on the nodes, \
                    kubelet and node ports included: the cluster's network boundary is gone.",
        manual_fix: "Remove the rule and allow only the ports and source ranges the workload needs.",
        events: super::super::INGRESS_EVENTS,
        iam_actions: super::super::REVOKE_ACTIONS,
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // The group as it is, read as the change that opened all its ingress rules.
    check_state: Some(|meta, group, config| check_change(meta, &group.as_change(), config)),
};

fn check_change(meta: &'static RuleMeta, change: &SecurityGroupChange, _config: &Config) -> Option<Finding> {
    super::super::world_open_ingress(meta, change, |entry| entry.opens_everything())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::Config;

    #[test]
    fn protocol_minus_one_is_one_all_traffic_finding_while_the_rule_is_on() {
        let all = json!({"ipProtocol": "-1", "groups": {}, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}});
        let record = authorize(json!([all]), None);
        assert_eq!(rule_ids(&findings(&record, &Config::default())), ["sg-open-all-traffic"]);
        // With the rule off, the port rules still see the ports it opened.
        let config = Config::from_json(r#"{"rules": {"sg-open-all-traffic": {"mode": "off"}}}"#).unwrap();
        assert_eq!(
            rule_ids(&findings(&record, &config)),
            ["sg-open-remote-admin", "sg-open-kubelet", "sg-open-k8s-api"]
        );
    }

    #[test]
    fn full_tcp_range_counts_but_a_wide_partial_range_does_not() {
        let config = Config::default();
        for full in [tcp(0, 65535, "0.0.0.0/0"), tcp(1, 65535, "0.0.0.0/0")] {
            assert_eq!(rule_ids(&findings(&authorize(json!([full]), None), &config)), ["sg-open-all-traffic"]);
        }
        assert_eq!(
            rule_ids(&findings(&authorize(json!([tcp(2, 65535, "0.0.0.0/0")]), None), &config)),
            ["sg-open-remote-admin", "sg-open-kubelet", "sg-open-k8s-api"]
        );
    }
}
