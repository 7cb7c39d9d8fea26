use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;
use snapback_aws::{
    AccessEntries, ActionResult, AlertPublisher, AwsError, ClusterFacts, ConfigSource, EksClusters, Executor,
    SecurityGroups,
};
use snapback_notify::{Alert, Outcome};
use snapback_rules::policy::{decide, eks_cluster_from_tags, Decision};
use snapback_rules::{check_guards, evaluate, Action, Config, Event, Finding, Mode, ResourceKind, Scope};
use time::OffsetDateTime;

use crate::config_cache::ConfigCache;

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

/// What the handler decided, returned as the invocation's result and logged line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub event_id: Option<String>,
    /// Why the whole event was left alone, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    pub decisions: Vec<DecisionRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    pub rule: String,
    pub resource: String,
    /// remediated, would-remediate, exempt, failed (alerted); already-safe, out-of-scope,
    /// resource-gone, not-applicable, retrying (logged only).
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A guard function: capabilities and config built once per cold start, one `handle` per event.
pub struct Guard<G, E, A, P, S> {
    pub executor: Executor<G, E, A>,
    pub publisher: P,
    pub config: ConfigCache<S>,
    pub own_principals: Vec<String>,
}

/// A resource as the policy sees it.
#[derive(Clone)]
struct Context {
    tags: std::collections::BTreeMap<String, String>,
    cluster: Option<String>,
    /// The cluster as just described, handed to the first action on it (saves a DescribeCluster).
    described: Option<ClusterFacts>,
}

/// One finding's way through policy and execution, before it is logged and alerted.
struct Verdict {
    outcome: &'static str,
    alert: Option<Outcome>,
    cluster: Option<String>,
    notes: Vec<String>,
    detail: Option<String>,
    /// What was actually run, when the finding's actions were merged with others.
    ran: Option<Vec<String>>,
}

impl Verdict {
    fn quiet(outcome: &'static str, detail: impl Into<String>) -> Verdict {
        Verdict { outcome, alert: None, cluster: None, notes: Vec::new(), detail: Some(detail.into()), ran: None }
    }

    fn alert(outcome: Outcome, cluster: Option<String>, notes: Vec<String>) -> Verdict {
        Verdict { outcome: outcome.as_str(), alert: Some(outcome), cluster, notes, detail: None, ran: None }
    }
}

/// A finding the policy wants restored, waiting for its merged actions to run.
struct Restore {
    cluster: Option<String>,
    notes: Vec<String>,
    /// Indexes into the event's merged actions.
    actions: Vec<usize>,
}

