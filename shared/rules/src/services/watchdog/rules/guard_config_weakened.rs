//! `guard-config-weakened`: snapback's configuration changed to do less: a rule turned off or
//! from remediate to notify, principals made trusted, the scope narrowed, or the parameter
//! deleted. CloudTrail never records the SecureString's value, so the finding on a PutParameter
//! is a candidate that the parameter's history (the look-up) confirms or drops. Sweeps do not
//! judge it: a document that does less than the defaults may be the deployment's own choice.

use std::collections::BTreeSet;

use crate::config::{Config, Mode, Scope};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{registry, Rule, RuleMeta};
use crate::services::watchdog::{
    finding, is_config_parameter, on, WatchdogChange, WatchdogState, PARAMETER, SSM_SOURCE,
};

pub static RULE: Rule<WatchdogChange, WatchdogState> = Rule {
    meta: RuleMeta {
        id: "guard-config-weakened",
        title: "snapback configuration weakened",
        severity: Severity::High,
        default_mode: Mode::Notify,
        rationale: "Turning a rule off, or from remediate to notify, in snapback's own configuration is the quietest \
                    way past it: every function obeys within a minute, and nothing else changed.",
        manual_fix: "aws ssm get-parameter-history --name <parameter> --with-decryption shows the versions; put the \
                     earlier one back with aws ssm put-parameter --overwrite, or terraform apply when Terraform owns \
                     the document. Add the writer to trusted_principals if the change was meant.",
        events: &[
            on(SSM_SOURCE, "PutParameter"),
            on(SSM_SOURCE, "DeleteParameter"),
            on(SSM_SOURCE, "DeleteParameters"),
        ],
        // Decrypting the SecureString takes the deployment's own kms:Decrypt on its key.
        iam_actions: &["ssm:GetParameterHistory"],
        options: NO_OPTIONS,
        changes_only: Some(
            "a configuration that does less than the defaults may be the deployment's choice; what counts is a \
             change that weakens it, which the parameter's history confirms",
        ),
    },
    check_change,
    // The parameter's last change, as its history tells it: confirms a write's finding.
    check_state: Some(check_state),
};

/// A candidate on a write to a configuration parameter: the history confirms it.
fn check_change(meta: &'static RuleMeta, change: &WatchdogChange, _config: &Config) -> Option<Finding> {
    let WatchdogChange::Parameter { name, deleted } = change else { return None };
    if !is_config_parameter(name) {
        return None;
    }
    let changed = match deleted {
        true => deleted_line(name),
        false => format!("snapback's configuration {name} changed"),
    };
    Some(finding(meta, &PARAMETER, name, vec![changed], None, Some(manual(name))))
}

fn check_state(meta: &'static RuleMeta, state: &WatchdogState, _config: &Config) -> Option<Finding> {
    let WatchdogState::Parameter(state) = state else { return None };
    let Some(current) = &state.current else {
        return Some(finding(
            meta,
            &PARAMETER,
            &state.name,
            vec![deleted_line(&state.name)],
            None,
            Some(manual(&state.name)),
        ));
    };
    let before = state.previous.as_deref().and_then(|text| Config::from_json(text).ok()).unwrap_or_default();
    // A document the functions refuse leaves a function that starts cold on the built-in defaults.
    let (now, refused) = match Config::from_json(current) {
        Ok(now) => (now, None),
        Err(error) => (Config::default(), Some(format!("a document the functions refuse was written ({error})"))),
    };
    let mut weakened: Vec<String> = refused.into_iter().collect();
    let lowered = self::weakened(&before, &now);
    if weakened.is_empty() && lowered.is_empty() {
        return None;
    }
    weakened.extend(lowered);
    if let Some(writer) = &state.modified_by {
        weakened.push(format!("written by {writer}"));
    }
    Some(finding(meta, &PARAMETER, &state.name, weakened, None, Some(manual(&state.name))))
}

/// How far a mode restores: off < notify < remediate.
fn strength(mode: Mode) -> u8 {
    match mode {
        Mode::Off => 0,
        Mode::Notify => 1,
        Mode::Remediate => 2,
    }
}

