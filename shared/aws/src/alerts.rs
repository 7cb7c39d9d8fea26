use aws_sdk_sns::types::MessageAttributeValue;
use snapback_notify::{Alert, Attribute};

use crate::adapter::BoxFuture;
use crate::error::AwsError;

/// Publishes one alert.
pub trait AlertPublisher: Send + Sync {
    fn publish<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), AwsError>>;
}

/// [`AlertPublisher`] to an SNS topic: `MessageStructure=json` with one body per protocol, and the
/// alert's message attributes for subscription filter policies.
#[derive(Clone, Debug)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsPublisher { client, topic_arn: topic_arn.into() }
    }

    async fn send(&self, alert: &Alert) -> Result<(), AwsError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(alert.subject())
            .message(alert.sns_message())
            .message_structure("json");
        for (name, value) in alert.attributes() {
            let attribute = match value {
                Attribute::Text(text) => MessageAttributeValue::builder().data_type("String").string_value(text),
                // SNS reads a String.Array's value as a JSON array.
                Attribute::List(items) => MessageAttributeValue::builder()
                    .data_type("String.Array")
                    .string_value(serde_json::to_string(&items).expect("strings serialize")),
            }
            .build()
            .map_err(|error| AwsError::permanent("sns:Publish", error.to_string()))?;
            request = request.message_attributes(name, attribute);
        }
        // A publish that fails for a client reason (topic gone, access denied) must still not be
        // dropped silently: every publish failure is worth a retry and then the dead-letter queue.
        request.send().await.map(|_| ()).map_err(|error| match AwsError::from_sdk("sns:Publish", error) {
            AwsError::Permanent { operation, message, source } => AwsError::Retryable { operation, message, source },
            retryable => retryable,
        })
    }
}

impl AlertPublisher for SnsPublisher {
    fn publish<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(self.send(alert))
    }
}

/// A shared publisher is a publisher (tests keep a handle on the one the handler holds).
impl<T: AlertPublisher + ?Sized> AlertPublisher for std::sync::Arc<T> {
    fn publish<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), AwsError>> {
        self.as_ref().publish(alert)
    }
}
