//! The EKS guard against moto's EKS, SNS, SQS and SSM. moto answers UpdateClusterConfig without
//! an `update` and replaces the whole VPC config, so the tests assert only on the fields snapback
//! sends. A fault proxy between the SDK and moto plays a busy cluster (409, UPDATING).

use serde_json::{json, Value};
use snapback_tests::fault_proxy::{Fault, FaultProxy};
use snapback_tests::{deadline_in, eks_record, moto_url, Clients, World};

const ALL_LOGS: &[&str] = &["api", "audit", "authenticator", "controllerManager", "scheduler"];

/// The console's record of making the endpoint public and open, with update params as strings.
fn endpoint_opened(account: &str, cluster: &str) -> Value {
    eks_record(
        account,
        "UpdateClusterConfig",
        json!({"name": cluster, "clientRequestToken": "3b0e7c6a", "resourcesVpcConfig": {"endpointPublicAccess": true, "endpointPrivateAccess": false}}),
        json!({"update": {"id": "a6a26d0a-5e8f-3c6e-a5b1-64d3b5d3f6a1", "status": "InProgress", "type": "EndpointAccessUpdate",
            "params": [{"type": "EndpointPublicAccess", "value": "true"}, {"type": "EndpointPrivateAccess", "value": "false"},
                       {"type": "PublicAccessCidrs", "value": "[\"0.0.0.0/0\"]"}],
            "createdAt": 1795745684.735, "errors": []}}),
    )
}

fn logging_turned_off(account: &str, cluster: &str, types: &[&str]) -> Value {
    eks_record(
        account,
        "UpdateClusterConfig",
        json!({"name": cluster, "logging": {"clusterLogging": [{"types": types, "enabled": false}]}}),
        json!({"update": {"id": "b1", "status": "InProgress", "type": "LoggingUpdate", "params": [{"type": "ClusterLogging",
            "value": json!({"clusterLogging": [{"types": types, "enabled": false}]}).to_string()}], "errors": []}}),
    )
}

/// A public, world-open cluster with the private endpoint off, all logs on.
async fn opened_cluster(config: Option<&str>) -> (World, Value) {
    let world = World::new().await;
    if let Some(document) = config {
        world.put_config(document).await;
    }
    world.cluster("prod", true, false, &["0.0.0.0/0"], ALL_LOGS, &[("team", "platform")]).await;
    let event = endpoint_opened(&world.aws.account, "prod");
    (world, event)
}

#[tokio::test]
async fn a_public_open_endpoint_is_restored_to_private_only_in_one_update() {
    let (world, event) = opened_cluster(None).await;
    let counter = FaultProxy::start(&moto_url(), Fault::count("/update-config", Some("POST")));
    let counted = Clients::for_account_at(&world.aws.account, &counter.url).await;

    let report = world.eks_guard_with(&counted, &[]).handle(&event, deadline_in(30)).await.unwrap();

    let outcomes: Vec<(&str, &str)> = report.decisions.iter().map(|d| (d.rule.as_str(), d.outcome.as_str())).collect();
    assert_eq!(
        outcomes,
        [
            ("eks-public-endpoint", "remediated"),
            ("eks-public-endpoint-open-cidr", "remediated"),
            ("eks-private-endpoint-disabled", "remediated")
        ]
    );
    assert_eq!(counter.matched(), 1, "three findings, one UpdateClusterConfig");
    let (public, private, _, _) = world.cluster_state("prod").await;
    assert_eq!((public, private), (false, true));
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "one change, one cluster: one alert for the three rules");
    let alert = &alerts[0];
    assert_eq!(alert.message["outcome"], "remediated");
    assert_eq!(alert.message["resource"], "prod");
    assert_eq!(alert.message["restored"], json!(["set private endpoint on, public endpoint off for cluster prod"]));
    let mut rules: Vec<&str> =
        alert.message["rules"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
    rules.sort();
    assert_eq!(rules, ["eks-private-endpoint-disabled", "eks-public-endpoint", "eks-public-endpoint-open-cidr"]);
    assert!(alert.message["rules"].as_array().unwrap().iter().all(|r| r["outcome"] == "remediated"));
    let mut attribute: Vec<String> = serde_json::from_str(&alert.attributes["rule"]).expect("a String.Array attribute");
    attribute.sort();
    assert_eq!(attribute, rules);
}

#[tokio::test]
async fn with_allowed_cidrs_the_public_endpoint_is_limited_to_them() {
    let (world, event) =
        opened_cluster(Some(r#"{"rules": {"eks-public-endpoint": {"public_access_cidrs": ["203.0.113.0/24"]}}}"#))
            .await;

    let report = world.eks_guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert!(report.decisions.iter().all(|d| d.outcome == "remediated"), "{report:?}");
    let (public, private, cidrs, _) = world.cluster_state("prod").await;
    assert_eq!((public, private, cidrs), (true, true, vec!["203.0.113.0/24".to_owned()]));
}

#[tokio::test]
async fn audit_logging_turned_off_is_turned_back_on() {
    let world = World::new().await;
    world.cluster("prod", false, true, &[], &["api"], &[]).await;
    let event = logging_turned_off(&world.aws.account, "prod", &["audit", "authenticator"]);

    let report = world.eks_guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].rule, "eks-control-plane-logging-disabled");
    assert_eq!(report.decisions[0].outcome, "remediated", "{report:?}");
    let (_, _, _, logs) = world.cluster_state("prod").await;
    assert!(logs.contains(&"audit".to_owned()) && logs.contains(&"authenticator".to_owned()), "{logs:?}");
    let alerts = world.alerts().await;
    assert_eq!(
        alerts[0].message["restored"],
        json!(["enable control-plane logging audit, authenticator on cluster prod"])
    );
}