/// What `now` does less than `before`, a line each: modes lowered, principals newly trusted, the
/// scope narrowed, ECR repositories left out; in the document, and under each account's and each
/// organizational unit's overrides.
pub fn weakened(before: &Config, now: &Config) -> Vec<String> {
    let mut lines = weakened_here(before, now);
    let (before_accounts, before_units) = before.override_keys();
    let (now_accounts, now_units) = now.override_keys();
    let accounts: BTreeSet<&str> = before_accounts.into_iter().chain(now_accounts).collect();
    for account in accounts {
        let here = weakened_here(&before.for_account(account, &[]), &now.for_account(account, &[]));
        lines.extend(here.into_iter().map(|line| format!("in account {account}: {line}")));
    }
    let units: BTreeSet<&str> = before_units.into_iter().chain(now_units).collect();
    for unit in units {
        // An account of no other unit and without overrides of its own.
        let (was, is) = (before.for_account("", &[unit]), now.for_account("", &[unit]));
        lines.extend(weakened_here(&was, &is).into_iter().map(|line| format!("in organizational unit {unit}: {line}")));
    }
    lines
}

/// [`weakened`] for one effective configuration.
fn weakened_here(before: &Config, now: &Config) -> Vec<String> {
    let mut lines: Vec<String> = registry()
        .iter()
        .filter(|meta| strength(now.mode(meta.id)) < strength(before.mode(meta.id)))
        .map(|meta| format!("rule {}: {} → {}", meta.id, before.mode(meta.id), now.mode(meta.id)))
        .collect();
    let trusted_before: BTreeSet<&String> = before.trusted_principals.iter().collect();
    let newly_trusted: Vec<&str> =
        now.trusted_principals.iter().filter(|arn| !trusted_before.contains(arn)).map(String::as_str).collect();
    if !newly_trusted.is_empty() {
        lines.push(format!("trusted principals added (never judged): {}", newly_trusted.join(", ")));
    }
    if before.scope == Scope::All && now.scope == Scope::Eks {
        lines.push("scope narrowed from all to eks".to_owned());
    }
    // An empty list judges every repository; a list leaves the others out.
    let judged = |config: &Config| config.ecr_repository_prefixes.iter().cloned().collect::<BTreeSet<String>>();
    let (was, is) = (judged(before), judged(now));
    if !is.is_empty() && (was.is_empty() || !is.is_subset(&was)) && is != was {
        lines.push(format!(
            "ECR repositories judged narrowed to the prefixes {}",
            is.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    lines
}

fn deleted_line(name: &str) -> String {
    format!("snapback's configuration {name} deleted: the functions fall back to the built-in defaults")
}

fn manual(name: &str) -> String {
    format!("put the earlier version of {name} back (aws ssm get-parameter-history --with-decryption)")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::weakened;
    use crate::services::test_support::*;
    use crate::services::watchdog::{ParameterState, WatchdogState, SSM_SOURCE};
    use crate::Config;

    /// A write's (or, with no current version, a deletion's) finding, as the parameter's history
    /// confirms it.
    fn confirmed(previous: Option<&str>, current: Option<&str>) -> Vec<crate::Finding> {
        let (name, request) = match current {
            Some(_) => ("PutParameter", json!({"name": "/snapback/config", "type": "SecureString"})),
            None => ("DeleteParameter", json!({"name": "/snapback/config"})),
        };
        let candidate = findings(&record(SSM_SOURCE, name, request), &Config::default()).remove(0);
        crate::services::confirm(&candidate, &history(previous, current), &Config::default()).into_iter().collect()
    }

    fn history(previous: Option<&str>, current: Option<&str>) -> WatchdogState {
        WatchdogState::Parameter(ParameterState {
            name: "/snapback/config".into(),
            previous: previous.map(str::to_owned),
            current: current.map(str::to_owned),
            modified_by: Some("arn:aws:iam::111122223333:user/mallory".into()),
        })
    }

    #[test]
    fn a_write_to_the_configuration_is_a_candidate_and_other_parameters_are_not() {
        let put = json!({"name": "/snapback/config", "type": "SecureString", "overwrite": true});
        let found = findings(&record(SSM_SOURCE, "PutParameter", put), &Config::default());
        assert_eq!(rule_ids(&found), ["guard-config-weakened"]);
        assert!(found[0].kind.confirmed_by_look_up, "the history decides");
        let other = json!({"name": "/team/app/config", "type": "String"});
        assert!(findings(&record(SSM_SOURCE, "PutParameter", other), &Config::default()).is_empty());
    }

    #[test]
    fn deleting_the_configuration_among_other_parameters_is_reported() {
        let batch = json!({"names": ["/team/app/config", "/snapback-prod/config"]});
        let found = findings(&record(SSM_SOURCE, "DeleteParameters", batch), &Config::default());
        assert_eq!(rule_ids(&found), ["guard-config-weakened"]);
        assert_eq!(found[0].resource, "/snapback-prod/config");
        assert!(found[0].changed[0].contains("deleted"));
    }

    #[test]
    fn the_history_tells_which_rules_were_weakened_and_by_whom() {
        let before = r#"{"rules": {"sg-open-kubelet": {"mode": "remediate"}}, "scope": "all"}"#;
        let after = r#"{"rules": {"sg-open-remote-admin": {"mode": "off"}, "sg-open-kubelet": {"mode": "notify"}},
                        "trusted_principals": ["arn:aws:iam::111122223333:role/ci"]}"#;
        let found = confirmed(Some(before), Some(after));
        assert_eq!(rule_ids(&found), ["guard-config-weakened"]);
        assert_eq!(
            found[0].changed,
            [
                "rule sg-open-remote-admin: remediate → off",
                "rule sg-open-kubelet: remediate → notify",
                "trusted principals added (never judged): arn:aws:iam::111122223333:role/ci",
                "scope narrowed from all to eks",
                "written by arn:aws:iam::111122223333:user/mallory",
            ]
        );
    }

    #[test]
    fn a_stronger_or_unreadable_document_is_no_finding_and_a_deleted_one_is() {
        let stronger = r#"{"rules": {"eks-public-endpoint": {"mode": "remediate"}}}"#;
        assert!(confirmed(None, Some(stronger)).is_empty());
        let refused = confirmed(Some(r#"{"rules": {"sg-open-k8s-api": {"mode": "remediate"}}}"#), Some("{not json"));
        assert!(
            refused[0].changed[0].starts_with("a document the functions refuse was written"),
            "{:?}",
            refused[0].changed
        );
        assert!(
            refused[0].changed.contains(&"rule sg-open-k8s-api: remediate → notify".to_owned()),
            "{:?}",
            refused[0].changed
        );
        assert!(
            state_findings(&history(Some("{}"), Some(r#"{"scope": "all"}"#)), &Config::default()).is_empty(),
            "sweeps do not judge it"
        );
        let deleted = confirmed(Some("{}"), None);
        assert!(deleted[0].changed[0].contains("deleted"), "{:?}", deleted[0].changed);
        assert!(weakened(&Config::default(), &Config::default()).is_empty());
    }

    #[test]
    fn overrides_of_an_account_or_unit_that_do_less_are_weakenings_too() {
        let before = Config::from_json(r#"{"accounts": {"111122223333": {"scope": "all"}}}"#).unwrap();
        let now = Config::from_json(
            r#"{"accounts": {"111122223333": {"rules": {"sg-open-remote-admin": {"mode": "off"}}}},
                "organizational_units": {"ou-ab12-cdef3456": {"trusted_principals": ["arn:aws:iam::111122223333:role/x"]}},
                "ecr_repository_prefixes": ["shop/"]}"#,
        )
        .unwrap();
        assert_eq!(
            weakened(&before, &now),
            [
                "ECR repositories judged narrowed to the prefixes shop/",
                "in account 111122223333: rule sg-open-remote-admin: remediate → off",
                "in account 111122223333: scope narrowed from all to eks",
                "in account 111122223333: ECR repositories judged narrowed to the prefixes shop/",
                "in organizational unit ou-ab12-cdef3456: trusted principals added (never judged): arn:aws:iam::111122223333:role/x",
                "in organizational unit ou-ab12-cdef3456: ECR repositories judged narrowed to the prefixes shop/",
            ]
        );
    }
}
