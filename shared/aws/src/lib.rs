//! I/O for snapback: one small trait per AWS capability, the AWS SDK adapters beside each, and
//! the executor that runs a plan's actions. Errors keep their kind and say whether a retry helps.

mod alerts;
mod config_source;
mod eks;
mod error;
mod executor;
mod secrets;
mod security_groups;
mod webhook;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;

pub use alerts::{AlertPublisher, SnsPublisher};
pub use config_source::{ConfigSource, ConfiguredSource, FileConfigSource, SsmConfigSource};
pub use eks::{AccessEntries, ClusterFacts, EksApi, EksClusters, EndpointState, UpdateOutcome};
pub use error::AwsError;
pub use executor::{ActionResult, BusyPolicy, Executor};
pub use secrets::{SecretSource, SecretsManager};
pub use security_groups::{Ec2SecurityGroups, GroupFacts, RevokeOutcome, RuleFacts, SecurityGroups};
pub use webhook::{HyperWebhook, Webhook, WebhookAnswer, WebhookUnreachable};

/// Shared SDK configuration from the environment (`AWS_ENDPOINT_URL` included): standard retry
/// mode with a bounded number of attempts (throttling backs off), and timeouts well inside a
/// Lambda invocation.
pub async fn load_sdk_config() -> SdkConfig {
    sdk_config_loader().load().await
}

/// The loader behind [`load_sdk_config`], for callers that set more (tests pick an endpoint).
pub fn sdk_config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
}
