//! ecr-guard: restores scan on push on ECR repositories, alerts on mutable tags and public policies.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use snapback_pipeline::{deadline, init_tracing, Guard, Settings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = Settings::from_env()?;
    let sdk = snapback_aws::load_sdk_config().await;
    let function = snapback_rules::function("ecr-guard").expect("ecr-guard is in the registry's function table");
    let guard = Guard::from_settings(function, &sdk, &settings);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let guard = &guard;
        async move { guard.handle(&event.payload, deadline(&event.context)).await }
    }))
    .await
}