impl<G, E, A, P, S> Guard<G, E, A, P, S>
where
    G: SecurityGroups,
    E: EksClusters,
    A: AccessEntries,
    P: AlertPublisher,
    S: ConfigSource,
{
    pub async fn handle(&self, payload: &Value, deadline: Instant) -> Result<Report, HandlerError> {
        let started = Instant::now();
        let event = match Event::from_value(payload) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(reason = %error, "event ignored: cannot be read");
                return Ok(Report { ignored: Some(error.to_string()), ..Report::default() });
            }
        };
        let current = self.config.current().await?;
        let config = &current.config;
        let mut report = Report { event_id: Some(event.event_id.clone()), ..Report::default() };
        if let Some(ignored) = check_guards(&event, config, &self.own_principals) {
            tracing::info!(event_id = %event.event_id, event_name = %event.event_name, reason = ignored.label(), detail = %ignored, "event ignored");
            report.ignored = Some(ignored.to_string());
            return Ok(report);
        }
        let findings = evaluate(&event, config);
        if findings.is_empty() {
            tracing::info!(event_id = %event.event_id, event_name = %event.event_name, "no findings");
        }

        // Policy first, for every finding; then each distinct (merged) action runs once.
        let mut retry: Option<AwsError> = None;
        let mut contexts: HashMap<(ResourceKind, String), Option<Context>> = HashMap::new();
        let mut merged: Vec<Action> = Vec::new();
        let mut steps: Vec<Result<Restore, Verdict>> = Vec::new();
        for finding in &findings {
            let step = match self.policy(finding, config, &mut contexts).await {
                Ok(Ok(mut restore)) => {
                    restore.actions =
                        finding.plan.actions.iter().map(|action| merge_into(&mut merged, action)).collect();
                    Ok(restore)
                }
                Ok(Err(verdict)) => Err(verdict),
                Err(error) => Err(self.lookup_failed(&event, finding, error, &mut retry)),
            };
            steps.push(step);
        }
        let mut described: HashMap<String, ClusterFacts> = contexts
            .into_iter()
            .filter_map(|((kind, name), context)| {
                Some((name, context?.described.filter(|_| kind == ResourceKind::EksCluster)?))
            })
            .collect();
        let mut results: Vec<Result<ActionResult, String>> = Vec::new();
        for action in &merged {
            let known = action.cluster().and_then(|cluster| described.remove(cluster));
            let result = match self.executor.execute_knowing(action, deadline, known).await {
                Ok(result) => Ok(result),
                Err(error) if error.is_retryable() => {
                    tracing::error!(event_id = %event.event_id, action = %action.describe(), %error, "will retry the event");
                    let message = error.to_string();
                    retry.get_or_insert(error);
                    Err(format!("retry: {message}"))
                }
                Err(error) => Err(error.to_string()),
            };
            results.push(result);
        }

        for (finding, step) in findings.iter().zip(steps) {
            let verdict = match step {
                Err(verdict) => verdict,
                Ok(restore) => {
                    let ran: Vec<String> = restore.actions.iter().map(|index| merged[*index].describe()).collect();
                    Verdict { ran: Some(ran), ..verdict_of(restore, &results) }
                }
            };
            if let Some(outcome) = verdict.alert {
                let mut alert = Alert::new(&event, finding, outcome, &config.exemption_tag);
                alert.cluster = verdict.cluster.clone();
                alert.notes = verdict.notes.clone();
                alert.notes.extend(current.note.clone());
                if let Some(ran) = &verdict.ran {
                    alert.restored = ran.clone();
                }
                if let Err(error) = self.publish(&alert).await {
                    tracing::error!(event_id = %event.event_id, rule = finding.rule.id, %error, alert = %alert.to_json(), "alert not published");
                    retry.get_or_insert(error);
                }
            }
            tracing::info!(
                event_id = %event.event_id,
                event_name = %event.event_name,
                rule = finding.rule.id,
                resource = %finding.resource,
                outcome = verdict.outcome,
                detail = verdict.detail.as_deref().unwrap_or(""),
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                "decision"
            );
            report.decisions.push(DecisionRecord {
                rule: finding.rule.id.to_owned(),
                resource: finding.resource.clone(),
                outcome: verdict.outcome.to_owned(),
                detail: verdict.detail,
            });
        }
        match retry {
            Some(error) => Err(error.into()),
            None => Ok(report),
        }
    }

    /// Scope, exemption and mode for one finding: a restore to run, or a final verdict.
    async fn policy(
        &self,
        finding: &Finding,
        config: &Config,
        contexts: &mut HashMap<(ResourceKind, String), Option<Context>>,
    ) -> Result<Result<Restore, Verdict>, AwsError> {
        let key = (finding.kind, finding.resource.clone());
        if !contexts.contains_key(&key) {
            let context = self.context(finding.kind, &finding.resource, config).await?;
            contexts.insert(key.clone(), context);
        }
        let Some(Context { tags, cluster, .. }) = contexts[&key].clone() else {
            return Ok(Err(Verdict::quiet("resource-gone", format!("{} no longer exists", finding.resource))));
        };
        if finding.kind == ResourceKind::SecurityGroup && cluster.is_none() && config.scope == Scope::Eks {
            return Ok(Err(Verdict::quiet("out-of-scope", "the group belongs to no EKS cluster and scope is eks")));
        }
        let (mode, notes) = match decide(finding, config, &tags, OffsetDateTime::now_utc()) {
            Decision::Exempt { until } => {
                let note = match &until {
                    Some(until) => format!("exempt by tag {} until {until}", config.exemption_tag),
                    None => format!("exempt by tag {}", config.exemption_tag),
                };
                let mut verdict = Verdict::alert(Outcome::Exempt, cluster, vec![note.clone()]);
                verdict.detail = Some(note);
                return Ok(Err(verdict));
            }
            Decision::Act { mode, notes } => (mode, notes),
        };
        if mode != Mode::Remediate {
            return Ok(Err(Verdict::alert(Outcome::WouldRemediate, cluster, notes)));
        }
        Ok(Ok(Restore { cluster, notes, actions: Vec::new() }))
    }

    /// Tags and cluster of the resource, looked up once per event: for a group, its tags first
    /// and the clusters' VPC configuration only when the tags do not say and the scope needs it.
    async fn context(&self, kind: ResourceKind, resource: &str, config: &Config) -> Result<Option<Context>, AwsError> {
        match kind {
            ResourceKind::SecurityGroup => {
                let Some(facts) = self.executor.groups.describe_group(resource).await? else { return Ok(None) };
                let mut cluster = eks_cluster_from_tags(&facts.tags);
                if cluster.is_none() && config.scope == Scope::Eks {
                    cluster = self.executor.eks.cluster_using_group(&facts.group_id).await?;
                }
                Ok(Some(Context { tags: facts.tags, cluster, described: None }))
            }
            ResourceKind::EksCluster => {
                let facts = self.executor.eks.describe_cluster(resource).await?;
                Ok(facts.map(|facts| Context {
                    tags: facts.tags.clone(),
                    cluster: Some(facts.name.clone()),
                    described: Some(facts),
                }))
            }
        }
    }

    /// A lookup before any change failed: retry the event, or alert that the restore failed.
    fn lookup_failed(
        &self,
        event: &Event,
        finding: &Finding,
        error: AwsError,
        retry: &mut Option<AwsError>,
    ) -> Verdict {
        if error.is_retryable() {
            tracing::error!(event_id = %event.event_id, rule = finding.rule.id, %error, "will retry the event");
            let verdict = Verdict::quiet("retrying", error.to_string());
            retry.get_or_insert(error);
            return verdict;
        }
        let mut verdict = Verdict::alert(Outcome::Failed, None, vec![format!("the restore failed: {error}")]);
        verdict.detail = Some(error.to_string());
        verdict
    }

    async fn publish(&self, alert: &Alert) -> Result<(), AwsError> {
        self.publisher.publish(&alert.subject(), &alert.sns_message(), &alert.attributes()).await
    }
}