#[tokio::test]
async fn notify_mode_leaves_the_cluster_alone_and_alerts() {
    let (world, event) = opened_cluster(Some(
        r#"{"rules": {"eks-public-endpoint": {"mode": "notify"}, "eks-public-endpoint-open-cidr": {"mode": "notify"},
            "eks-private-endpoint-disabled": {"mode": "notify"}}}"#,
    ))
    .await;

    let report = world.eks_guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert!(report.decisions.iter().all(|d| d.outcome == "would-remediate"), "{report:?}");
    let (public, private, cidrs, _) = world.cluster_state("prod").await;
    assert_eq!((public, private, cidrs), (true, false, vec!["0.0.0.0/0".to_owned()]));
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "one change, one cluster: one alert for the three rules");
    assert_eq!(alerts[0].message["outcome"], "would-remediate");
    assert_eq!(alerts[0].message["rules"].as_array().unwrap().len(), 3);
    assert!(alerts[0].message["rules"].as_array().unwrap().iter().all(|r| r["outcome"] == "would-remediate"));
}

#[tokio::test]
async fn an_exempt_cluster_keeps_its_endpoint() {
    let world = World::new().await;
    world.cluster("prod", true, false, &["0.0.0.0/0"], ALL_LOGS, &[("snapback:exempt", "all")]).await;
    let event = endpoint_opened(&world.aws.account, "prod");

    let report = world.eks_guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert!(report.decisions.iter().all(|d| d.outcome == "exempt"), "{report:?}");
    assert!(world.cluster_state("prod").await.0, "still public");
}

#[tokio::test]
async fn an_event_by_snapbacks_own_role_is_ignored() {
    let (world, mut event) = opened_cluster(None).await;
    let account = world.aws.account.clone();
    event["userIdentity"] = json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{account}:assumed-role/snapback-eks-guard/eks-guard"),
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{account}:role/snapback-eks-guard")}}});
    let own = format!("arn:aws:iam::{account}:role/snapback-eks-guard");

    let report = world.eks_guard(&[own.as_str()]).handle(&event, deadline_in(30)).await.unwrap();

    assert!(report.ignored.unwrap().contains("snapback's own role"));
    assert!(world.cluster_state("prod").await.0, "left as it was");
    assert!(world.alerts().await.is_empty());
}

#[tokio::test]
async fn a_busy_cluster_answering_409_is_retried_until_the_update_goes_through() {
    let (world, event) = opened_cluster(None).await;
    let proxy = FaultProxy::start(&moto_url(), Fault::eks_resource_in_use(2));
    let busy = Clients::for_account_at(&world.aws.account, &proxy.url).await;

    let report = world.eks_guard_with(&busy, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(proxy.failed(), 2);
    assert_eq!(proxy.matched(), 3);
    assert!(report.decisions.iter().all(|d| d.outcome == "remediated"), "{report:?}");
    assert!(!world.cluster_state("prod").await.0, "public endpoint off");
}

#[tokio::test]
async fn a_cluster_reported_updating_is_waited_for() {
    let (world, event) = opened_cluster(None).await;
    // DescribeCluster answers UPDATING three times (the lookup, then the adapter after each wait), then ACTIVE.
    let proxy = FaultProxy::start(&moto_url(), Fault::eks_cluster_updating(3));
    let busy = Clients::for_account_at(&world.aws.account, &proxy.url).await;

    let report = world.eks_guard_with(&busy, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(proxy.failed(), 3);
    assert!(report.decisions.iter().all(|d| d.outcome == "remediated"), "{report:?}");
    assert!(!world.cluster_state("prod").await.0, "public endpoint off");
}

#[tokio::test]
async fn a_cluster_busy_past_the_deadline_returns_a_retryable_error_and_changes_nothing() {
    let (world, event) = opened_cluster(None).await;
    let proxy = FaultProxy::start(&moto_url(), Fault::eks_resource_in_use(usize::MAX));
    let busy = Clients::for_account_at(&world.aws.account, &proxy.url).await;

    let error = world.eks_guard_with(&busy, &[]).handle(&event, deadline_in(3)).await.unwrap_err();

    assert!(error.to_string().contains("busy"), "{error}");
    assert!(proxy.failed() >= 2, "it tried more than once before giving up ({} attempts)", proxy.failed());
    let (public, private, cidrs, _) = world.cluster_state("prod").await;
    assert_eq!((public, private, cidrs), (true, false, vec!["0.0.0.0/0".to_owned()]));
    assert!(world.alerts().await.is_empty(), "no alert until Lambda's retry settles it");
}

#[tokio::test]
async fn a_cluster_already_in_the_safe_state_needs_no_call() {
    let world = World::new().await;
    world.cluster("prod", false, true, &[], ALL_LOGS, &[]).await;
    let event = endpoint_opened(&world.aws.account, "prod");
    let counter = FaultProxy::start(&moto_url(), Fault::count("/update-config", Some("POST")));
    let counted = Clients::for_account_at(&world.aws.account, &counter.url).await;

    let report = world.eks_guard_with(&counted, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(counter.matched(), 0);
    assert!(report.decisions.iter().all(|d| d.outcome == "already-safe"), "{report:?}");
    assert!(world.alerts().await.is_empty());
}

#[tokio::test]
async fn the_cluster_is_described_once_per_event() {
    let (world, event) = opened_cluster(None).await;
    let counter = FaultProxy::start(&moto_url(), Fault::count("/clusters/prod ", Some("GET")));
    let counted = Clients::for_account_at(&world.aws.account, &counter.url).await;

    let report = world.eks_guard_with(&counted, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert!(report.decisions.iter().all(|d| d.outcome == "remediated"), "{report:?}");
    assert_eq!(counter.matched(), 1, "tags and state come from one DescribeCluster");
}
