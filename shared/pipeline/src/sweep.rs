//! A sweep: every resource of the guard's services, as its adapter describes it, judged through
//! the same path as an event (policy, restores, alerts, ledger), as many at a time as the
//! adapters' sweeps make calls (`SWEEP_CONCURRENCY`). A
//! sweep that runs short of time stops before the deadline and leaves a cursor in the ledger; the
//! next run goes on from there. Only a sweep that saw everything resolves what it no longer found.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use snapback_aws::{
    AwsError, Entry, EntryStatus, Found, Ledger, LedgerScope, SweepContext, SweepCursor, SWEEP_CONCURRENCY,
};
use snapback_notify::{Alert, RuleVerdict};
use snapback_rules::{DescribedState, Observation, Origin};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::config_cache::CurrentConfig;
use crate::handler::{Guard, HandlerError, KnownFacts, LookUps};
use crate::ledger::now_ms;
use crate::outcome::DecisionRecord;

/// No new resource is started with less than this left before the deadline.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

/// What one sweep run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub account: String,
    pub region: String,
    /// Resources judged by this run.
    pub resources: usize,
    /// The decisions on findings (resources without one are not listed).
    pub decisions: Vec<DecisionRecord>,
    /// `rule resource` of findings no longer found, marked resolved.
    pub resolved: Vec<String>,
    /// Alerts kept after a failed publish, published now.
    pub pending_published: usize,
    /// False when the run stopped before the deadline: the next run goes on from its cursor.
    pub complete: bool,
    pub errors: Vec<String>,
    /// Heartbeats put on snapback's buses after the sweep (the watchdog's run only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeats_sent: Option<usize>,
}

/// Notes a failure in the report; the first one is the run's error.
fn failed(report: &mut SweepReport, failure: &mut Option<AwsError>, what: String, error: AwsError) {
    tracing::error!(%error, "sweep: {what}");
    report.errors.push(format!("{what}: {error}"));
    failure.get_or_insert(error);
}

/// Where a resource sorts in a sweep: the cursor's unit.
fn sweep_key(found: &Found) -> String {
    format!("{}/{}", found.kind.name, found.resource)
}

impl Guard {
    /// Sweeps the account and region the guard's adapters reach. Returns an error after doing
    /// everything it could when something failed (a service that could not be listed, a restore
    /// a retry may fix), so the failure shows in the function's error metric.
    pub async fn sweep(
        &self,
        account: Option<&str>,
        region: Option<&str>,
        deadline: Instant,
    ) -> Result<SweepReport, HandlerError> {
        // The account's overrides hold for the whole sweep: its scope decides what is listed.
        let current = self.in_account(&self.config.current().await?, account).await?;
        let scope = LedgerScope::new(account, region);
        let now = OffsetDateTime::now_utc();
        let found_at = now.format(&Rfc3339).expect("the time formats");
        let mut report =
            SweepReport { account: scope.account.clone(), region: scope.region.clone(), ..Default::default() };
        let mut failure: Option<AwsError> = None;
        let ledger = self.ledger.as_deref();

        let mut cursor = None;
        if let Some(table) = ledger {
            match self.publish_pending(table, &scope, None).await {
                Ok(published) => report.pending_published = published,
                Err(error) => failed(&mut report, &mut failure, "kept alerts not published".into(), error),
            }
            match table.cursor(&scope).await {
                Ok(found) => cursor = found,
                Err(error) => {
                    failed(&mut report, &mut failure, "ledger cursor not read; sweeping from the start".into(), error)
                }
            }
        }
        // The account and region swept: home, or a member through its role.
        let reach = self.reach(account, region, &current.config, &format!("sweep-{}", scope.account)).await?;
        let adapters = match reach.adapters() {
            Ok(adapters) => adapters,
            Err(error) => {
                failed(&mut report, &mut failure, format!("account {} not reached", scope.account), error);
                return Err(failure.expect("just set").into());
            }
        };
        let started_at = cursor.as_ref().map_or(now_ms(), |cursor| cursor.started_at);
        let first = cursor
            .as_ref()
            .and_then(|cursor| adapters.iter().position(|adapter| adapter.service() == cursor.service))
            .unwrap_or(0);
        let mut after = cursor.and_then(|cursor| cursor.after);
        let mut every_service_listed = true;

        let context = SweepContext::new(current.config.scope).in_account(account);
        for adapter in &adapters[first..] {
            let service = adapter.service();
            let mut found = match adapter.sweep(&context).await {
                Ok(found) => found,
                Err(error) => {
                    every_service_listed = false;
                    failed(&mut report, &mut failure, format!("{service} not swept"), error);
                    continue;
                }
            };
            found.sort_by_cached_key(sweep_key);
            if let Some(after) = after.take() {
                found.retain(|found| sweep_key(found) > after);
            }
            let keys: Vec<String> = found.iter().map(sweep_key).collect();
            let known: Arc<KnownFacts> = Arc::new(
                found
                    .iter()
                    .filter_map(|found| Some(((found.kind.name, found.resource.clone()), found.facts.clone()?)))
                    .collect(),
            );
            let judged: Vec<Option<Result<crate::Report, HandlerError>>> = stream::iter(found)
                .map(|found| {
                    let (current, found_at, scope, known) = (&current, &found_at, &scope, &known);
                    async move {
                        if deadline.saturating_duration_since(Instant::now()) < DEADLINE_MARGIN {
                            return None;
                        }
                        Some(self.judge_found(found, known, current, scope, found_at, deadline).await)
                    }
                })
                .buffered(SWEEP_CONCURRENCY)
                .collect()
                .await;
            let mut last_done: Option<String> = None;
            for (key, judged) in keys.into_iter().zip(judged) {
                match judged {
                    None => {
                        let cursor = SweepCursor { started_at, service: service.to_owned(), after: last_done };
                        return stop_short(ledger, &scope, cursor, report, failure).await;
                    }
                    Some(Ok(judged)) => {
                        report.resources += 1;
                        report.decisions.extend(judged.decisions);
                    }
                    Some(Err(HandlerError::Aws(error))) => {
                        failed(&mut report, &mut failure, format!("{key} not judged"), error)
                    }
                }
                last_done = Some(key);
            }
        }

        report.complete = true;
        if let Some(table) = ledger {
            // Resolving after a partial listing would resolve what was merely not listed.
            if every_service_listed {
                if let Err(error) =
                    self.resolve_unseen(table, &scope, started_at, &current, &found_at, &mut report).await
                {
                    failed(&mut report, &mut failure, "resolved findings not recorded".into(), error);
                }
            }
            if let Err(error) = table.save_cursor(&scope, None).await {
                failed(&mut report, &mut failure, "ledger cursor not cleared".into(), error);
            }
        }
        tracing::info!(
            resources = report.resources,
            findings = report.decisions.len(),
            resolved = report.resolved.len(),
            errors = report.errors.len(),
            "sweep finished"
        );
        match failure {
            Some(error) => Err(error.into()),
            None => Ok(report),
        }
    }

