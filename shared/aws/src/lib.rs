//! I/O for snapback: one adapter per service slice behind the object-safe [`ServiceAdapter`]
//! (look up what policy needs, run the service's restore actions), the alert publisher, the
//! config source, the Slack webhook. Errors keep their kind and say whether a retry helps.

mod accounts;
mod adapter;
mod alerts;
mod config_source;
mod error;
mod ledger;
mod organization;
#[cfg(feature = "watchdog")]
mod relay_fallback;
mod secrets;
pub mod services;
mod sweep;
mod webhook;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;
use snapback_rules::Function;

pub use accounts::{session_name, Accounts, Adapters, BuildAdapters, MAX_PLACES_KEPT};
pub use adapter::{ActionResult, BoxFuture, Described, Found, LookedUp, ServiceAdapter};
pub use alerts::{AlertPublisher, SnsPublisher};
pub use config_source::{ConfigSource, FileConfigSource, SsmConfigSource};
pub use error::AwsError;
pub use ledger::{
    Claim, DynamoLedger, Entry, EntryStatus, HeartbeatSeen, Ledger, LedgerScope, PendingAlert, SweepCursor,
};
pub use organization::Organization;
#[cfg(feature = "watchdog")]
pub use relay_fallback::RelayFallback;
pub use secrets::{SecretSource, SecretsManager};
#[cfg(feature = "guards")]
pub use services::ecr::EcrRepositories;
pub use services::eks::{BusyPolicy, EksApi, UpdateOutcome};
#[cfg(feature = "guards")]
pub use services::node::Ec2Nodes;
#[cfg(feature = "guards")]
pub use services::security_groups::{Ec2SecurityGroups, RevokeOutcome, RuleFacts};
#[cfg(feature = "watchdog")]
pub use services::watchdog::{HeartbeatSender, WatchdogApi};
pub use sweep::{sweep_retry_config, SweepContext, SWEEP_CONCURRENCY, SWEEP_MAX_ATTEMPTS};
pub use webhook::{HyperWebhook, Webhook, WebhookAnswer, WebhookUnreachable};

/// The adapter of one slice over the SDK, or None for a slice with no adapter (a test keeps
/// every registered slice covered). `protected` are principals snapback never removes.
pub fn adapter(service: &str, sdk: &SdkConfig, protected: &[String]) -> Option<Box<dyn ServiceAdapter>> {
    use snapback_rules::services::eks;
    #[cfg(feature = "guards")]
    use snapback_rules::services::{ecr, node, security_groups};
    Some(match service {
        #[cfg(feature = "guards")]
        security_groups::SERVICE => {
            Box::new(Ec2SecurityGroups::new(aws_sdk_ec2::Client::new(sdk), aws_sdk_eks::Client::new(sdk)))
        }
        eks::SERVICE => Box::new(EksApi::new(aws_sdk_eks::Client::new(sdk)).protecting(protected)),
        #[cfg(feature = "guards")]
        node::SERVICE => Box::new(Ec2Nodes::new(aws_sdk_ec2::Client::new(sdk), aws_sdk_eks::Client::new(sdk))),
        #[cfg(feature = "guards")]
        ecr::SERVICE => Box::new(EcrRepositories::new(aws_sdk_ecr::Client::new(sdk))),
        #[cfg(feature = "watchdog")]
        snapback_rules::services::watchdog::SERVICE => Box::new(services::watchdog::WatchdogApi::new(sdk)),
        _ => return None,
    })
}

/// The adapters of a function's slices, built once per cold start.
pub fn adapters(function: &Function, sdk: &SdkConfig, protected: &[String]) -> Vec<Box<dyn ServiceAdapter>> {
    function
        .slices()
        .into_iter()
        .map(|service| {
            adapter(service.name(), sdk, protected)
                .unwrap_or_else(|| panic!("no adapter for slice {}; add it to snapback_aws::adapter", service.name()))
        })
        .collect()
}

/// Shared SDK configuration from the environment (`AWS_ENDPOINT_URL` included): standard retry
/// mode with a bounded number of attempts (throttling backs off), and timeouts well inside a
/// Lambda invocation.
pub async fn load_sdk_config() -> SdkConfig {
    sdk_config_loader().load().await
}

/// The SDK configuration of a sweep (the sweeper, `snapback scan`): a sweep reads a whole account,
/// so throttling gets more attempts and longer backoff ([`sweep_retry_config`]) and each call more
/// time than a guard's restore.
pub async fn load_sweep_sdk_config() -> SdkConfig {
    sweep_sdk_config_loader().load().await
}

/// The loader behind [`load_sweep_sdk_config`], for callers that set more (a profile, a region).
pub fn sweep_sdk_config_loader() -> aws_config::ConfigLoader {
    sdk_config_loader().retry_config(sweep_retry_config()).timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(Duration::from_secs(60))
            .operation_timeout(Duration::from_secs(180))
            .build(),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_slice_has_an_adapter_serving_it() {
        let sdk = SdkConfig::builder().behavior_version(BehaviorVersion::latest()).build();
        for service in snapback_rules::registry::services() {
            let adapter = adapter(service.name(), &sdk, &[]).unwrap_or_else(|| panic!("{}", service.name()));
            assert_eq!(adapter.service(), service.name());
        }
    }
}
