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

#[tokio::test]
async fn the_watchdog_bootstrap_restarts_a_stopped_trail_writes_the_decisions_metrics_and_sweeps_on_schedule() {
    let world = World::in_default_account().await;
    let trail = format!("e2e-trail-{}", std::process::id());
    world.aws.s3.create_bucket().bucket(format!("{trail}-logs")).send().await.unwrap();
    world.aws.cloudtrail.create_trail().name(&trail).s3_bucket_name(format!("{trail}-logs")).send().await.unwrap();
    // Management events, as AWS gives a new trail (moto gives it no selector): the sweep's check
    // of the region's trails then finds it covered once it logs again.
    world.log_management_events(&trail).await;
    world.aws.cloudtrail.start_logging().name(&trail).send().await.unwrap();
    world.aws.cloudtrail.stop_logging().name(&trail).send().await.unwrap();
    let record = snapback_testkit::cloudtrail::record(
        snapback_rules::services::watchdog::CLOUDTRAIL_SOURCE,
        "StopLogging",
        DEFAULT_ACCOUNT,
        json!({"name": trail}),
        serde_json::Value::Null,
    );
    let log = std::env::temp_dir().join(format!("snapback-watchdog-e2e-{}.log", std::process::id()));

    let function = LocalLambda::start_logging(&function_binary("watchdog"), &world.function_env(), Some(&log));
    let answer = function.invoke(&envelope(&record));

    assert_eq!(answer["decisions"][0]["rule"], "trail-logging-stopped", "{answer}");
    assert_eq!(answer["decisions"][0]["outcome"], "remediated", "{answer}");
    let status = world.aws.cloudtrail.get_trail_status().name(&trail).send().await.unwrap();
    assert_eq!(status.is_logging(), Some(true));
    assert_eq!(world.alerts().await.len(), 1);
    // The sweep schedule's input makes it sweep snapback's own resources instead, then send the
    // heartbeats: one per guard rule on the default bus at least.
    let swept = function.invoke(&json!({"snapback": "sweep"}));
    assert_eq!(swept["complete"], true, "{swept}");
    assert_eq!(swept["errors"], json!([]), "{swept}");
    let routes = snapback_rules::heartbeat::routes().len() as u64;
    assert!(swept["heartbeats_sent"].as_u64().is_some_and(|sent| sent >= routes && sent % routes == 0), "{swept}");
    assert!(swept["resources"].as_u64().is_some_and(|described| described >= 1), "its own topic at least: {swept}");
    drop(function);
    let printed = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let metrics: Vec<serde_json::Value> = printed
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect();
    assert_eq!(metrics.len(), 1, "one embedded-metric line per decision: {printed}");
    assert_eq!(metrics[0]["Rule"], "trail-logging-stopped");
    assert_eq!(metrics[0]["Outcome"], "remediated");
    assert!(metrics[0]["TimeToRestore"].as_f64().is_some_and(|ms| ms > 0.0), "{}", metrics[0]);
}
