//! watchdog: snaps back attempts to blind snapback (its trail stopped, its EventBridge rules
//! disabled, its functions throttled to zero, its alerts unsubscribed, its configuration
//! weakened) and the account's detectors switched off. Its own function and EventBridge rule, so
//! that disabling a guard's rule does not blind it too; on the sweep schedule it also checks the
//! region's trails and snapback's own rules, functions and topics, whatever changed them, then
//! sends every guard's rule its heartbeat.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use snapback_pipeline::{account_of_function, deadline, init_tracing, is_scheduled_sweep, Guard, Settings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = Settings::from_env()?;
    let sdk = snapback_aws::load_sdk_config().await;
    let region = sdk.region().map(|region| region.to_string());
    let function = snapback_rules::function("watchdog").expect("the watchdog is in the registry's function table");
    let mut guard = Guard::from_settings(function, &sdk, &settings);
    if let Some(relay) = &settings.relay_function {
        // The topic deleted (or its policy or key changed): the alert saying so still reaches Slack.
        guard.publisher = Box::new(snapback_aws::RelayFallback::from_sdk(guard.publisher, &sdk, relay));
    }
    let heartbeats = snapback_aws::HeartbeatSender::new(&sdk);
    // The module names every function `<name_prefix><function>`: this one's name tells the prefix.
    let prefix = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .ok()
        .and_then(|name| name.strip_suffix(function.name).map(str::to_owned))
        .unwrap_or_default();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (guard, heartbeats, region, prefix) = (&guard, &heartbeats, region.as_deref(), prefix.as_str());
        async move {
            let deadline = deadline(&event.context);
            if is_scheduled_sweep(&event.payload) {
                let account = account_of_function(&event.context.invoked_function_arn);
                let swept = guard.sweep(account, region, deadline).await;
                // After the sweep put back what it could: the heartbeats test the path as it is now.
                let sent = heartbeats.send(prefix).await;
                let mut report = swept?;
                report.heartbeats_sent = Some(sent?);
                return Ok::<Value, Error>(serde_json::to_value(report)?);
            }
            Ok(serde_json::to_value(guard.handle(&event.payload, deadline).await?)?)
        }
    }))
    .await
}
