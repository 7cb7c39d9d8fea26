//! End to end: the sweeper bootstrap under cargo-lambda's Lambda runtime emulator. Its own test
//! binary, because it sweeps moto's default account, where the other end-to-end tests work: test
//! binaries run one after another, so no guard's test races the sweep.

use serde_json::json;
use snapback_tests::lambda::{function_binary, LocalLambda};
use snapback_tests::World;

/// The sweeper bootstrap, invoked as EventBridge Scheduler invokes it (an empty input), with a
/// ledger table: it sweeps the account and region its environment names and restores a public
/// endpoint that no event reported.
#[tokio::test]
async fn the_sweeper_bootstrap_sweeps_its_account_under_the_lambda_runtime() {
    let world = World::in_default_account().await;
    let cluster = format!("e2e-sweep-{}", std::process::id());
    world
        .cluster(
            &cluster,
            true,
            true,
            &["0.0.0.0/0"],
            &["api", "audit", "authenticator", "controllerManager", "scheduler"],
            &[],
        )
        .await;
    let table = world.ledger_table().await;
    let mut env = world.function_env();
    env.push(("SNAPBACK_LEDGER_TABLE", table));

    let function = LocalLambda::start(&function_binary("sweeper"), &env);
    let answer = function.invoke(&json!({}));

    assert_eq!(answer["complete"], true, "{answer}");
    let ours: Vec<&str> = answer["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|decision| decision["resource"] == cluster.as_str() && decision["rule"] == "eks-public-endpoint")
        .map(|decision| decision["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(ours, ["remediated"], "{answer}");
    let (public, private, _, _) = world.cluster_state(&cluster).await;
    assert_eq!((public, private), (false, true));
}
