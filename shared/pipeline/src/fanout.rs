//! An organization's sweeps, spread out: the central sweeper puts one message per account and
//! region on a queue; sweeper workers (the same function, fed by that queue) each sweep one
//! through the member role, and report the messages they could not finish, so the queue retries
//! them and then moves them to its dead-letter queue. Nothing is dropped silently.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use snapback_aws::{AwsError, Entry, EntryStatus, LedgerScope, Organization};
use snapback_notify::{Alert, RuleVerdict};
use snapback_rules::Origin;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::handler::{Guard, HandlerError};
use crate::ledger::Seen;
use crate::sweep::SweepReport;

/// One account and region to sweep: a queue message's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepTarget {
    pub account: String,
    pub region: String,
}

/// Where the central sweeper spreads sweeps, read once per cold start from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanOutSettings {
    /// `SNAPBACK_SWEEP_QUEUE_URL`: the queue the workers read.
    pub queue_url: String,
    /// `SNAPBACK_SWEEP_ACCOUNTS`: the accounts to sweep, comma separated; or `organization`:
    /// every active account of the organization, listed at each run (then this is empty).
    pub accounts: Vec<String>,
    pub organization: bool,
    /// `SNAPBACK_SWEEP_REGIONS`: the regions to sweep in each, comma separated (default: the
    /// function's own).
    pub regions: Vec<String>,
}

impl FanOutSettings {
    /// None when no queue is set (a deployment per account: the sweeper sweeps its own account).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        home_region: Option<&str>,
    ) -> Result<Option<FanOutSettings>, crate::SettingsError> {
        let Some(queue_url) = lookup("SNAPBACK_SWEEP_QUEUE_URL").filter(|url| !url.trim().is_empty()) else {
            return Ok(None);
        };
        let list = |name: &str| -> Vec<String> {
            lookup(name)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut accounts = list("SNAPBACK_SWEEP_ACCOUNTS");
        let organization = accounts == ["organization"];
        if organization {
            accounts.clear();
        }
        if let Some(bad) = accounts.iter().find(|account| !snapback_rules::is_account_id(account)) {
            return Err(crate::SettingsError {
                name: "SNAPBACK_SWEEP_ACCOUNTS",
                message: format!("expected 12-digit account ids, comma separated; got {bad:?}"),
            });
        }
        if accounts.is_empty() && !organization {
            return Err(crate::SettingsError {
                name: "SNAPBACK_SWEEP_ACCOUNTS",
                message: "must list the accounts to sweep, or say `organization`, when SNAPBACK_SWEEP_QUEUE_URL is set"
                    .into(),
            });
        }
        let mut regions = list("SNAPBACK_SWEEP_REGIONS");
        if regions.is_empty() {
            regions.extend(home_region.map(str::to_owned));
        }
        Ok(Some(FanOutSettings { queue_url: queue_url.trim().to_owned(), accounts, organization, regions }))
    }

    /// Every account × region, in a stable order.
    pub fn targets(&self, accounts: &[String]) -> Vec<SweepTarget> {
        accounts
            .iter()
            .flat_map(|account| {
                self.regions.iter().map(|region| SweepTarget { account: account.clone(), region: region.clone() })
            })
            .collect()
    }
}

/// Puts one message per account and region on the queue (ten to a SendMessageBatch), the
/// accounts listed or, with `organization`, the organization's active ones; returns how many were
/// queued. An entry SQS refuses is an error after the rest were sent: the schedule runs again.
pub async fn fan_out(
    sqs: &aws_sdk_sqs::Client,
    organization: Option<&Organization>,
    settings: &FanOutSettings,
) -> Result<usize, AwsError> {
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    let accounts = match (settings.organization, organization) {
        (true, Some(organization)) => organization.active_accounts().await?,
        (true, None) => return Err(AwsError::permanent("organizations:ListAccounts", "no organization client")),
        (false, _) => settings.accounts.clone(),
    };
    let targets = settings.targets(&accounts);
    let mut refused = Vec::new();
    for (chunk_index, chunk) in targets.chunks(10).enumerate() {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(index, target)| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("{}", chunk_index * 10 + index))
                    .message_body(serde_json::to_string(target).expect("a target serializes"))
                    .build()
                    .expect("id and body are set")
            })
            .collect();
        let sent = sqs
            .send_message_batch()
            .queue_url(&settings.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("sqs:SendMessageBatch", error))?;
        refused.extend(sent.failed().iter().map(|entry| format!("{} ({})", entry.id(), entry.code())));
    }
    tracing::info!(queued = targets.len() - refused.len(), refused = refused.len(), "sweeps fanned out");
    if !refused.is_empty() {
        return Err(AwsError::Retryable {
            operation: "sqs:SendMessageBatch",
            message: format!("{} of {} sweep messages refused: {}", refused.len(), targets.len(), refused.join(", ")),
            source: None,
        });
    }
    Ok(targets.len())
}

