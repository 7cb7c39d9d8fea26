//! End to end: the built `sg-guard` bootstrap under cargo-lambda's Lambda runtime emulator,
//! configured only by its environment, reverting a world-open SSH rule in moto.

use snapback_tests::lambda::{function_binary, LocalLambda};
use snapback_tests::{authorize_record, envelope, tcp_from, World, DEFAULT_ACCOUNT};

#[tokio::test]
async fn the_sg_guard_bootstrap_reverts_world_open_ssh_under_the_lambda_runtime() {
    let world = World::in_default_account().await;
    let group = world.group(&format!("e2e-nodes-{}", std::process::id()), &[("aws:eks:cluster-name", "prod")]).await;
    let opened = tcp_from(22, &["0.0.0.0/0"]);
    let created = world.authorize(&group, opened.clone()).await;
    let event = envelope(&authorize_record(DEFAULT_ACCOUNT, &group, &opened, &created));

    let function = LocalLambda::start(&function_binary("sg-guard"), &world.function_env());
    let answer = function.invoke(&event);

    assert_eq!(answer["decisions"][0]["rule"], "sg-open-remote-admin", "{answer}");
    assert_eq!(answer["decisions"][0]["outcome"], "remediated", "{answer}");
    assert!(world.ingress(&group).await.is_empty());
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message["resource"], group.as_str());
    assert_eq!(alerts[0].message["outcome"], "remediated");

    // A second delivery of the same event succeeds without a second alert.
    let again = function.invoke(&event);
    assert_eq!(again["decisions"][0]["outcome"], "already-safe", "{again}");
    assert!(world.alerts().await.is_empty());
}
