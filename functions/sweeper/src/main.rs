//! sweeper: on a schedule, judges everything in its account and region as it is, with every
//! guard's rules and modes, and goes on from the ledger's cursor when the last run ran short.
//! In a central deployment (`SNAPBACK_SWEEP_QUEUE_URL` set) the schedule instead puts one message
//! per member account and region on the sweep queue, and the same function, fed by that queue,
//! sweeps each through the member role.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};
use snapback_pipeline::{
    account_of_function, deadline, fan_out, init_tracing, is_queue_batch, sweep_messages, FanOutSettings, Guard,
    Settings,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = Settings::from_env()?;
    let sdk = snapback_aws::load_sweep_sdk_config().await;
    let region = sdk.region().map(|region| region.to_string());
    let fan_out_settings = FanOutSettings::from_lookup(|name| std::env::var(name).ok(), region.as_deref())?;
    let sqs = fan_out_settings.as_ref().map(|_| aws_sdk_sqs::Client::new(&sdk));
    let function = snapback_rules::function("sweeper").expect("the sweeper is in the registry's function table");
    let guard = Guard::from_settings(function, &sdk, &settings);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (guard, region, fan_out_settings, sqs) = (&guard, region.as_deref(), &fan_out_settings, &sqs);
        async move {
            let deadline = deadline(&event.context);
            if is_queue_batch(&event.payload) {
                return Ok::<Value, Error>(sweep_messages(guard, &event.payload, deadline).await.0);
            }
            if let (Some(settings), Some(sqs)) = (fan_out_settings, sqs) {
                let queued = fan_out(sqs, guard.organization.as_ref(), settings).await?;
                return Ok(json!({"queued": queued}));
            }
            // The account is the function's own: its ARN says which, without a call to STS.
            let account = account_of_function(&event.context.invoked_function_arn);
            Ok(serde_json::to_value(guard.sweep(account, region, deadline).await?)?)
        }
    }))
    .await
}
