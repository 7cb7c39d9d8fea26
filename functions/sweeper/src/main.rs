//! sweeper: on a schedule, judges everything in its account and region as it is, with every
//! guard's rules and modes, and goes on from the ledger's cursor when the last run ran short.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use snapback_pipeline::{account_of_function, deadline, init_tracing, Guard, Settings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = Settings::from_env()?;
    let sdk = snapback_aws::load_sweep_sdk_config().await;
    let region = sdk.region().map(|region| region.to_string());
    let function = snapback_rules::function("sweeper").expect("the sweeper is in the registry's function table");
    let guard = Guard::from_settings(function, &sdk, &settings);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (guard, region) = (&guard, region.as_deref());
        async move {
            // The account is the function's own: its ARN says which, without a call to STS.
            let account = account_of_function(&event.context.invoked_function_arn);
            guard.sweep(account, region, deadline(&event.context)).await
        }
    }))
    .await
}
