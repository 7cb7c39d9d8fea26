//! Who and what snapback judges, in two pure steps. `screen` leaves an event alone before any rule
//! sees it (a failed or read-only call, snapback's own or a trusted principal, nothing listening).
//! `decide` turns a finding and the facts looked up about its resource (tags, owning cluster)
//! into a decision: out of scope, exempt (with expiry), notify or remediate.

use std::collections::BTreeMap;
use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::config::{Config, Mode, Scope};
use crate::event::{Actor, Event};
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

/// What policy needs to know about a finding's resource, as its service's adapter looked it up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFacts {
    pub tags: BTreeMap<String, String>,
    /// The EKS cluster it belongs to, if any.
    pub cluster: Option<String>,
}

/// What to do about a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not snapback's business under the configured scope: logged, no alert.
    OutOfScope(String),
    /// Tagged exempt: alert, leave the change alone.
    Exempt { until: Option<String> },
    /// Alert only. `notes` explain anything the reader should know (an expired exemption, a plan
    /// that cannot run).
    Notify { notes: Vec<String> },
    /// Restore, then alert.
    Remediate { notes: Vec<String> },
}

/// Decides for an enabled rule's finding on a resource with these facts, at `now`.
pub fn decide(finding: &Finding, facts: &ResourceFacts, config: &Config, now: OffsetDateTime) -> Decision {
    if finding.kind.scoped_by_cluster && facts.cluster.is_none() && config.scope == Scope::Eks {
        return Decision::OutOfScope(format!(
            "the {} belongs to no EKS cluster and scope is eks",
            finding.kind.name.replace('-', " ")
        ));
    }
    let tags = &facts.tags;
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
    match config.mode(finding.rule.id) {
        Mode::Remediate if !finding.plan.actions.is_empty() => Decision::Remediate { notes },
        Mode::Remediate => {
            if let Some(manual) = &finding.plan.manual {
                notes.push(format!("cannot be restored automatically: {manual}"));
            }
            Decision::Notify { notes }
        }
        Mode::Notify | Mode::Off => Decision::Notify { notes },
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// The call failed (or was a dry run): nothing changed.
    CallFailed(String),
    ReadOnly,
    /// snapback's own restore, which would otherwise loop.
    OwnPrincipal(String),
    TrustedPrincipal(String),
    NotListened {
        event_source: String,
        event_name: String,
    },
}

impl Ignored {
    /// Short stable label for logs and summaries.
    pub fn label(&self) -> &'static str {
        match self {
            Ignored::CallFailed(_) => "call-failed",
            Ignored::ReadOnly => "read-only",
            Ignored::OwnPrincipal(_) => "own-principal",
            Ignored::TrustedPrincipal(_) => "trusted-principal",
            Ignored::NotListened { .. } => "not-listened",
        }
    }
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ignored::CallFailed(code) => write!(f, "the call failed with {code}, so nothing changed"),
            Ignored::ReadOnly => f.write_str("a read-only call changes nothing"),
            Ignored::OwnPrincipal(arn) => write!(f, "made by snapback's own role {arn}"),
            Ignored::TrustedPrincipal(arn) => write!(f, "made by trusted principal {arn}"),
            Ignored::NotListened { event_source, event_name } => {
                write!(f, "no rule listens to {event_source} {event_name}")
            }
        }
    }
}

/// The first reason to leave this event alone before any rule looks at it, or None when the
/// rules should see it. `listens` says whether the judging function hosts a rule for the event.
pub fn screen(
    event: &Event,
    config: &Config,
    own_principals: &[String],
    listens: impl Fn(&str, &str) -> bool,
) -> Option<Ignored> {
    if let Some(code) = &event.error_code {
        return Some(Ignored::CallFailed(code.clone()));
    }
    if event.read_only {
        return Some(Ignored::ReadOnly);
    }
    if !listens(&event.event_source, &event.event_name) {
        return Some(Ignored::NotListened {
            event_source: event.event_source.clone(),
            event_name: event.event_name.clone(),
        });
    }
    if let Some(arn) = matching_principal(&event.actor, own_principals) {
        return Some(Ignored::OwnPrincipal(arn));
    }
    // A central deployment acts in member accounts through its member role, in any account.
    if let Some(role) =
        event.actor.role_arn().filter(|role| role_key(role).is_some_and(|(_, _, name)| name == config.member_role))
    {
        return Some(Ignored::OwnPrincipal(role));
    }
    if let Some(arn) = matching_principal(&event.actor, &config.trusted_principals) {
        return Some(Ignored::TrustedPrincipal(arn));
    }
    None
}

