//! From a finding to a decision: scope by EKS ownership tags, exemptions with expiry, mode.

use std::collections::BTreeMap;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::config::{Config, Mode};
use crate::finding::Finding;

/// Tags AWS and Kubernetes put on groups that belong to a cluster.
pub const EKS_CLUSTER_TAG: &str = "aws:eks:cluster-name";
pub const KUBERNETES_CLUSTER_TAG_PREFIX: &str = "kubernetes.io/cluster/";

/// The cluster a group's tags say it belongs to.
pub fn eks_cluster_from_tags(tags: &BTreeMap<String, String>) -> Option<String> {
    if let Some(name) = tags.get(EKS_CLUSTER_TAG).filter(|name| !name.is_empty()) {
        return Some(name.clone());
    }
    tags.keys()
        .find_map(|key| key.strip_prefix(KUBERNETES_CLUSTER_TAG_PREFIX))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// What to do about a finding that is in scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Tagged exempt: alert, leave the change alone.
    Exempt { until: Option<String> },
    /// Notify, or restore and notify. `notes` explain anything the reader should know (an
    /// expired exemption, a plan that cannot run).
    Act { mode: Mode, notes: Vec<String> },
}

/// Decides for an enabled rule's finding on a resource with `tags`, at `now`.
pub fn decide(finding: &Finding, config: &Config, tags: &BTreeMap<String, String>, now: OffsetDateTime) -> Decision {
    let mut notes = Vec::new();
    if let Some(exempted) = tags.get(&config.exemption_tag) {
        let covers =
            exempted.split(',').map(str::trim).any(|id| id.eq_ignore_ascii_case("all") || id == finding.rule.id);
        if covers {
            let until_tag = format!("{}-until", config.exemption_tag);
            match tags.get(&until_tag) {
                None => return Decision::Exempt { until: None },
                Some(until) => match OffsetDateTime::parse(until.trim(), &Rfc3339) {
                    Ok(end) if end > now => return Decision::Exempt { until: Some(until.clone()) },
                    Ok(_) => notes.push(format!("the exemption ({} = {exempted}) expired at {until}", config.exemption_tag)),
                    Err(_) => notes.push(format!(
                        "the exemption was ignored: {until_tag} = {until:?} is not an RFC 3339 time such as 2026-12-31T23:59:59Z"
                    )),
                },
            }
        }
    }
    let mut mode = config.mode(finding.rule.id);
    if mode == Mode::Remediate && finding.plan.actions.is_empty() {
        mode = Mode::Notify;
        if let Some(manual) = &finding.plan.manual {
            notes.push(format!("cannot be restored automatically: {manual}"));
        }
    }
    Decision::Act { mode, notes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Plan;
    use crate::registry::rule;

    fn finding() -> Finding {
        Finding {
            rule: rule("sg-open-remote-admin").unwrap(),
            kind: crate::finding::ResourceKind::SecurityGroup,
            resource: "sg-1".into(),
            changed: vec![],
            plan: Plan {
                actions: vec![crate::Action::RevokeIngress {
                    group_id: "sg-1".into(),
                    target: crate::RevokeTarget::RuleId("sgr-1".into()),
                }],
                manual: None,
            },
        }
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-11-27T12:00:00Z", &Rfc3339).unwrap()
    }

    #[test]
    fn finds_the_cluster_from_either_tag() {
        assert_eq!(eks_cluster_from_tags(&tags(&[("aws:eks:cluster-name", "prod")])).as_deref(), Some("prod"));
        assert_eq!(eks_cluster_from_tags(&tags(&[("kubernetes.io/cluster/dev", "owned")])).as_deref(), Some("dev"));
        assert_eq!(eks_cluster_from_tags(&tags(&[("team", "x")])), None);
    }

    #[test]
    fn exemptions_apply_by_rule_or_all_until_they_expire() {
        let config = Config::default();
        let act = Decision::Act { mode: Mode::Remediate, notes: vec![] };
        assert_eq!(decide(&finding(), &config, &tags(&[]), now()), act);
        assert_eq!(
            decide(&finding(), &config, &tags(&[("snapback:exempt", "all")]), now()),
            Decision::Exempt { until: None }
        );
        assert_eq!(
            decide(&finding(), &config, &tags(&[("snapback:exempt", "sg-open-kubelet, sg-open-remote-admin")]), now()),
            Decision::Exempt { until: None }
        );
        assert_eq!(decide(&finding(), &config, &tags(&[("snapback:exempt", "sg-open-kubelet")]), now()), act);
        assert_eq!(
            decide(
                &finding(),
                &config,
                &tags(&[("snapback:exempt", "all"), ("snapback:exempt-until", "2027-01-01T00:00:00Z")]),
                now()
            ),
            Decision::Exempt { until: Some("2027-01-01T00:00:00Z".into()) }
        );
        let Decision::Act { mode, notes } = decide(
            &finding(),
            &config,
            &tags(&[("snapback:exempt", "all"), ("snapback:exempt-until", "2026-11-01T00:00:00Z")]),
            now(),
        ) else {
            panic!("an expired exemption must not exempt")
        };
        assert_eq!(mode, Mode::Remediate);
        assert!(notes[0].contains("expired at 2026-11-01T00:00:00Z"), "{notes:?}");
        let Decision::Act { notes, .. } = decide(
            &finding(),
            &config,
            &tags(&[("snapback:exempt", "all"), ("snapback:exempt-until", "next week")]),
            now(),
        ) else {
            panic!("an unreadable expiry must not exempt")
        };
        assert!(notes[0].contains("not an RFC 3339 time"), "{notes:?}");
    }

    #[test]
    fn a_plan_without_actions_only_notifies_and_says_why() {
        let mut finding = finding();
        finding.plan = Plan { actions: vec![], manual: Some("do it by hand".into()) };
        assert_eq!(
            decide(&finding, &Config::default(), &tags(&[]), now()),
            Decision::Act { mode: Mode::Notify, notes: vec!["cannot be restored automatically: do it by hand".into()] }
        );
    }
}
