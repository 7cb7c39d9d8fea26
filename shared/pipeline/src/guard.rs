use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;
use snapback_aws::{
    execute, ActionResult, AlertPublisher, AwsError, ClusterDirectory, ConfigSource, GroupFacts, SecurityGroups,
};
use snapback_notify::{Alert, Outcome};
use snapback_rules::policy::{decide, eks_cluster_from_tags, Decision};
use snapback_rules::{check_guards, evaluate, Action, Config, Event, Finding, Mode, Scope};
use time::OffsetDateTime;

use crate::config_cache::ConfigCache;

/// The only error a handler returns: something a retry can fix. Lambda then retries the event
/// and, after its retries, hands it to the failure destination.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Aws(#[from] AwsError),
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
    /// resource-gone, not-applicable (logged only).
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The security-group guard: clients and config built once per cold start, one `handle` per event.
pub struct Guard<G, K, P, S> {
    pub groups: G,
    pub clusters: K,
    pub publisher: P,
    pub config: ConfigCache<S>,
    pub own_principals: Vec<String>,
}

/// A group as the policy sees it.
#[derive(Clone)]
struct GroupContext {
    facts: GroupFacts,
    cluster: Option<String>,
}

/// One finding's way through policy and execution, before it is logged and alerted.
struct Verdict {
    outcome: &'static str,
    alert: Option<Outcome>,
    cluster: Option<String>,
    notes: Vec<String>,
    detail: Option<String>,
}

impl Verdict {
    fn quiet(outcome: &'static str, detail: impl Into<String>) -> Verdict {
        Verdict { outcome, alert: None, cluster: None, notes: Vec::new(), detail: Some(detail.into()) }
    }
}

