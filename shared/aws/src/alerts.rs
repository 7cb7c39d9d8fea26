use std::future::Future;

use aws_sdk_sns::types::MessageAttributeValue;

use crate::error::AwsError;

/// Publishes one alert. `message` is an SNS message structure: a JSON object with one body per
/// protocol (`default`, `email`, `sqs`, ...).
pub trait AlertPublisher: Send + Sync {
    fn publish(
        &self,
        subject: &str,
        message: &str,
        attributes: &[(&str, &str)],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// [`AlertPublisher`] to an SNS topic.
#[derive(Clone, Debug)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsPublisher { client, topic_arn: topic_arn.into() }
    }
}

impl AlertPublisher for SnsPublisher {
    async fn publish(&self, subject: &str, message: &str, attributes: &[(&str, &str)]) -> Result<(), AwsError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(message)
            .message_structure("json");
        for (name, value) in attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(*value)
                .build()
                .map_err(|error| AwsError::permanent("sns:Publish", error.to_string()))?;
            request = request.message_attributes(*name, attribute);
        }
        // A publish that fails for a client reason (topic gone, access denied) must still not be
        // dropped silently: every publish failure is worth a retry and then the dead-letter queue.
        request.send().await.map(|_| ()).map_err(|error| match AwsError::from_sdk("sns:Publish", error) {
            AwsError::Permanent { operation, message, source } => AwsError::Retryable { operation, message, source },
            retryable => retryable,
        })
    }
}
