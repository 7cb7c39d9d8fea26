//! The Slack relay: SNS delivers alerts (the JSON form); each becomes a Block Kit message posted
//! to the incoming webhook whose URL lives in Secrets Manager. The URL is read once per cold
//! start and never logged: it is a credential.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use snapback_aws::{AwsError, SecretSource, Webhook, WebhookAnswer};
use snapback_notify::{slack_payload, Alert};
use tokio::sync::OnceCell;

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Slack refused the message for good (a bad or revoked webhook): no retry helps.
    #[error("Slack refused the message with HTTP {status}; check the webhook stored in secret {secret}")]
    Refused { status: u16, secret: String },
    /// Slack stayed unavailable (429, 5xx, network) until shortly before the deadline.
    #[error("Slack was unavailable until shortly before the deadline ({last}); the message will be retried")]
    Unavailable { last: String },
    #[error(transparent)]
    Secret(#[from] AwsError),
    #[error("the webhook secret {secret} holds neither a URL nor {{\"webhook_url\": ...}}")]
    BadSecret { secret: String },
}

impl From<RelayError> for lambda_runtime::Diagnostic {
    fn from(error: RelayError) -> Self {
        let error_type = match &error {
            RelayError::Refused { .. } | RelayError::BadSecret { .. } => "snapback::SlackRefused",
            _ => "snapback::Retryable",
        };
        lambda_runtime::Diagnostic { error_type: error_type.into(), error_message: error.to_string() }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct RelayReport {
    /// Messages posted, and the HTTP attempts it took.
    pub posted: usize,
    pub attempts: usize,
}

pub struct SlackRelay<S, W> {
    pub secrets: S,
    pub webhook: W,
    pub secret_id: String,
    /// RULES.md base URL for the documentation link (`SNAPBACK_DOCS_URL`).
    pub docs_url: Option<String>,
    /// Waits after a 5xx or network failure: doubling from here.
    pub first_wait: Duration,
    url: OnceCell<String>,
}

impl<S: SecretSource, W: Webhook> SlackRelay<S, W> {
    pub fn new(secrets: S, webhook: W, secret_id: String, docs_url: Option<String>) -> Self {
        SlackRelay {
            secrets,
            webhook,
            secret_id,
            docs_url,
            first_wait: Duration::from_millis(500),
            url: OnceCell::new(),
        }
    }

    pub async fn handle(&self, event: &Value, deadline: Instant) -> Result<RelayReport, RelayError> {
        tracing::debug!(
            remaining_ms = deadline.saturating_duration_since(Instant::now()).as_millis() as u64,
            "relaying"
        );
        let mut report = RelayReport::default();
        for record in event["Records"].as_array().into_iter().flatten() {
            let sns = &record["Sns"];
            let payload = payload_of(sns, self.docs_url.as_deref());
            report.attempts += self.post(&payload, deadline).await?;
            report.posted += 1;
            tracing::info!(message_id = sns["MessageId"].as_str().unwrap_or_default(), "alert posted to Slack");
        }
        Ok(report)
    }

    async fn webhook_url(&self) -> Result<&str, RelayError> {
        let url = self
            .url
            .get_or_try_init(|| async {
                let value = self.secrets.secret_string(&self.secret_id).await?;
                url_from_secret(&value).ok_or_else(|| RelayError::BadSecret { secret: self.secret_id.clone() })
            })
            .await?;
        Ok(url)
    }

    /// Posts with Slack's rules: 429 waits `Retry-After`, 5xx and network failures back off,
    /// both within the deadline; any other 4xx is final. Returns the attempts made.
    async fn post(&self, payload: &Value, deadline: Instant) -> Result<usize, RelayError> {
        let url = self.webhook_url().await?;
        let body = payload.to_string();
        let mut wait = self.first_wait;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (pause, last) = match self.webhook.post(url, &body).await {
                Ok(WebhookAnswer { status: 200..=299, .. }) => return Ok(attempts),
                Ok(WebhookAnswer { status: 429, retry_after }) => {
                    (Duration::from_secs(retry_after.unwrap_or(1)), "HTTP 429 Too Many Requests".to_owned())
                }
                Ok(WebhookAnswer { status, .. }) if status >= 500 => {
                    let pause = wait;
                    wait *= 2;
                    (pause, format!("HTTP {status}"))
                }
                Ok(WebhookAnswer { status, .. }) => {
                    return Err(RelayError::Refused { status, secret: self.secret_id.clone() });
                }
                Err(unreachable) => {
                    let pause = wait;
                    wait *= 2;
                    (pause, unreachable.to_string())
                }
            };
            if Instant::now() + pause + Duration::from_secs(1) > deadline {
                return Err(RelayError::Unavailable { last });
            }
            tracing::warn!(attempt = attempts, wait_ms = pause.as_millis() as u64, reason = %last, "Slack busy, waiting");
            tokio::time::sleep(pause).await;
        }
    }
}

impl SlackRelay<snapback_aws::SecretsManager, snapback_aws::HyperWebhook> {
    /// `SNAPBACK_SLACK_SECRET_ARN` (required), `SNAPBACK_DOCS_URL` (optional).
    pub fn from_env(sdk: &snapback_aws::SdkConfig) -> Result<Self, crate::SettingsError> {
        let secret_id = std::env::var("SNAPBACK_SLACK_SECRET_ARN").ok().filter(|arn| !arn.trim().is_empty()).ok_or(
            crate::SettingsError {
                name: "SNAPBACK_SLACK_SECRET_ARN",
                message: "must name the Secrets Manager secret that holds the Slack webhook URL".into(),
            },
        )?;
        let webhook = snapback_aws::HyperWebhook::new().map_err(|error| crate::SettingsError {
            name: "SNAPBACK_SLACK_SECRET_ARN",
            message: format!("no TLS root certificates to reach Slack with: {error}"),
        })?;
        let secrets = snapback_aws::SecretsManager::new(aws_sdk_secretsmanager::Client::new(sdk));
        Ok(SlackRelay::new(secrets, webhook, secret_id, std::env::var("SNAPBACK_DOCS_URL").ok()))
    }
}

/// A raw URL, or `{"webhook_url": "..."}` (also `url`).
fn url_from_secret(value: &str) -> Option<String> {
    let value = value.trim();
    if value.starts_with("https://") || value.starts_with("http://") {
        return Some(value.to_owned());
    }
    let json: Value = serde_json::from_str(value).ok()?;
    json.get("webhook_url").or_else(|| json.get("url")).and_then(Value::as_str).map(str::to_owned)
}

/// An alert becomes Block Kit; anything else on the topic (an alarm, say) is posted as text so
/// nothing published there is lost.
fn payload_of(sns: &Value, docs_url: Option<&str>) -> Value {
    let message = sns["Message"].as_str().unwrap_or_default();
    match serde_json::from_str::<Alert>(message) {
        Ok(alert) => slack_payload(&alert, docs_url),
        Err(_) => {
            let subject = sns["Subject"].as_str().unwrap_or("snapback notification");
            let text: String = message.chars().take(2900).collect();
            json!({"text": subject, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": format!("*{subject}*\n```{text}```")}}]})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapback_aws::WebhookUnreachable;
    use std::sync::Mutex;

    struct Secret;

    impl SecretSource for Secret {
        async fn secret_string(&self, _secret_id: &str) -> Result<String, AwsError> {
            Ok("https://hooks.slack.com/services/T/B/token".into())
        }
    }

    /// Answers in order: Some(status) or None for a network failure; then 200.
    struct Scripted(Mutex<Vec<Option<u16>>>, Mutex<usize>);

    impl Webhook for Scripted {
        async fn post(&self, _url: &str, _json: &str) -> Result<WebhookAnswer, WebhookUnreachable> {
            *self.1.lock().unwrap() += 1;
            let next = {
                let mut script = self.0.lock().unwrap();
                if script.is_empty() {
                    Some(200)
                } else {
                    script.remove(0)
                }
            };
            match next {
                Some(status) => Ok(WebhookAnswer { status, retry_after: None }),
                None => Err(WebhookUnreachable("connection refused".into())),
            }
        }
    }

    fn relay(script: Vec<Option<u16>>) -> SlackRelay<Secret, Scripted> {
        let mut relay = SlackRelay::new(Secret, Scripted(Mutex::new(script), Mutex::new(0)), "arn:secret".into(), None);
        relay.first_wait = Duration::from_millis(10);
        relay
    }

    fn one_alert() -> Value {
        let alert = snapback_notify::sample_alert(
            snapback_rules::rule("sg-open-kubelet").unwrap(),
            snapback_notify::Outcome::Remediated,
        );
        json!({"Records": [{"Sns": {"MessageId": "m1", "Message": alert.to_json().to_string()}}]})
    }

    #[tokio::test]
    async fn server_errors_and_network_failures_are_retried_with_backoff() {
        let relay = relay(vec![Some(503), None, Some(500)]);
        let report = relay.handle(&one_alert(), Instant::now() + Duration::from_secs(10)).await.unwrap();
        assert_eq!((report.posted, report.attempts), (1, 4));
    }

    #[tokio::test]
    async fn slack_down_until_the_deadline_is_a_retryable_error() {
        let relay = relay(vec![Some(503); 100]);
        let error = relay.handle(&one_alert(), Instant::now() + Duration::from_millis(1100)).await.unwrap_err();
        assert!(matches!(error, RelayError::Unavailable { .. }), "{error}");
        assert!(error.to_string().contains("HTTP 503") && !error.to_string().contains("hooks.slack.com"), "{error}");
    }

    #[test]
    fn the_secret_may_be_a_url_or_json() {
        assert_eq!(
            url_from_secret(" https://hooks.slack.com/services/T/B/X \n").as_deref(),
            Some("https://hooks.slack.com/services/T/B/X")
        );
        assert_eq!(
            url_from_secret(r#"{"webhook_url": "https://hooks.slack.com/x"}"#).as_deref(),
            Some("https://hooks.slack.com/x")
        );
        assert_eq!(url_from_secret("hunter2"), None);
    }

    #[test]
    fn messages_that_are_not_alerts_are_posted_as_text() {
        let payload =
            payload_of(&json!({"Subject": "ALARM: snapback-dlq-depth", "Message": "{\"AlarmName\": \"x\"}"}), None);
        assert_eq!(payload["text"], "ALARM: snapback-dlq-depth");
    }
}
