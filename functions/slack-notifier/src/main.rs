//! slack-notifier: subscribed to the alert topic, posts each alert to Slack as Block Kit.

// hyper's client futures nest deeply inside the runtime's.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use snapback_pipeline::{deadline, init_tracing, SlackRelay};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let sdk = snapback_aws::load_sdk_config().await;
    let relay = SlackRelay::from_env(&sdk)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let relay = &relay;
        async move { relay.handle(&event.payload, deadline(&event.context)).await }
    }))
    .await
}
