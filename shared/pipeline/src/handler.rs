//! The handler: payload → observation → screen → the function's slices' rules → facts and policy
//! → restores (merged, each run once) → one alert per resource → one log line per decision.
//! Nothing here names a service: each finding's resource kind says which adapter looks it up,
//! each action says which adapter runs it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use serde_json::Value;
use snapback_aws::{
    Accounts, ActionResult, Adapters, AlertPublisher, AwsError, Claim, Described, Entry, Ledger, LedgerScope,
    Organization, ServiceAdapter,
};
use snapback_notify::{Alert, RuleVerdict};
use snapback_rules::{
    decide, screen, Action, Config, Decision, Event, Finding, Function, Observation, Origin, ResourceFacts, Scope,
};
use time::OffsetDateTime;

use crate::config_cache::{ConfigCache, CurrentConfig};
use crate::ledger::{fingerprint, is_news, remember, Remembered, Seen};
use crate::outcome::{DecisionOutcome, DecisionRecord, Report};

/// The only error a handler returns: something a retry can fix. Lambda then retries the event
/// and, after its retries, hands it to the failure destination.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        lambda_runtime::Diagnostic { error_type: "snapback::Retryable".into(), error_message: error.to_string() }
    }
}

/// The invocation's deadline as an [`Instant`], from the Lambda context: epoch milliseconds on
/// AWS. cargo-lambda's emulator sends the timeout itself (`600000`) instead; a value too small to
/// be an epoch time is read as that duration.
pub fn deadline(context: &lambda_runtime::Context) -> Instant {
    const YEAR_2001_MS: u64 = 978_307_200_000;
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default();
    let remaining_ms =
        if context.deadline >= YEAR_2001_MS { context.deadline.saturating_sub(now_ms) } else { context.deadline };
    tracing::debug!(deadline_ms = context.deadline, remaining_ms, "invocation deadline");
    Instant::now() + Duration::from_millis(remaining_ms)
}

/// (partition, account) of an ARN.
fn arn_account(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.split(':');
    let (_, partition, _, _, account) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    Some((partition, account)).filter(|(partition, account)| !partition.is_empty() && !account.is_empty())
}

/// The account of a Lambda function's ARN (`arn:aws:lambda:<region>:<account>:function:<name>`).
pub fn account_of_function(function_arn: &str) -> Option<&str> {
    function_arn.split(':').nth(4).filter(|account| !account.is_empty())
}

/// A guard function: its registry entry, one adapter per slice it hosts, the alert publisher and
/// the config, all built once per cold start; one `handle` per event.
pub struct Guard {
    pub function: &'static Function,
    /// The adapters of the function's own account and region.
    pub adapters: Vec<Box<dyn ServiceAdapter>>,
    /// Other accounts and regions (a central deployment's members); None: every observation is
    /// judged with `adapters`, as in a deployment per account.
    pub accounts: Option<Accounts>,
    /// The organization, for the units an account is in when the configuration overrides units.
    pub organization: Option<Organization>,
    pub publisher: Box<dyn AlertPublisher>,
    pub config: ConfigCache,
    /// snapback's own roles: their changes are never judged.
    pub own_principals: Vec<String>,
    /// What was found and alerted, events handled, alerts not yet published; None without a
    /// table (everything works, without the de-duplication).
    pub ledger: Option<Box<dyn Ledger>>,
}

/// How a failed action ended: retry the event, or report the failure.
#[derive(Debug, Clone)]
enum ActionFailure {
    Retryable(String),
    Final(String),
}

/// The adapters for where an observation happened, or why that place cannot be reached.
pub(crate) enum Reach<'a> {
    Home(&'a [Box<dyn ServiceAdapter>]),
    Member(Adapters),
    /// The member role could not be assumed and retrying will not change that.
    Unreachable(String),
}

impl Reach<'_> {
    pub(crate) fn adapters(&self) -> Result<&[Box<dyn ServiceAdapter>], AwsError> {
        match self {
            Reach::Home(adapters) => Ok(adapters),
            Reach::Member(adapters) => Ok(adapters),
            Reach::Unreachable(why) => Err(AwsError::permanent("sts:AssumeRole", why.clone())),
        }
    }

    fn adapter(&self, function: &Function, service: &str) -> Result<&dyn ServiceAdapter, AwsError> {
        self.adapters()?.iter().find(|adapter| adapter.service() == service).map(|adapter| adapter.as_ref()).ok_or_else(
            || AwsError::permanent("look up adapter", format!("{} has no adapter for {service}", function.name)),
        )
    }
}