    async fn judge_found(
        &self,
        found: Found,
        known: &Arc<KnownFacts>,
        current: &CurrentConfig,
        scope: &LedgerScope,
        found_at: &str,
        deadline: Instant,
    ) -> Result<crate::Report, HandlerError> {
        let look_ups = LookUps::knowing(known.clone());
        let described = DescribedState::new(
            Some(scope.account.clone()),
            Some(scope.region.clone()),
            found_at,
            &found.resource,
            found.state,
        );
        self.judge_knowing(&Observation::State(described), current, deadline, look_ups).await
    }

    /// Open findings this sweep did not see (last seen before it started) are resolved, and
    /// alerted as such when the configuration asks.
    async fn resolve_unseen(
        &self,
        table: &dyn Ledger,
        scope: &LedgerScope,
        started_at: i64,
        current: &CurrentConfig,
        found_at: &str,
        report: &mut SweepReport,
    ) -> Result<(), AwsError> {
        let now = now_ms();
        for entry in table.open_entries(scope).await? {
            if entry.last_seen >= started_at {
                continue;
            }
            let resolved = Entry { status: EntryStatus::Resolved, last_seen: now, ..entry };
            if current.config.alert_on_resolved {
                if let Some(alert) = resolved_alert(&resolved, scope, found_at, current) {
                    self.publisher.publish(&alert).await?;
                }
            }
            table.record(scope, &resolved).await?;
            tracing::info!(rule = resolved.rule, resource = resolved.resource, "finding resolved");
            report.resolved.push(format!("{} {}", resolved.rule, resolved.resource));
        }
        Ok(())
    }
}

/// Saves the cursor and returns what was done: the next run goes on from the cursor.
async fn stop_short(
    ledger: Option<&dyn Ledger>,
    scope: &LedgerScope,
    cursor: SweepCursor,
    mut report: SweepReport,
    failure: Option<AwsError>,
) -> Result<SweepReport, HandlerError> {
    tracing::warn!(service = cursor.service, after = ?cursor.after, "sweep stopped before the deadline");
    match ledger {
        Some(table) => {
            if let Err(error) = table.save_cursor(scope, Some(&cursor)).await {
                tracing::error!(%error, "sweep cursor not saved: the next run starts over");
                report.errors.push(format!("sweep cursor not saved: {error}"));
            }
        }
        None => report.errors.push(format!(
            "stopped before the deadline at {} after {:?}; without a ledger table the next run starts over",
            cursor.service, cursor.after
        )),
    }
    match failure {
        Some(error) => Err(error.into()),
        None => Ok(report),
    }
}

/// The alert that a finding is gone; None for a rule the registry no longer has.
fn resolved_alert(entry: &Entry, scope: &LedgerScope, found_at: &str, current: &CurrentConfig) -> Option<Alert> {
    let rule = snapback_rules::rule(&entry.rule)?;
    let origin = Origin::sweep(Some(&scope.account), Some(&scope.region), &entry.resource, found_at);
    let mut alert = Alert::new(&origin, &entry.resource, &current.config.exemption_tag);
    alert.cluster = entry.cluster.clone();
    alert.add(RuleVerdict::resolved(rule, &epoch_text(entry.first_seen)));
    Some(alert)
}

fn epoch_text(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}