/// The configured principal that names this actor: its ARN, its session's role, or the role
/// of its assumed-role ARN (role paths are ignored: session ARNs do not carry them).
fn matching_principal(actor: &Actor, principals: &[String]) -> Option<String> {
    let candidates: Vec<String> =
        [actor.arn.clone(), actor.issuer_arn.clone(), actor.role_arn()].into_iter().flatten().collect();
    principals.iter().find(|principal| candidates.iter().any(|candidate| same_principal(candidate, principal))).cloned()
}

/// The same principal: equal ARNs, or the same IAM role whatever its path.
pub fn same_principal(a: &str, b: &str) -> bool {
    a == b || matches!((role_key(a), role_key(b)), (Some(x), Some(y)) if x == y)
}

/// (partition, account, role name) of an IAM role ARN, with any path dropped.
fn role_key(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (_, partition, service, _, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if service != "iam" {
        return None;
    }
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    Some((partition, account, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Plan;
    use crate::registry::rule;
    use crate::services::security_groups::{RevokeTarget, SecurityGroupAction, SECURITY_GROUP};

    fn finding() -> Finding {
        Finding {
            rule: rule("sg-open-remote-admin").unwrap(),
            kind: &SECURITY_GROUP,
            resource: "sg-1".into(),
            changed: vec![],
            plan: Plan {
                actions: vec![SecurityGroupAction::RevokeIngress {
                    group_id: "sg-1".into(),
                    target: RevokeTarget::RuleId("sgr-1".into()),
                }
                .into()],
                manual: None,
            },
        }
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// Facts of a group of cluster `prod` with these tags.
    fn facts(pairs: &[(&str, &str)]) -> ResourceFacts {
        ResourceFacts { tags: tags(pairs), cluster: Some("prod".into()) }
    }

    #[test]
    fn a_group_of_no_cluster_is_out_of_scope_unless_scope_is_all() {
        let orphan = ResourceFacts::default();
        assert_eq!(
            decide(&finding(), &orphan, &Config::default(), now()),
            Decision::OutOfScope("the security group belongs to no EKS cluster and scope is eks".into())
        );
        let all = Config::from_json(r#"{"scope": "all"}"#).unwrap();
        assert_eq!(decide(&finding(), &orphan, &all, now()), Decision::Remediate { notes: vec![] });
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
        let act = Decision::Remediate { notes: vec![] };
        assert_eq!(decide(&finding(), &facts(&[]), &config, now()), act);
        assert_eq!(
            decide(&finding(), &facts(&[("snapback:exempt", "all")]), &config, now()),
            Decision::Exempt { until: None }
        );
        assert_eq!(
            decide(&finding(), &facts(&[("snapback:exempt", "sg-open-kubelet, sg-open-remote-admin")]), &config, now()),
            Decision::Exempt { until: None }
        );
        assert_eq!(decide(&finding(), &facts(&[("snapback:exempt", "sg-open-kubelet")]), &config, now()), act);
        assert_eq!(
            decide(
                &finding(),
                &facts(&[("snapback:exempt", "all"), ("snapback:exempt-until", "2027-01-01T00:00:00Z")]),
                &config,
                now()
            ),
            Decision::Exempt { until: Some("2027-01-01T00:00:00Z".into()) }
        );
        let Decision::Remediate { notes } = decide(
            &finding(),
            &facts(&[("snapback:exempt", "all"), ("snapback:exempt-until", "2026-11-01T00:00:00Z")]),
            &config,
            now(),
        ) else {
            panic!("an expired exemption must not exempt")
        };
        assert!(notes[0].contains("expired at 2026-11-01T00:00:00Z"), "{notes:?}");
        let Decision::Remediate { notes } = decide(
            &finding(),
            &facts(&[("snapback:exempt", "all"), ("snapback:exempt-until", "next week")]),
            &config,
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
            decide(&finding, &facts(&[]), &Config::default(), now()),
            Decision::Notify { notes: vec!["cannot be restored automatically: do it by hand".into()] }
        );
    }
}

#[cfg(test)]
mod screen_tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    fn event(extra: serde_json::Value) -> Event {
        let mut record = json!({
            "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
            "userIdentity": {"type": "AssumedRole",
                "arn": "arn:aws:sts::111122223333:assumed-role/snapback-sg-guard/1700000000",
                "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/service/snapback-sg-guard"}}}
        });
        for (key, value) in extra.as_object().unwrap() {
            record[key] = value.clone();
        }
        Event::from_value(&record).unwrap()
    }

    #[test]
    fn each_guard_names_its_reason() {
        let config = Config::default();
        let none: Vec<String> = Vec::new();
        let own = vec!["arn:aws:iam::111122223333:role/snapback-sg-guard".to_owned()];
        assert_eq!(
            screen(&event(json!({"errorCode": "Client.DryRunOperation"})), &config, &none, crate::registry::listens_to),
            Some(Ignored::CallFailed("Client.DryRunOperation".into()))
        );
        assert_eq!(
            screen(&event(json!({"readOnly": true})), &config, &none, crate::registry::listens_to),
            Some(Ignored::ReadOnly)
        );
        assert_eq!(
            screen(&event(json!({"eventName": "CreateSecurityGroup"})), &config, &none, crate::registry::listens_to)
                .unwrap()
                .to_string(),
            "no rule listens to ec2.amazonaws.com CreateSecurityGroup"
        );
        assert_eq!(
            screen(&event(json!({})), &config, &own, crate::registry::listens_to).map(|i| i.label()),
            Some("own-principal")
        );
        let trusted = Config::from_json(
            r#"{"trusted_principals": ["arn:aws:sts::111122223333:assumed-role/snapback-sg-guard/1700000000"]}"#,
        )
        .unwrap();
        assert_eq!(
            screen(&event(json!({})), &trusted, &none, crate::registry::listens_to).map(|i| i.label()),
            Some("trusted-principal")
        );
        assert_eq!(screen(&event(json!({})), &config, &none, crate::registry::listens_to), None);
    }

    #[test]
    fn a_role_of_the_same_name_in_another_account_is_not_ours() {
        let own = vec!["arn:aws:iam::999999999999:role/snapback-sg-guard".to_owned()];
        assert_eq!(screen(&event(json!({})), &Config::default(), &own, crate::registry::listens_to), None);
    }

    #[test]
    fn the_member_roles_sessions_are_ours_in_any_account() {
        let member = |role: &str| {
            event(json!({"userIdentity": {"type": "AssumedRole",
                "arn": format!("arn:aws:sts::444455556666:assumed-role/{role}/snapback-6f1c2b9e"),
                "sessionContext": {"sessionIssuer": {"arn": format!("arn:aws:iam::444455556666:role/{role}")}}}}))
        };
        let none: Vec<String> = Vec::new();
        let ignored = screen(&member("snapback-member"), &Config::default(), &none, crate::registry::listens_to);
        assert_eq!(ignored, Some(Ignored::OwnPrincipal("arn:aws:iam::444455556666:role/snapback-member".into())));
        // Another name is judged, unless the configuration names it as the member role.
        assert_eq!(screen(&member("platform-admin"), &Config::default(), &none, crate::registry::listens_to), None);
        let renamed = Config::from_json(r#"{"member_role": "platform-admin"}"#).unwrap();
        assert!(screen(&member("platform-admin"), &renamed, &none, crate::registry::listens_to).is_some());
        assert_eq!(screen(&member("snapback-member"), &renamed, &none, crate::registry::listens_to), None);
    }
}
