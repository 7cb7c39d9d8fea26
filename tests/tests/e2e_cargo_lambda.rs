//! End to end: the built bootstrap binaries under cargo-lambda's Lambda runtime emulator,
//! configured only by their environment, restoring the safe state in moto.

use serde_json::json;
use snapback_tests::lambda::{function_binary, LocalLambda};
use snapback_tests::{authorize_record, ecr_record, eks_record, envelope, tcp_from, World, DEFAULT_ACCOUNT};

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

#[tokio::test]
async fn the_eks_guard_bootstrap_makes_a_public_endpoint_private_again_under_the_lambda_runtime() {
    let world = World::in_default_account().await;
    let cluster = format!("e2e-{}", std::process::id());
    world
        .cluster(
            &cluster,
            true,
            false,
            &["0.0.0.0/0"],
            &["api", "audit", "authenticator", "controllerManager", "scheduler"],
            &[],
        )
        .await;
    let record = eks_record(
        DEFAULT_ACCOUNT,
        "UpdateClusterConfig",
        json!({"name": cluster, "resourcesVpcConfig": {"endpointPublicAccess": true, "endpointPrivateAccess": false}}),
        json!({"update": {"id": "u-e2e", "status": "InProgress", "type": "EndpointAccessUpdate", "params": [
            {"type": "EndpointPublicAccess", "value": "true"}, {"type": "EndpointPrivateAccess", "value": "false"},
            {"type": "PublicAccessCidrs", "value": "[\"0.0.0.0/0\"]"}], "errors": []}}),
    );
    let event = envelope(&record);

    let function = LocalLambda::start(&function_binary("eks-guard"), &world.function_env());
    let answer = function.invoke(&event);

    let outcomes: Vec<&str> =
        answer["decisions"].as_array().unwrap().iter().map(|d| d["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["remediated", "remediated", "remediated"], "{answer}");
    let (public, private, _, _) = world.cluster_state(&cluster).await;
    assert_eq!((public, private), (false, true));
    assert_eq!(world.alerts().await.len(), 1, "one change, one cluster: one alert");
}

#[tokio::test]
async fn the_ecr_guard_bootstrap_turns_scan_on_push_back_on_under_the_lambda_runtime() {
    let world = World::in_default_account().await;
    let name = format!("e2e/web-{}", std::process::id());
    // Immutable tags: once scan on push is back on the repository is safe, and later sweeps of
    // the default account find nothing of it.
    let created = world.repository(&name, false, "IMMUTABLE", &[]).await;
    let record = ecr_record(
        DEFAULT_ACCOUNT,
        "CreateRepository",
        json!({"repositoryName": name, "imageTagMutability": "IMMUTABLE"}),
        json!({"repository": created}),
    );

    let function = LocalLambda::start(&function_binary("ecr-guard"), &world.function_env());
    let answer = function.invoke(&envelope(&record));

    assert_eq!(answer["decisions"][0]["rule"], "ecr-scan-on-push-disabled", "{answer}");
    assert_eq!(answer["decisions"][0]["outcome"], "remediated", "{answer}");
    assert!(world.repository_state(&name).await.scan_on_push);
    assert_eq!(world.alerts().await.len(), 1);
}
