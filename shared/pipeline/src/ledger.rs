//! What the ledger means for alerts, as pure functions: when a finding is news, and what to
//! remember of it. The table itself is `snapback_aws::Ledger`.

use std::time::Duration;

use snapback_aws::{Entry, EntryStatus};
use snapback_rules::{Action, Finding};

use crate::outcome::DecisionOutcome;

/// The finding's identity beyond rule and resource: what is wrong and what would restore it,
/// order-free. A sweep's finding equals the event's when the state is what the change made.
pub fn fingerprint(finding: &Finding) -> String {
    let mut parts: Vec<String> = finding.changed.clone();
    parts.sort();
    let mut plan: Vec<String> = finding.plan.actions.iter().map(Action::describe).collect();
    plan.sort();
    parts.push(String::new());
    parts.extend(plan);
    // FNV-1a, 64 bits: stable across builds and platforms, unlike std's hasher.
    let hash = parts
        .join("\n")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{hash:016x}")
}

/// The ledger's clock: epoch milliseconds.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// What an observation is to the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen<'a> {
    /// A CloudTrail event (its id): always news, unless this very event already alerted it
    /// (Lambda's retry of an invocation that got as far as the alert).
    Change(&'a str),
    /// A sweep: news when new, changed, back after being resolved, restored by this sweep, or
    /// quiet for `realert_after`.
    Sweep,
}

/// Whether the finding's alert goes out (`now` and the entry's times in epoch milliseconds).
pub fn is_news(
    entry: Option<&Entry>,
    seen: Seen,
    fingerprint: &str,
    outcome: DecisionOutcome,
    now: i64,
    realert_after: Duration,
) -> bool {
    let Some(entry) = entry else { return true };
    match seen {
        Seen::Change(event_id) => entry.last_event.as_deref() != Some(event_id) || entry.fingerprint != fingerprint,
        Seen::Sweep => {
            outcome == DecisionOutcome::Remediated
                || entry.status == EntryStatus::Resolved
                || entry.fingerprint != fingerprint
                || entry.outcome != outcome.as_str()
                || entry.last_alerted.is_none_or(|at| now - at >= realert_after.as_millis() as i64)
        }
    }
}

/// The entry to write after the finding's verdict: seen now, alerted now if `alerted`, resolved
/// when restored.
pub struct Remembered<'a> {
    pub finding: &'a Finding,
    pub outcome: DecisionOutcome,
    pub cluster: Option<String>,
    pub fingerprint: String,
    pub alerted: bool,
    pub observation_id: &'a str,
}

pub fn remember(previous: Option<Entry>, now: i64, new: Remembered) -> Entry {
    let open = previous.filter(|entry| entry.status == EntryStatus::Open);
    let (last_alerted, last_event, outcome) = match (&open, new.alerted) {
        (_, true) => (Some(now), Some(new.observation_id.to_owned()), new.outcome.as_str().to_owned()),
        (Some(entry), false) => (entry.last_alerted, entry.last_event.clone(), entry.outcome.clone()),
        (None, false) => (None, None, new.outcome.as_str().to_owned()),
    };
    Entry {
        rule: new.finding.rule.id.to_owned(),
        resource: new.finding.resource.clone(),
        status: if new.outcome == DecisionOutcome::Remediated { EntryStatus::Resolved } else { EntryStatus::Open },
        fingerprint: new.fingerprint,
        outcome,
        cluster: new.cluster.or_else(|| open.as_ref().and_then(|entry| entry.cluster.clone())),
        first_seen: open.as_ref().map_or(now, |entry| entry.first_seen),
        last_seen: now,
        last_alerted,
        last_event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600 * 1000;
    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn entry(outcome: &str, last_alerted: i64, status: EntryStatus) -> Entry {
        Entry {
            rule: "sg-open-remote-admin".into(),
            resource: "sg-1".into(),
            status,
            fingerprint: "f1".into(),
            outcome: outcome.into(),
            cluster: Some("prod".into()),
            first_seen: 0,
            last_seen: last_alerted,
            last_alerted: Some(last_alerted),
            last_event: Some("event-1".into()),
        }
    }

    #[test]
    fn a_sweep_is_quiet_about_an_unchanged_finding_until_realert_after() {
        let open = entry("would-remediate", 0, EntryStatus::Open);
        let notify = DecisionOutcome::WouldRemediate;
        assert!(is_news(None, Seen::Sweep, "f1", notify, HOUR, DAY), "new");
        assert!(!is_news(Some(&open), Seen::Sweep, "f1", notify, HOUR, DAY), "unchanged, within a day");
        assert!(is_news(Some(&open), Seen::Sweep, "f1", notify, 25 * HOUR, DAY), "unchanged, a day later");
        assert!(is_news(Some(&open), Seen::Sweep, "f2", notify, HOUR, DAY), "changed");
        assert!(is_news(Some(&open), Seen::Sweep, "f1", DecisionOutcome::Exempt, HOUR, DAY), "now exempt");
        assert!(is_news(Some(&open), Seen::Sweep, "f1", DecisionOutcome::Remediated, HOUR, DAY), "restored");
        let resolved = entry("would-remediate", 0, EntryStatus::Resolved);
        assert!(is_news(Some(&resolved), Seen::Sweep, "f1", notify, HOUR, DAY), "back after resolved");
    }

    #[test]
    fn an_event_is_news_unless_this_same_event_already_alerted_it() {
        let open = entry("would-remediate", 0, EntryStatus::Open);
        let notify = DecisionOutcome::WouldRemediate;
        assert!(!is_news(Some(&open), Seen::Change("event-1"), "f1", notify, HOUR, DAY), "Lambda's retry");
        assert!(is_news(Some(&open), Seen::Change("event-2"), "f1", notify, HOUR, DAY), "done again");
        assert!(is_news(None, Seen::Change("event-1"), "f1", notify, HOUR, DAY));
    }

    #[test]
    fn remembering_keeps_first_seen_and_moves_last_alerted_only_when_alerted() {
        let finding = Finding {
            rule: snapback_rules::rule("sg-open-remote-admin").unwrap(),
            kind: &snapback_rules::services::security_groups::SECURITY_GROUP,
            resource: "sg-1".into(),
            changed: vec!["tcp 22 from 0.0.0.0/0".into()],
            plan: Default::default(),
        };
        let new = |alerted, outcome| Remembered {
            finding: &finding,
            outcome,
            cluster: None,
            fingerprint: "f1".into(),
            alerted,
            observation_id: "sweep-2",
        };
        let open = entry("would-remediate", 0, EntryStatus::Open);
        let quiet = remember(Some(open.clone()), HOUR, new(false, DecisionOutcome::WouldRemediate));
        assert_eq!((quiet.first_seen, quiet.last_seen, quiet.last_alerted), (0, HOUR, Some(0)));
        assert_eq!(quiet.cluster.as_deref(), Some("prod"));
        let loud = remember(Some(open.clone()), HOUR, new(true, DecisionOutcome::WouldRemediate));
        assert_eq!((loud.last_alerted, loud.last_event.as_deref()), (Some(HOUR), Some("sweep-2")));
        let restored = remember(Some(open), HOUR, new(true, DecisionOutcome::Remediated));
        assert_eq!(restored.status, EntryStatus::Resolved);
        let fresh = remember(None, HOUR, new(true, DecisionOutcome::WouldRemediate));
        assert_eq!((fresh.first_seen, fresh.status), (HOUR, EntryStatus::Open));
    }
}