/// One finding's way through policy and execution, before it is logged and alerted.
struct Verdict {
    outcome: DecisionOutcome,
    cluster: Option<String>,
    notes: Vec<String>,
    detail: Option<String>,
    /// What was actually run, when the finding's actions were merged with others.
    ran: Option<Vec<String>>,
    /// A notify-mode decision: left alone, unless another rule's restore undid the same thing.
    notify: bool,
}

impl Verdict {
    fn new(outcome: DecisionOutcome, cluster: Option<String>, notes: Vec<String>) -> Verdict {
        Verdict { outcome, cluster, notes, detail: None, ran: None, notify: false }
    }

    fn quiet(outcome: DecisionOutcome, detail: impl Into<String>) -> Verdict {
        Verdict { detail: Some(detail.into()), ..Verdict::new(outcome, None, Vec::new()) }
    }

    fn with_detail(mut self, detail: impl Into<String>) -> Verdict {
        self.detail = Some(detail.into());
        self
    }
}

/// A finding the policy wants restored, waiting for its merged actions to run.
struct Restore {
    cluster: Option<String>,
    notes: Vec<String>,
    /// Indexes into the event's merged actions.
    actions: Vec<usize>,
}

/// Facts by (resource kind, resource id).
pub(crate) type KnownFacts = HashMap<(&'static str, String), ResourceFacts>;

/// What the event's findings' resources looked like, each looked up once.
#[derive(Default)]
pub(crate) struct LookUps {
    facts: HashMap<(&'static str, String), Option<ResourceFacts>>,
    described: HashMap<(&'static str, String), Described>,
    /// What a sweep already knows about the resources it described (a nodegroup's finding is
    /// about its cluster, which the same sweep described): no look-up needed for those.
    known: Option<Arc<KnownFacts>>,
}

impl LookUps {
    pub(crate) fn knowing(known: Arc<KnownFacts>) -> LookUps {
        LookUps { known: Some(known), ..LookUps::default() }
    }
}

/// How a finding is named on its event's claim while it is being restored.
fn restoring_key(finding: &Finding) -> String {
    format!("{} {}", finding.rule.id, finding.resource)
}

/// A finding an earlier attempt at this event was restoring, found safe now: that attempt
/// restored it and died before its alert, which is this attempt's to send, once.
fn restored_by_earlier_attempt(finding: &Finding, verdict: Verdict, restored_before: &[String]) -> Verdict {
    if verdict.outcome != DecisionOutcome::AlreadySafe || !restored_before.contains(&restoring_key(finding)) {
        return verdict;
    }
    tracing::info!(rule = finding.rule.id, resource = %finding.resource, "restored by an earlier attempt at this event");
    Verdict { outcome: DecisionOutcome::Remediated, ..verdict }
        .with_detail("restored by an earlier attempt at this event, which stopped before its alert")
}

/// Claims the event; while another delivery holds it, waits for that one to finish (a duplicate
/// delivery running alongside) or for its lease to run out (a delivery that died), as long as
/// this invocation has time left. Still held then: returned as is.
async fn claim_when_free(
    table: &dyn Ledger,
    scope: &LedgerScope,
    event_id: &str,
    deadline: Instant,
) -> Result<Claim, AwsError> {
    const MARGIN: Duration = Duration::from_secs(3);
    let mut pause = Duration::from_millis(50);
    loop {
        let now = crate::ledger::now_ms();
        let claim = table.claim(scope, event_id, now, lease_seconds(deadline)).await?;
        let Claim::Held { until } = claim else { return Ok(claim) };
        let lease_left = Duration::from_millis(until.saturating_sub(now).max(0) as u64);
        let wait = pause.min(lease_left + Duration::from_millis(10));
        if Instant::now() + wait + MARGIN >= deadline {
            return Ok(claim);
        }
        tokio::time::sleep(wait).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// How long a delivery holds an event's claim: past the invocation's deadline, a retry may take over.
fn lease_seconds(deadline: Instant) -> i64 {
    deadline.saturating_duration_since(Instant::now()).as_secs() as i64 + 30
}

impl Guard {
    /// The deployed guard for `function`: SDK adapters for its slices, SNS, config from the settings.
    pub fn from_settings(
        function: &'static Function,
        sdk: &snapback_aws::SdkConfig,
        settings: &crate::Settings,
    ) -> Guard {
        let protected = settings.own_principals.clone();
        let build: snapback_aws::BuildAdapters = Arc::new(move |sdk| snapback_aws::adapters(function, sdk, &protected));
        Guard {
            function,
            adapters: build(sdk),
            // The alert topic lives in the function's own account: that is home.
            accounts: arn_account(&settings.topic_arn)
                .map(|(partition, account)| Accounts::new(account, partition, sdk, build)),
            organization: Some(Organization::from_sdk(sdk)),
            publisher: Box::new(snapback_aws::SnsPublisher::new(aws_sdk_sns::Client::new(sdk), &settings.topic_arn)),
            config: ConfigCache::from_settings(sdk, settings),
            own_principals: settings.own_principals.clone(),
            ledger: settings
                .ledger_table
                .as_ref()
                .map(|table| Box::new(snapback_aws::DynamoLedger::from_sdk(sdk, table)) as Box<dyn Ledger>),
        }
    }

    pub async fn handle(&self, payload: &Value, deadline: Instant) -> Result<Report, HandlerError> {
        if let Some(heartbeat) = snapback_rules::heartbeat::read(payload) {
            return self.heartbeat(heartbeat).await;
        }
        let event = match Event::from_value(payload) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(reason = %error, "event ignored: cannot be read");
                return Ok(Report { ignored: Some(error.to_string()), ..Report::default() });
            }
        };
        let current = self.config.current().await?;
        // Boxed: the judging future is deep, and a function's main need not carry its layout.
        Box::pin(self.judge(&Observation::Change(event), &current, deadline)).await
    }

    /// Judges one observation: screen, rules, policy, restores, alerts, decision logs.
    pub async fn judge(
        &self,
        observation: &Observation,
        current: &CurrentConfig,
        deadline: Instant,
    ) -> Result<Report, HandlerError> {
        let current = self.in_account(current, observation.origin().account.as_deref()).await?;
        self.judge_knowing(observation, &current, deadline, LookUps::default()).await
    }

    /// [`Guard::judge`], with what is already known about the resources, under the configuration
    /// that holds in the observation's account ([`Guard::in_account`]).
    pub(crate) async fn judge_knowing(
        &self,
        observation: &Observation,
        current: &CurrentConfig,
        deadline: Instant,
        mut look_ups: LookUps,
    ) -> Result<Report, HandlerError> {
        let started = Instant::now();
        let origin = observation.origin();
        let config = &current.config;
        let (id, name) = (observation.id(), observation.name());
        let mut report = Report { event_id: Some(id.to_owned()), ..Report::default() };
        // A described state was made by nobody: only a change has a caller and a call to screen.
        if let Observation::Change(event) = observation {
            let listens = |source: &str, name: &str| self.function.listens_to(source, name);
            if let Some(ignored) = screen(event, config, &self.own_principals, listens) {
                tracing::info!(event_id = id, event_name = name, reason = ignored.label(), detail = %ignored, "event ignored");
                report.ignored = Some(ignored.to_string());
                return Ok(report);
            }
        }
        let findings = match observation.judge(self.function.slices(), config) {
            Ok(findings) => findings,
            Err(unreadable) => {
                tracing::warn!(event_id = id, event_name = name, reason = %unreadable, "event ignored: unreadable");
                report.ignored = Some(format!("unreadable: {unreadable}"));
                return Ok(report);
            }
        };
        let reach = match findings.is_empty() {
            true => Reach::Home(&self.adapters),
            false => self.reach(origin.account.as_deref(), origin.region.as_deref(), config, &origin.event_id).await?,
        };
        let now = crate::ledger::now_ms();
        let scope = LedgerScope::new(origin.account.as_deref(), origin.region.as_deref());
        let mut retry: Option<AwsError> = None;
        let mut ledger = self.ledger.as_deref();

        // One delivery of an event acts on it; a retry first publishes what its attempt could not.
        // Claimed before the findings are confirmed (see below).
        let claimed = matches!(observation, Observation::Change(_)) && !findings.is_empty();
        let mut restored_before: Vec<String> = Vec::new();
        if let (true, Some(table)) = (claimed, ledger) {
            match claim_when_free(table, &scope, id, deadline).await {
                Ok(Claim::Duplicate) => {
                    tracing::info!(event_id = id, event_name = name, reason = "duplicate", "event ignored");
                    report.ignored = Some("duplicate delivery: another delivery of this event handled it".into());
                    return Ok(report);
                }
                Ok(Claim::Held { until }) => {
                    // Still held as this invocation runs out: Lambda's retry comes back later.
                    tracing::warn!(event_id = id, held_until = until, "another delivery holds the event: retry later");
                    return Err(AwsError::Retryable {
                        operation: "claim the event",
                        message: format!("another delivery holds event {id} until {until} (epoch ms)"),
                        source: None,
                    }
                    .into());
                }
                Ok(Claim::Retry { restoring }) => {
                    restored_before = restoring;
                    if let Err(error) = self.publish_pending(table, &scope, Some(id)).await {
                        retry.get_or_insert(error);
                    }
                }
                Ok(Claim::First) => {}
                Err(error) => {
                    // The restore matters more than de-duplication: go on without the ledger.
                    tracing::warn!(event_id = id, %error, "ledger unavailable: judging without it");
                    ledger = None;
                }
            }
        }
        // Confirmed after the claim: a retry keeps what its dead attempt restored, which the
        // resource as described now no longer bears out.
        let findings = match observation {
            Observation::Change(_) => self.confirmed(&reach, findings, config, &mut look_ups, &restored_before).await,
            Observation::State(_) => findings,
        };
        if findings.is_empty() {
            tracing::info!(event_id = id, event_name = name, "no findings");
        }

        // Policy first, for every finding; then each distinct (merged) action runs once.
        let mut merged: Vec<Action> = Vec::new();
        let mut steps: Vec<Result<Restore, Verdict>> = Vec::new();
        for finding in &findings {
            let step = match self.policy(&reach, finding, config, &mut look_ups).await {
                Ok(Ok(mut restore)) => {
                    restore.actions =
                        finding.plan.actions.iter().map(|action| action.merge_into(&mut merged)).collect();
                    Ok(restore)
                }
                Ok(Err(verdict)) => Err(verdict),
                Err(error) => Err(lookup_failed(id, finding, error, &mut retry)),
            };
            steps.push(step);
        }
        // Written ahead: an attempt that dies between its restore and its alert leaves its retry
        // the knowledge that the restore was its own (see `restored_by_earlier_attempt`).
        if let (true, Some(table), false) = (claimed, ledger, merged.is_empty()) {
            let restoring: Vec<String> = findings
                .iter()
                .zip(&steps)
                .filter(|(_, step)| step.is_ok())
                .map(|(finding, _)| restoring_key(finding))
                .collect();
            if let Err(error) = table.note_restoring(&scope, id, &restoring).await {
                tracing::warn!(event_id = id, %error, "restores not noted in the ledger: a retry after a crash may not alert them");
            }
        }
        let mut results: Vec<Result<ActionResult, ActionFailure>> = Vec::new();
        for action in &merged {
            let described = look_ups.described.remove(&(action.service(), action.resource().to_owned()));
            let result = match self.run(&reach, action, described, deadline).await {
                Ok(result) => Ok(result),
                Err(error) if error.is_retryable() => {
                    tracing::error!(event_id = id, action = %action.describe(), %error, "will retry the event");
                    let failure = ActionFailure::Retryable(error.to_string());
                    retry.get_or_insert(error);
                    Err(failure)
                }
                Err(error) => Err(ActionFailure::Final(error.to_string())),
            };
            results.push(result);
        }

        let verdicts: Vec<Verdict> = findings
            .iter()
            .zip(steps)
            .map(|(finding, step)| match step {
                Err(verdict) if verdict.notify => restored_alongside(finding, verdict, &merged, &results),
                Err(verdict) => verdict,
                Ok(restore) => {
                    let ran: Vec<String> = restore.actions.iter().map(|index| merged[*index].describe()).collect();
                    Verdict { ran: Some(ran), ..verdict_of(restore, &results) }
                }
            })
            .zip(&findings)
            .map(|(verdict, finding)| restored_by_earlier_attempt(finding, verdict, &restored_before))
            .collect();
        // The ledger says which alerting findings are news (all of them without one).
        let seen = match observation {
            Observation::Change(_) => Seen::Change(id),
            Observation::State(_) => Seen::Sweep,
        };
        let previous = recall(ledger, &scope, &findings, &verdicts).await;
        let fingerprints: Vec<String> = findings.iter().map(fingerprint).collect();
        let news: Vec<bool> = verdicts
            .iter()
            .enumerate()
            .map(|(index, verdict)| {
                verdict.outcome.alert().is_some()
                    && is_news(
                        previous[index].as_ref(),
                        seen,
                        &fingerprints[index],
                        verdict.outcome,
                        now,
                        config.realert_after,
                    )
            })
            .collect();
        let mut delivered: HashSet<(&str, &str)> = HashSet::new();
        for (key, alert) in alerts(&origin, &findings, &verdicts, &news, current) {
            let Err(error) = self.publisher.publish(&alert).await else {
                delivered.insert(key);
                continue;
            };
            tracing::error!(event_id = id, rules = ?alert.rule_ids(), %error, alert = %alert.to_json(), "alert not published");
            let kept = match ledger {
                Some(table) => {
                    match table.keep_pending(&scope, id, &alert.resource, &alert.to_json().to_string(), now).await {
                        Ok(()) => true,
                        Err(error) => {
                            tracing::error!(event_id = id, %error, "alert not kept in the ledger either");
                            false
                        }
                    }
                }
                None => false,
            };
            if kept {
                delivered.insert(key);
            }
            // An event's retry publishes a kept alert at once; a sweep's next run does.
            if !kept || matches!(observation, Observation::Change(_)) {
                retry.get_or_insert(error);
            }
        }
        if let Some(table) = ledger {
            let entries = findings
                .iter()
                .zip(&verdicts)
                .enumerate()
                .filter(|(_, (_, verdict))| verdict.outcome.alert().is_some())
                .map(|(index, (finding, verdict))| {
                    let remembered = Remembered {
                        finding,
                        outcome: verdict.outcome,
                        cluster: verdict.cluster.clone(),
                        fingerprint: fingerprints[index].clone(),
                        alerted: news[index] && delivered.contains(&(finding.kind.name, finding.resource.as_str())),
                        observation_id: id,
                    };
                    (finding.rule.id, remember(previous[index].clone(), now, remembered))
                });
            let entries: Vec<(&str, Entry)> = entries.collect();
            let recorded = join_all(entries.iter().map(|(_, entry)| table.record(&scope, entry))).await;
            for ((rule, _), result) in entries.iter().zip(recorded) {
                if let Err(error) = result {
                    tracing::warn!(event_id = id, rule, %error, "finding not recorded in the ledger");
                }
            }
            if claimed {
                if let Err(error) = table.settle(&scope, id, retry.is_none()).await {
                    tracing::warn!(event_id = id, %error, "event's claim not settled: a retry may take over after its lease");
                }
            }
        }
        for ((finding, verdict), news) in findings.iter().zip(&verdicts).zip(&news) {
            if verdict.outcome.alert().is_some() && !news {
                tracing::info!(event_id = id, rule = finding.rule.id, resource = %finding.resource, "alerted before: quiet");
            }
        }
        for (finding, verdict) in findings.iter().zip(verdicts) {
            tracing::info!(
                event_id = id,
                event_name = name,
                rule = finding.rule.id,
                resource = %finding.resource,
                outcome = verdict.outcome.as_str(),
                detail = verdict.detail.as_deref().unwrap_or(""),
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                "decision"
            );
            let event_time = origin.event_time.as_deref().filter(|_| !origin.found_by_sweep);
            crate::metrics::emit(&crate::metrics::decision_metrics(
                self.function.name,
                finding.rule.id,
                verdict.outcome,
                event_time,
                OffsetDateTime::now_utc(),
            ));
            report.decisions.push(DecisionRecord {
                rule: finding.rule.id.to_owned(),
                resource: finding.resource.clone(),
                outcome: verdict.outcome,
                detail: verdict.detail,
            });
        }
        match retry {
            Some(error) => Err(error.into()),
            None => Ok(report),
        }
    }

    /// Publishes the alerts the ledger kept (of one event, or all of the scope's) and forgets
    /// each one published; the first failure is returned after trying the rest.
    pub(crate) async fn publish_pending(
        &self,
        table: &dyn Ledger,
        scope: &LedgerScope,
        event_id: Option<&str>,
    ) -> Result<usize, AwsError> {
        let mut failed = None;
        let mut published = 0;
        for pending in table.pending(scope, event_id).await? {
            let alert: Alert = match serde_json::from_str(&pending.alert) {
                Ok(alert) => alert,
                Err(error) => {
                    tracing::error!(%error, alert = %pending.alert, "a kept alert cannot be read: dropped");
                    table.forget_pending(scope, &pending).await?;
                    continue;
                }
            };
            match self.publisher.publish(&alert).await {
                Ok(()) => {
                    published += 1;
                    tracing::info!(rules = ?alert.rule_ids(), resource = %alert.resource, "kept alert published");
                    table.forget_pending(scope, &pending).await?;
                }
                Err(error) => {
                    failed.get_or_insert(error);
                }
            }
        }
        match failed {
            Some(error) => Err(error),
            None => Ok(published),
        }
    }

    /// The configuration that holds in `account`: the document with its units' and its own
    /// overrides. Units the organization cannot tell for good (no access) are left out, and the
    /// alerts say so; a failure a retry can fix is returned rather than judged on a partial
    /// configuration.
    pub(crate) async fn in_account(
        &self,
        current: &CurrentConfig,
        account: Option<&str>,
    ) -> Result<CurrentConfig, AwsError> {
        let Some(account) = account.filter(|account| current.config.overrides_for(account)) else {
            return Ok(current.clone());
        };
        let mut note = current.note.clone();
        let units = match (&self.organization, current.config.overrides_units()) {
            (Some(organization), true) => match organization.units_of(account).await {
                Ok(units) => units,
                Err(error) if error.is_retryable() => return Err(error),
                Err(error) => {
                    tracing::error!(account, %error, "organizational units unknown: their overrides are not applied");
                    note = Some(format!(
                        "the organizational units of account {account} could not be read ({error}); their overrides \
                         are not applied"
                    ));
                    Vec::new()
                }
            },
            _ => Vec::new(),
        };
        let units: Vec<&str> = units.iter().map(String::as_str).collect();
        Ok(CurrentConfig { config: Arc::new(current.config.for_account(account, &units)), note })
    }

    /// The adapters for the observation's account and region: the function's own, or a member
    /// account's through its role. A role that cannot be assumed for good is reported in each
    /// finding's verdict; a failure a retry can fix is returned.
    pub(crate) async fn reach(
        &self,
        account: Option<&str>,
        region: Option<&str>,
        config: &Config,
        session: &str,
    ) -> Result<Reach<'_>, AwsError> {
        let (Some(accounts), Some(account), Some(region)) = (&self.accounts, account, region) else {
            return Ok(Reach::Home(&self.adapters));
        };
        if accounts.is_home(account, region) {
            return Ok(Reach::Home(&self.adapters));
        }
        match Box::pin(accounts.adapters(account, region, &config.member_role, session)).await {
            Ok(adapters) => Ok(Reach::Member(adapters)),
            Err(error) if error.is_retryable() => Err(error),
            Err(error) => {
                tracing::error!(account, region, role = %config.member_role, %error, "member account unreachable");
                Ok(Reach::Unreachable(error.to_string()))
            }
        }
    }

    async fn run(
        &self,
        reach: &Reach<'_>,
        action: &Action,
        described: Option<Described>,
        deadline: Instant,
    ) -> Result<ActionResult, AwsError> {
        reach.adapter(self.function, action.service())?.run(action, described, deadline).await
    }

    /// A change's findings on kinds whose record cannot tell everything (`confirmed_by_look_up`:
    /// a registry's scanning configuration, a nodegroup's subnets), each kept only when the
    /// resource as its adapter describes it bears the finding out (`services::confirm`). A
    /// look-up that fails keeps the finding: its policy step looks up again and reports it. So
    /// does one the event's dead attempt was restoring (`restored_before`): its alert is owed.
    async fn confirmed(
        &self,
        reach: &Reach<'_>,
        findings: Vec<Finding>,
        config: &Config,
        look_ups: &mut LookUps,
        restored_before: &[String],
    ) -> Vec<Finding> {
        let mut kept = Vec::with_capacity(findings.len());
        for finding in findings {
            if !finding.kind.confirmed_by_look_up || restored_before.contains(&restoring_key(&finding)) {
                kept.push(finding);
                continue;
            }
            if let Err(error) = self.look_up(reach, &finding, config, look_ups).await {
                tracing::warn!(rule = finding.rule.id, resource = %finding.resource, %error, "look-up to confirm failed");
                kept.push(finding);
                continue;
            }
            let Some(described) = look_ups.described.get(&(finding.kind.service, finding.resource.clone())) else {
                // Gone, or nothing described: policy decides with the facts.
                kept.push(finding);
                continue;
            };
            match snapback_rules::services::confirm(&finding, described.as_ref(), config) {
                Some(confirmed) => kept.push(confirmed),
                None => tracing::info!(
                    rule = finding.rule.id,
                    resource = %finding.resource,
                    "no finding: the resource as described does not bear the change's finding out"
                ),
            }
        }
        kept
    }

    /// The facts of a finding's resource, looked up once (none needed when a sweep knew them);
    /// its description kept for the first action on it.
    async fn look_up(
        &self,
        reach: &Reach<'_>,
        finding: &Finding,
        config: &Config,
        look_ups: &mut LookUps,
    ) -> Result<(), AwsError> {
        let key = (finding.kind.name, finding.resource.clone());
        if look_ups.facts.contains_key(&key) {
            return Ok(());
        }
        if let Some(known) = look_ups.known.as_ref().and_then(|known| known.get(&key)) {
            let known = known.clone();
            look_ups.facts.insert(key, Some(known));
            return Ok(());
        }
        let find_cluster = finding.kind.scoped_by_cluster && config.scope == Scope::Eks;
        let found = reach
            .adapter(self.function, finding.kind.service)?
            .look_up(finding.kind, &finding.resource, find_cluster)
            .await?;
        let facts = found.map(|found| {
            if let Some(described) = found.described {
                look_ups.described.insert((finding.kind.service, finding.resource.clone()), described);
            }
            found.facts
        });
        look_ups.facts.insert(key, facts);
        Ok(())
    }

    /// Facts (looked up once per resource), then the pure policy: a restore to run, or a final verdict.
    async fn policy(
        &self,
        reach: &Reach<'_>,
        finding: &Finding,
        config: &Config,
        look_ups: &mut LookUps,
    ) -> Result<Result<Restore, Verdict>, AwsError> {
        self.look_up(reach, finding, config, look_ups).await?;
        let key = (finding.kind.name, finding.resource.clone());
        let Some(facts) = &look_ups.facts[&key] else {
            return Ok(Err(Verdict::quiet(
                DecisionOutcome::ResourceGone,
                format!("{} no longer exists", finding.resource),
            )));
        };
        let cluster = facts.cluster.clone();
        Ok(match decide(finding, facts, config, OffsetDateTime::now_utc()) {
            Decision::OutOfScope(why) => Err(Verdict::quiet(DecisionOutcome::OutOfScope, why)),
            Decision::Exempt { until } => {
                let note = match &until {
                    Some(until) => format!("exempt by tag {} until {until}", config.exemption_tag),
                    None => format!("exempt by tag {}", config.exemption_tag),
                };
                Err(Verdict::new(DecisionOutcome::Exempt, cluster, vec![note.clone()]).with_detail(note))
            }
            Decision::Notify { notes } => {
                Err(Verdict { notify: true, ..Verdict::new(DecisionOutcome::WouldRemediate, cluster, notes) })
            }
            Decision::Remediate { notes } => Ok(Restore { cluster, notes, actions: Vec::new() }),
        })
    }
}

/// The ledger's entries for the alerting findings (None for the rest, and without a ledger).
/// An entry that cannot be read counts as none: an alert too many, never one too few.
async fn recall(
    ledger: Option<&dyn Ledger>,
    scope: &LedgerScope,
    findings: &[Finding],
    verdicts: &[Verdict],
) -> Vec<Option<Entry>> {
    join_all(findings.iter().zip(verdicts).map(|(finding, verdict)| async move {
        match ledger {
            Some(table) if verdict.outcome.alert().is_some() => {
                table.entry(scope, finding.rule.id, &finding.resource).await.unwrap_or_else(|error| {
                    tracing::warn!(rule = finding.rule.id, %error, "ledger entry not read: alerting as new");
                    None
                })
            }
            _ => None,
        }
    }))
    .await
}

/// A lookup before any change failed: retry the event, or alert that the restore failed.
fn lookup_failed(event_id: &str, finding: &Finding, error: AwsError, retry: &mut Option<AwsError>) -> Verdict {
    if error.is_retryable() {
        tracing::error!(event_id, rule = finding.rule.id, %error, "will retry the event");
        let verdict = Verdict::quiet(DecisionOutcome::Retrying, error.to_string());
        retry.get_or_insert(error);
        return verdict;
    }
    Verdict::new(DecisionOutcome::Failed, None, vec![format!("the restore failed: {error}")])
        .with_detail(error.to_string())
}

/// A notify-mode finding whose every action another rule's restore ran, as it is (one revoke of
/// one world-open rule that trips a remediate and a notify rule): the change is undone, and the
/// alert must not say it was left in place.
fn restored_alongside(
    finding: &Finding,
    verdict: Verdict,
    merged: &[Action],
    results: &[Result<ActionResult, ActionFailure>],
) -> Verdict {
    let ran: Option<Vec<&ActionResult>> = finding
        .plan
        .actions
        .iter()
        .map(|action| merged.iter().position(|run| run == action).and_then(|index| results[index].as_ref().ok()))
        .collect();
    let Some(ran) = ran else { return verdict };
    let undone = ran.iter().all(|result| matches!(result, ActionResult::Restored | ActionResult::AlreadySafe));
    if ran.is_empty() || !undone || !ran.contains(&&ActionResult::Restored) {
        return verdict;
    }
    let mut notes = verdict.notes;
    notes.push(format!("{} is in notify mode; another rule's restore undid the same change", finding.rule.id));
    Verdict {
        ran: Some(finding.plan.actions.iter().map(Action::describe).collect()),
        ..Verdict::new(DecisionOutcome::Remediated, verdict.cluster, notes)
    }
}

/// A restore's verdict from the results of its actions.
fn verdict_of(restore: Restore, results: &[Result<ActionResult, ActionFailure>]) -> Verdict {
    let mut restored = false;
    let mut refused = Vec::new();
    let mut not_applicable = Vec::new();
    for index in &restore.actions {
        match &results[*index] {
            Err(ActionFailure::Retryable(message)) => {
                return Verdict::quiet(DecisionOutcome::Retrying, message.clone())
            }
            Err(ActionFailure::Final(message)) => {
                let mut notes = restore.notes;
                notes.push(format!("the restore failed: {message}"));
                return Verdict::new(DecisionOutcome::Failed, restore.cluster, notes).with_detail(message.clone());
            }
            Ok(ActionResult::Restored) => restored = true,
            Ok(ActionResult::AlreadySafe) => {}
            Ok(ActionResult::NotApplicable(why)) => not_applicable.push(why.clone()),
            Ok(ActionResult::Refused(why)) => refused.push(why.clone()),
        }
    }
    if !refused.is_empty() {
        let mut notes = restore.notes;
        notes.extend(refused.iter().map(|why| format!("not restored: {why}")));
        return Verdict::new(DecisionOutcome::WouldRemediate, restore.cluster, notes).with_detail(refused.join("; "));
    }
    if restored {
        return Verdict::new(DecisionOutcome::Remediated, restore.cluster, restore.notes);
    }
    if !not_applicable.is_empty() {
        return Verdict::quiet(DecisionOutcome::NotApplicable, not_applicable.join("; "));
    }
    // A duplicate delivery, or someone was quicker: no second alert.
    Verdict::quiet(DecisionOutcome::AlreadySafe, "already in the safe state")
}

/// One alert per resource the observation's alerting findings are about, in the order they
/// first appear: every rule with its outcome and what actually ran; in an alert of several
/// rules, each rule's notes name the rule.
fn alerts<'a>(
    origin: &Origin,
    findings: &'a [Finding],
    verdicts: &'a [Verdict],
    news: &[bool],
    current: &CurrentConfig,
) -> Vec<((&'a str, &'a str), Alert)> {
    /// The findings about one resource (kind, id) with their verdicts.
    type Group<'a> = ((&'a str, &'a str), Vec<(&'a Finding, &'a Verdict)>);
    let mut groups: Vec<Group> = Vec::new();
    for ((finding, verdict), news) in findings.iter().zip(verdicts).zip(news) {
        if !news {
            continue;
        }
        let key = (finding.kind.name, finding.resource.as_str());
        match groups.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, members)) => members.push((finding, verdict)),
            None => groups.push((key, vec![(finding, verdict)])),
        }
    }
    groups
        .into_iter()
        .map(|(key, members)| {
            let mut alert = Alert::new(origin, key.1, &current.config.exemption_tag);
            let several = members.len() > 1;
            for (finding, verdict) in members {
                alert.cluster = alert.cluster.take().or(verdict.cluster.clone());
                let mut rule = RuleVerdict::new(finding, verdict.outcome.alert().expect("alerting outcomes only"));
                if let Some(ran) = &verdict.ran {
                    rule.restored = ran.clone();
                }
                alert.add(rule);
                let id = finding.rule.id;
                alert.note(
                    verdict.notes.iter().map(|note| if several { format!("{id}: {note}") } else { note.clone() }),
                );
            }
            alert.note(current.note.clone());
            (key, alert)
        })
        .collect()
}