impl<G, K, P, S> Guard<G, K, P, S>
where
    G: SecurityGroups,
    K: ClusterDirectory,
    P: AlertPublisher,
    S: ConfigSource,
{
    pub async fn handle(&self, payload: &Value) -> Result<Report, HandlerError> {
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
        let now = OffsetDateTime::now_utc();
        let mut groups: HashMap<String, Option<GroupContext>> = HashMap::new();
        // Results by action, so two rules flagging the same opened rule revoke it once.
        let mut done: HashMap<Action, ActionResult> = HashMap::new();
        let mut retry: Option<AwsError> = None;

        for finding in &findings {
            let verdict = match self.judge(&event, finding, config, now, &mut groups, &mut done).await {
                Ok(verdict) => verdict,
                Err(error) if error.is_retryable() => {
                    tracing::error!(event_id = %event.event_id, rule = finding.rule.id, %error, "will retry the event");
                    let verdict = Verdict::quiet("retrying", error.to_string());
                    retry.get_or_insert(error);
                    verdict
                }
                Err(error) => Verdict {
                    outcome: Outcome::Failed.as_str(),
                    alert: Some(Outcome::Failed),
                    cluster: None,
                    notes: vec![format!("the restore failed: {error}")],
                    detail: Some(error.to_string()),
                },
            };
            if let Some(outcome) = verdict.alert {
                let mut alert = Alert::new(&event, finding, outcome, &config.exemption_tag);
                alert.cluster = verdict.cluster.clone();
                alert.notes = verdict.notes.clone();
                alert.notes.extend(current.note.clone());
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

    async fn judge(
        &self,
        event: &Event,
        finding: &Finding,
        config: &Config,
        now: OffsetDateTime,
        groups: &mut HashMap<String, Option<GroupContext>>,
        done: &mut HashMap<Action, ActionResult>,
    ) -> Result<Verdict, AwsError> {
        if !groups.contains_key(&finding.resource) {
            let context = self.group_context(&finding.resource, config).await?;
            groups.insert(finding.resource.clone(), context);
        }
        let Some(GroupContext { facts, cluster }) = groups[&finding.resource].clone() else {
            return Ok(Verdict::quiet("resource-gone", format!("{} no longer exists", finding.resource)));
        };
        if cluster.is_none() && config.scope == Scope::Eks {
            return Ok(Verdict::quiet("out-of-scope", "the group belongs to no EKS cluster and scope is eks"));
        }
        let (mode, notes) = match decide(finding, config, &facts.tags, now) {
            Decision::Exempt { until } => {
                let note = match &until {
                    Some(until) => format!("exempt by tag {} until {until}", config.exemption_tag),
                    None => format!("exempt by tag {}", config.exemption_tag),
                };
                return Ok(Verdict {
                    outcome: "exempt",
                    alert: Some(Outcome::Exempt),
                    cluster,
                    notes: vec![note.clone()],
                    detail: Some(note),
                });
            }
            Decision::Act { mode, notes } => (mode, notes),
        };
        if mode != Mode::Remediate {
            return Ok(Verdict {
                outcome: Outcome::WouldRemediate.as_str(),
                alert: Some(Outcome::WouldRemediate),
                cluster,
                notes,
                detail: None,
            });
        }
        let mut restored = false;
        let mut not_applicable = Vec::new();
        for action in &finding.plan.actions {
            let result = match done.get(action) {
                Some(result) => result.clone(),
                None => {
                    let result = execute(&self.groups, action).await?;
                    done.insert(action.clone(), result.clone());
                    result
                }
            };
            match result {
                ActionResult::Restored => restored = true,
                ActionResult::AlreadySafe => {}
                ActionResult::NotApplicable(why) => not_applicable.push(why),
            }
        }
        Ok(if restored {
            Verdict {
                outcome: Outcome::Remediated.as_str(),
                alert: Some(Outcome::Remediated),
                cluster,
                notes,
                detail: None,
            }
        } else if !not_applicable.is_empty() {
            Verdict::quiet("not-applicable", not_applicable.join("; "))
        } else {
            // A duplicate delivery, or someone was quicker: no second alert.
            Verdict::quiet("already-safe", format!("{} was already in the safe state", event.event_name))
        })
    }

    /// The group's tags and cluster, looked up once per event: tags first, the clusters' VPC
    /// configuration only when the tags do not say and the scope needs to know.
    async fn group_context(&self, group_id: &str, config: &Config) -> Result<Option<GroupContext>, AwsError> {
        let Some(facts) = self.groups.describe_group(group_id).await? else { return Ok(None) };
        let mut cluster = eks_cluster_from_tags(&facts.tags);
        if cluster.is_none() && config.scope == Scope::Eks {
            cluster = self.clusters.cluster_using_group(&facts.group_id).await?;
        }
        Ok(Some(GroupContext { facts, cluster }))
    }

    async fn publish(&self, alert: &Alert) -> Result<(), AwsError> {
        let message = alert.to_json().to_string();
        self.publisher.publish(&alert.subject(), &message, &alert.attributes()).await
    }
}

/// The guard as deployed: EC2, EKS and SNS over the SDK, config from the settings' source.
pub type SgGuard = Guard<
    snapback_aws::Ec2SecurityGroups,
    snapback_aws::EksClusterDirectory,
    snapback_aws::SnsPublisher,
    snapback_aws::ConfiguredSource,
>;

impl SgGuard {
    /// Builds every client once, for the life of the execution environment.
    pub fn from_settings(sdk: &snapback_aws::SdkConfig, settings: &crate::Settings) -> SgGuard {
        use crate::settings::ConfigLocation;
        use snapback_aws::{ConfiguredSource, FileConfigSource, SsmConfigSource};
        let source = match &settings.config {
            ConfigLocation::BuiltIn => None,
            ConfigLocation::File(path) => Some(ConfiguredSource::File(FileConfigSource::new(path))),
            ConfigLocation::Ssm(name) => {
                Some(ConfiguredSource::Ssm(SsmConfigSource::new(aws_sdk_ssm::Client::new(sdk), name)))
            }
        };
        Guard {
            groups: snapback_aws::Ec2SecurityGroups::new(aws_sdk_ec2::Client::new(sdk)),
            clusters: snapback_aws::EksClusterDirectory::new(aws_sdk_eks::Client::new(sdk)),
            publisher: snapback_aws::SnsPublisher::new(aws_sdk_sns::Client::new(sdk), &settings.topic_arn),
            config: ConfigCache::new(source, settings.config_ttl),
            own_principals: settings.own_principals.clone(),
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        lambda_runtime::Diagnostic { error_type: "snapback::Retryable".into(), error_message: error.to_string() }
    }
}