/// Whether a Lambda payload is the sweep schedule's (`{"snapback": "sweep"}`): a function that
/// sweeps its own slices (the watchdog) tells it from a CloudTrail event by this.
pub fn is_scheduled_sweep(payload: &Value) -> bool {
    payload["snapback"] == "sweep"
}

/// Whether a Lambda payload is a batch of SQS messages.
pub fn is_queue_batch(payload: &Value) -> bool {
    payload["Records"]
        .as_array()
        .is_some_and(|records| !records.is_empty() && records.iter().all(|record| record["eventSource"] == "aws:sqs"))
}

/// Sweeps the account and region each message names, one after another, and answers with the
/// messages to retry (`batchItemFailures`, for an event source mapping with
/// `ReportBatchItemFailures`): those whose sweep failed in a way a retry can fix. A sweep that
/// failed for good (the member role missing, refusing, or lacking an action) gives one `failed`
/// alert naming the account, the region and the fix instead; with a ledger, once until
/// `realert_after` or until a sweep of that account and region goes through again. A message that names no account and
/// region is logged and dropped: retrying cannot fix it.
pub async fn sweep_messages(guard: &Guard, payload: &Value, deadline: Instant) -> (Value, Vec<SweepReport>) {
    let mut retry = Vec::new();
    let mut reports = Vec::new();
    for record in payload["Records"].as_array().into_iter().flatten() {
        let id = record["messageId"].as_str().unwrap_or_default();
        let body = record["body"].as_str().unwrap_or_default();
        let target: SweepTarget = match serde_json::from_str(body) {
            Ok(target) => target,
            Err(error) => {
                tracing::error!(message_id = id, %error, body, "sweep message dropped: it names no account and region");
                continue;
            }
        };
        let error = match guard.sweep(Some(&target.account), Some(&target.region), deadline).await {
            Ok(report) => {
                reports.push(report);
                sweep_failure_resolved(guard, &target).await;
                continue;
            }
            Err(HandlerError::Aws(error)) => error,
        };
        let (account, region) = (&target.account, &target.region);
        if error.is_retryable() {
            tracing::error!(message_id = id, account, region, %error, "sweep failed: the queue retries it");
            retry.push(json!({"itemIdentifier": id}));
            continue;
        }
        // Retrying cannot fix it (a role missing or refusing): one alert says what to fix, and
        // the message is done. Only an alert that cannot be published sends it back.
        tracing::error!(message_id = id, account, region, %error, "sweep failed for good: alerting, not retrying");
        let previous = sweep_failure(guard, &target).await;
        let now = crate::ledger::now_ms();
        let realert_after = match guard.config.current().await {
            Ok(current) => current.config.realert_after,
            Err(_) => snapback_rules::Config::default().realert_after,
        };
        let outcome = crate::outcome::DecisionOutcome::Failed;
        if !crate::ledger::is_news(previous.as_ref(), Seen::Sweep, "", outcome, now, realert_after) {
            tracing::info!(message_id = id, account, region, "sweep failed as before: alerted already, quiet");
            continue;
        }
        let found_at = OffsetDateTime::now_utc().format(&Rfc3339).expect("the time formats");
        let origin = Origin::sweep(Some(account), Some(region), account, &found_at);
        let mut alert = Alert::new(&origin, account, "");
        alert.add(RuleVerdict::sweep_failed(account, region, &error.to_string()));
        if let Err(error) = guard.publisher.publish(&alert).await {
            tracing::error!(message_id = id, %error, "the failed sweep's alert was not published: the queue retries it");
            retry.push(json!({"itemIdentifier": id}));
            continue;
        }
        let first_seen = previous.as_ref().filter(|e| e.status == EntryStatus::Open).map_or(now, |e| e.first_seen);
        let entry = Entry {
            rule: snapback_notify::SWEEP_FAILED.to_owned(),
            resource: SWEEP_RESOURCE.to_owned(),
            status: EntryStatus::Open,
            fingerprint: String::new(),
            outcome: outcome.as_str().to_owned(),
            cluster: None,
            first_seen,
            last_seen: now,
            last_alerted: Some(now),
            last_event: Some(id.to_owned()),
        };
        remember_sweep_failure(guard, &target, &entry).await;
    }
    (json!({"batchItemFailures": retry}), reports)
}

