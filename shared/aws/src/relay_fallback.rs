//! When the alert topic refuses an alert for good (the topic deleted, its policy or its key
//! changed: ways to silence snapback that `guard-alerts-silenced` reports), the alert goes to
//! the Slack relay function directly, shaped as the topic would have delivered it. Built only
//! with the `watchdog` feature: the watchdog is the function that reports the topic's loss.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_sns::operation::publish::PublishError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use serde_json::json;
use snapback_notify::Alert;

use crate::adapter::BoxFuture;
use crate::alerts::AlertPublisher;
use crate::error::AwsError;

pub struct RelayFallback {
    primary: Box<dyn AlertPublisher>,
    lambda: aws_sdk_lambda::Client,
    relay_function: String,
}

impl RelayFallback {
    pub fn new(primary: Box<dyn AlertPublisher>, lambda: aws_sdk_lambda::Client, relay_function: &str) -> Self {
        RelayFallback { primary, lambda, relay_function: relay_function.to_owned() }
    }

    pub fn from_sdk(primary: Box<dyn AlertPublisher>, sdk: &aws_config::SdkConfig, relay_function: &str) -> Self {
        RelayFallback::new(primary, aws_sdk_lambda::Client::new(sdk), relay_function)
    }

    /// Invokes the relay with an SNS delivery of the alert, asynchronously: the relay retries
    /// Slack for longer than this function may wait, and Lambda retries the relay's failures
    /// into its own dead-letter path.
    async fn relay(&self, alert: &Alert, refused: &AwsError) -> Result<(), AwsError> {
        tracing::error!(%refused, relay = %self.relay_function, "the alert topic refused the alert: sent to the Slack relay directly");
        let delivery = json!({"Records": [{
            "EventSource": "snapback:relay-fallback",
            "Sns": {
                "MessageId": format!("relay-fallback-{}", alert.resource),
                "Subject": alert.subject(),
                "Message": alert.to_json().to_string(),
            },
        }]});
        let answer = self
            .lambda
            .invoke()
            .function_name(&self.relay_function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(delivery.to_string()))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("lambda:Invoke", error))?;
        match answer.status_code() {
            202 => Ok(()),
            status => Err(AwsError::Retryable {
                operation: "lambda:Invoke",
                message: format!("the Slack relay {} was not queued: status {status}", self.relay_function),
                source: None,
            }),
        }
    }
}

impl AlertPublisher for RelayFallback {
    fn publish<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            match self.primary.publish(alert).await {
                Err(refused) if topic_refused(&refused) => self.relay(alert, &refused).await,
                answer => answer,
            }
        })
    }
}

/// Whether SNS refused the publish for good: the topic is gone, or its policy or its KMS key no
/// longer lets snapback publish. (Throttling and 5xx are left to Lambda's retry.)
fn topic_refused(error: &AwsError) -> bool {
    let Some(source) = std::error::Error::source(error) else { return false };
    let Some(sdk) = source.downcast_ref::<SdkError<PublishError, HttpResponse>>() else { return false };
    sdk.as_service_error().is_some_and(|refusal| {
        refusal.is_not_found_exception()
            || refusal.is_authorization_error_exception()
            || refusal.is_kms_disabled_exception()
            || refusal.is_kms_not_found_exception()
            || refusal.is_kms_access_denied_exception()
            || refusal.is_kms_invalid_state_exception()
    })
}
