//! watchdog: snaps back attempts to blind snapback (its trail stopped, its EventBridge rules
//! disabled, its functions throttled to zero, its alerts unsubscribed, its configuration
//! weakened) and the account's detectors switched off. Its own function and EventBridge rule, so
//! that disabling a guard's rule does not blind it too.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use snapback_pipeline::{deadline, init_tracing, Guard, Settings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = Settings::from_env()?;
    let sdk = snapback_aws::load_sdk_config().await;
    let function = snapback_rules::function("watchdog").expect("the watchdog is in the registry's function table");
    let guard = Guard::from_settings(function, &sdk, &settings);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let guard = &guard;
        async move { guard.handle(&event.payload, deadline(&event.context)).await }
    }))
    .await
}