/// How a failed sweep is kept in the ledger: one entry per account and region (its scope).
const SWEEP_RESOURCE: &str = "sweep";

/// The ledger's entry of the target's failed sweep, if any (none without a ledger, or when it
/// cannot be read: the alert then goes out).
async fn sweep_failure(guard: &Guard, target: &SweepTarget) -> Option<Entry> {
    let ledger = guard.ledger.as_deref()?;
    let scope = LedgerScope::new(Some(&target.account), Some(&target.region));
    match ledger.entry(&scope, snapback_notify::SWEEP_FAILED, SWEEP_RESOURCE).await {
        Ok(entry) => entry,
        Err(error) => {
            tracing::warn!(%error, "ledger unavailable: the failed sweep is alerted as new");
            None
        }
    }
}

async fn remember_sweep_failure(guard: &Guard, target: &SweepTarget, entry: &Entry) {
    let Some(ledger) = guard.ledger.as_deref() else { return };
    let scope = LedgerScope::new(Some(&target.account), Some(&target.region));
    if let Err(error) = ledger.record(&scope, entry).await {
        tracing::warn!(%error, "the failed sweep is not recorded: the next one alerts again");
    }
}

/// A sweep that went through ends the target's failure, so that the next one alerts again.
async fn sweep_failure_resolved(guard: &Guard, target: &SweepTarget) {
    let Some(open) = sweep_failure(guard, target).await.filter(|entry| entry.status == EntryStatus::Open) else {
        return;
    };
    let resolved = Entry { status: EntryStatus::Resolved, last_seen: crate::ledger::now_ms(), ..open };
    remember_sweep_failure(guard, target, &resolved).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Option<FanOutSettings>, crate::SettingsError> {
        let env: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        FanOutSettings::from_lookup(|name| env.get(name).cloned(), Some("eu-west-1"))
    }

    #[test]
    fn fan_out_is_off_without_a_queue_and_names_a_bad_account() {
        assert_eq!(settings(&[("SNAPBACK_SWEEP_ACCOUNTS", "111122223333")]).unwrap(), None);
        let queue = ("SNAPBACK_SWEEP_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/111122223333/snapback-sweeps");
        let read = settings(&[queue, ("SNAPBACK_SWEEP_ACCOUNTS", "111122223333, 444455556666")]).unwrap().unwrap();
        assert_eq!(read.regions, ["eu-west-1"], "the function's own region by default");
        assert!(!read.organization);
        assert_eq!(
            read.targets(&read.accounts),
            [
                SweepTarget { account: "111122223333".into(), region: "eu-west-1".into() },
                SweepTarget { account: "444455556666".into(), region: "eu-west-1".into() },
            ]
        );
        let two_regions = settings(&[
            queue,
            ("SNAPBACK_SWEEP_ACCOUNTS", "111122223333"),
            ("SNAPBACK_SWEEP_REGIONS", "us-east-1,eu-west-1"),
        ]);
        let two_regions = two_regions.unwrap().unwrap();
        assert_eq!(two_regions.targets(&two_regions.accounts).len(), 2);
        let whole = settings(&[queue, ("SNAPBACK_SWEEP_ACCOUNTS", "organization")]).unwrap().unwrap();
        assert!(whole.organization && whole.accounts.is_empty());
        let bad = settings(&[queue, ("SNAPBACK_SWEEP_ACCOUNTS", "111122223333,prod")]).unwrap_err();
        assert_eq!(bad.name, "SNAPBACK_SWEEP_ACCOUNTS");
        assert!(bad.message.contains("\"prod\""), "{bad}");
        assert_eq!(settings(&[queue]).unwrap_err().name, "SNAPBACK_SWEEP_ACCOUNTS");
    }

    #[test]
    fn only_a_batch_of_sqs_records_is_a_queue_batch() {
        assert!(is_queue_batch(&json!({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]})));
        assert!(!is_queue_batch(&json!({"Records": []})));
        assert!(!is_queue_batch(&json!({"source": "aws.scheduler"})));
        assert!(!is_queue_batch(&json!({"Records": [{"eventSource": "aws:sns"}]})));
    }
}