/// Index of the merged action that covers `action`: an equal one, one that absorbs it (same
/// cluster setting), or a new one.
fn merge_into(merged: &mut Vec<Action>, action: &Action) -> usize {
    if let Some(index) = merged.iter().position(|existing| existing == action) {
        return index;
    }
    if let Some(index) = merged.iter_mut().position(|existing| existing.absorb(action)) {
        return index;
    }
    merged.push(action.clone());
    merged.len() - 1
}

/// A restore's verdict from the results of its actions.
fn verdict_of(restore: Restore, results: &[Result<ActionResult, String>]) -> Verdict {
    let mut restored = false;
    let mut refused = Vec::new();
    let mut not_applicable = Vec::new();
    for index in &restore.actions {
        match &results[*index] {
            Err(message) if message.starts_with("retry: ") => return Verdict::quiet("retrying", message.clone()),
            Err(message) => {
                let mut notes = restore.notes;
                notes.push(format!("the restore failed: {message}"));
                let mut verdict = Verdict::alert(Outcome::Failed, restore.cluster, notes);
                verdict.detail = Some(message.clone());
                return verdict;
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
        let mut verdict = Verdict::alert(Outcome::WouldRemediate, restore.cluster, notes);
        verdict.detail = Some(refused.join("; "));
        return verdict;
    }
    if restored {
        return Verdict::alert(Outcome::Remediated, restore.cluster, restore.notes);
    }
    if !not_applicable.is_empty() {
        return Verdict::quiet("not-applicable", not_applicable.join("; "));
    }
    // A duplicate delivery, or someone was quicker: no second alert.
    Verdict::quiet("already-safe", "already in the safe state")
}

/// The guard as deployed: EC2, EKS and SNS over the SDK, config from the settings' source.
pub type AwsGuard = Guard<
    snapback_aws::Ec2SecurityGroups,
    snapback_aws::EksApi,
    snapback_aws::EksApi,
    snapback_aws::SnsPublisher,
    snapback_aws::ConfiguredSource,
>;

impl AwsGuard {
    /// Builds every client once, for the life of the execution environment.
    pub fn from_settings(sdk: &snapback_aws::SdkConfig, settings: &crate::Settings) -> AwsGuard {
        use crate::settings::ConfigLocation;
        use snapback_aws::{ConfiguredSource, FileConfigSource, SsmConfigSource};
        let source = match &settings.config {
            ConfigLocation::BuiltIn => None,
            ConfigLocation::File(path) => Some(ConfiguredSource::File(FileConfigSource::new(path))),
            ConfigLocation::Ssm(name) => {
                Some(ConfiguredSource::Ssm(SsmConfigSource::new(aws_sdk_ssm::Client::new(sdk), name)))
            }
        };
        let eks = snapback_aws::EksApi::new(aws_sdk_eks::Client::new(sdk));
        Guard {
            executor: Executor {
                groups: snapback_aws::Ec2SecurityGroups::new(aws_sdk_ec2::Client::new(sdk)),
                eks: eks.clone(),
                access: eks,
                busy: Default::default(),
                protected_principals: settings.own_principals.clone(),
            },
            publisher: snapback_aws::SnsPublisher::new(aws_sdk_sns::Client::new(sdk), &settings.topic_arn),
            config: ConfigCache::new(source, settings.config_ttl),
            own_principals: settings.own_principals.clone(),
        }
    }
}
