//! Reasons to leave an event alone before any rule looks at it. Each is logged, never an error.

use std::fmt;

use crate::config::Config;
use crate::event::{Actor, Event};
use crate::registry::listens_to;

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

/// The first reason to ignore this event, or None when the rules should see it.
pub fn check_guards(event: &Event, config: &Config, own_principals: &[String]) -> Option<Ignored> {
    if let Some(code) = &event.error_code {
        return Some(Ignored::CallFailed(code.clone()));
    }
    if event.read_only {
        return Some(Ignored::ReadOnly);
    }
    if !listens_to(&event.event_source, &event.event_name) {
        return Some(Ignored::NotListened {
            event_source: event.event_source.clone(),
            event_name: event.event_name.clone(),
        });
    }
    if let Some(arn) = matching_principal(&event.actor, own_principals) {
        return Some(Ignored::OwnPrincipal(arn));
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
            check_guards(&event(json!({"errorCode": "Client.DryRunOperation"})), &config, &none),
            Some(Ignored::CallFailed("Client.DryRunOperation".into()))
        );
        assert_eq!(check_guards(&event(json!({"readOnly": true})), &config, &none), Some(Ignored::ReadOnly));
        assert_eq!(
            check_guards(&event(json!({"eventName": "CreateSecurityGroup"})), &config, &none).unwrap().to_string(),
            "no rule listens to ec2.amazonaws.com CreateSecurityGroup"
        );
        assert_eq!(check_guards(&event(json!({})), &config, &own).map(|i| i.label()), Some("own-principal"));
        let trusted = Config::from_json(
            r#"{"trusted_principals": ["arn:aws:sts::111122223333:assumed-role/snapback-sg-guard/1700000000"]}"#,
        )
        .unwrap();
        assert_eq!(check_guards(&event(json!({})), &trusted, &none).map(|i| i.label()), Some("trusted-principal"));
        assert_eq!(check_guards(&event(json!({})), &config, &none), None);
    }

    #[test]
    fn a_role_of_the_same_name_in_another_account_is_not_ours() {
        let own = vec!["arn:aws:iam::999999999999:role/snapback-sg-guard".to_owned()];
        assert_eq!(check_guards(&event(json!({})), &Config::default(), &own), None);
    }
}
