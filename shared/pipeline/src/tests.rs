//! The handler path with fakes behind the capability traits: the failure handling that moto
//! cannot be made to produce on demand (access denied on one call, throttling that outlasts the
//! SDK's retries, a config document that turns bad after a good one).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use snapback_aws::AwsError;
use snapback_rules::services::security_groups::SERVICE;
use snapback_testkit::cloudtrail::{authorize_ingress, created_rule, tcp, ACCOUNT};
use snapback_testkit::fakes::{Documents, FakeAdapter, Outbox};

use crate::config_cache::ConfigCache;
use crate::Guard;

/// sg-guard over a fake security-groups adapter; the alerts it publishes land in the outbox.
fn guard(groups: FakeAdapter, documents: Vec<&'static str>) -> (Guard, Arc<Outbox>, Arc<FakeAdapter>) {
    let outbox = Arc::new(Outbox::default());
    let groups = Arc::new(groups);
    let guard = Guard {
        function: snapback_rules::function("sg-guard").unwrap(),
        adapters: vec![Box::new(groups.clone())],
        accounts: None,
        organization: None,
        publisher: Box::new(outbox.clone()),
        config: ConfigCache::new(Some(Box::new(Documents::new(documents))), Duration::ZERO),
        own_principals: Vec::new(),
        ledger: None,
    };
    (guard, outbox, groups)
}

fn groups() -> FakeAdapter {
    FakeAdapter::new(SERVICE)
}

fn soon() -> std::time::Instant {
    std::time::Instant::now() + Duration::from_secs(30)
}

fn ssh_opened(port: i64) -> Value {
    let created = created_rule(ACCOUNT, "sg-1", "sgr-1", "tcp", port, port, "0.0.0.0/0");
    authorize_ingress(ACCOUNT, "sg-1", vec![tcp(port, &["0.0.0.0/0"])], vec![created])
}

#[tokio::test]
async fn a_restore_that_is_refused_alerts_failed_and_does_not_ask_for_a_retry() {
    let groups = groups()
        .failing(|| AwsError::permanent("ec2:RevokeSecurityGroupIngress", "UnauthorizedOperation: not allowed"));
    let (guard, outbox, _) = guard(groups, vec!["{}"]);

    let report = guard.handle(&ssh_opened(22), soon()).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "failed");
    let alerts = outbox.0.lock().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["outcome"], "failed");
    assert!(alerts[0]["notes"][0].as_str().unwrap().contains("UnauthorizedOperation"), "{}", alerts[0]);
}

#[tokio::test]
async fn throttling_that_outlasts_the_sdk_retries_returns_a_retryable_error_without_an_alert() {
    let groups = groups().failing(|| AwsError::Retryable {
        operation: "ec2:RevokeSecurityGroupIngress",
        message: "RequestLimitExceeded".into(),
        source: None,
    });
    let (guard, outbox, _) = guard(groups, vec!["{}"]);

    let error = guard.handle(&ssh_opened(22), soon()).await.unwrap_err();

    assert!(error.to_string().contains("a retry may help"), "{error}");
    assert!(outbox.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_document_after_a_good_one_keeps_the_good_one_and_alerts_say_so() {
    let (guard, outbox, groups) = guard(
        groups(),
        vec![
            r#"{"rules": {"sg-open-remote-admin": {"mode": "notify"}}}"#,
            r#"{"rules": {"sg-open-remote-admin": {"mode": "loud"}}}"#,
        ],
    );

    let first = guard.handle(&ssh_opened(22), soon()).await.unwrap();
    let second = guard.handle(&ssh_opened(3389), soon()).await.unwrap();

    assert_eq!(first.decisions[0].outcome, "would-remediate");
    assert_eq!(second.decisions[0].outcome, "would-remediate", "the last good config (notify) stays in force");
    let alerts = outbox.0.lock().unwrap();
    assert_eq!(alerts[0]["notes"], json!([]));
    let note = alerts[1]["notes"][0].as_str().unwrap();
    assert!(
        note.contains("rules.sg-open-remote-admin.mode") && note.contains("keeping the last good config"),
        "{note}"
    );
    assert!(groups.ran().is_empty());
}

#[tokio::test]
async fn unreadable_payloads_are_ignored_with_their_reason() {
    let (guard, outbox, _) = guard(groups(), vec!["{}"]);
    for (payload, reason) in [
        (json!("text"), "expected a JSON object, got a string"),
        (json!({"detail-type": "EKS Fargate Pod Scheduled Termination", "detail": {}}), "is not a CloudTrail API call"),
        (json!({"eventSource": "ec2.amazonaws.com"}), "field `eventName` is missing"),
    ] {
        let report = guard.handle(&payload, soon()).await.unwrap();
        assert!(report.ignored.as_deref().unwrap().contains(reason), "{report:?}");
    }
    assert!(outbox.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_function_ignores_events_of_services_it_does_not_host() {
    let (guard, outbox, groups) = guard(groups(), vec!["{}"]);
    let public_endpoint = json!({"eventID": "e-eks", "eventSource": "eks.amazonaws.com", "eventName": "UpdateClusterConfig",
        "requestParameters": {"name": "prod", "resourcesVpcConfig": {"endpointPublicAccess": true, "endpointPrivateAccess": false}}});

    let report = guard.handle(&public_endpoint, soon()).await.unwrap();

    assert_eq!(report.ignored.as_deref(), Some("no rule listens to eks.amazonaws.com UpdateClusterConfig"));
    assert!(report.decisions.is_empty());
    assert!(groups.ran().is_empty());
    assert!(outbox.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn ports_that_are_not_integers_in_range_are_ignored_without_a_call_an_alert_or_a_retry() {
    let (guard, outbox, groups) = guard(groups(), vec!["{}"]);
    for (from, to) in [(json!("-22"), json!("-22")), (json!(1e308), json!(1e308))] {
        let mut event = ssh_opened(22);
        event["requestParameters"]["ipPermissions"]["items"][0]["fromPort"] = from;
        event["requestParameters"]["ipPermissions"]["items"][0]["toPort"] = to;

        let report = guard.handle(&event, soon()).await.expect("bad input is never retried");

        assert!(report.ignored.as_deref().unwrap().contains("is not a port 0-65535"), "{report:?}");
        assert!(report.decisions.is_empty());
    }
    assert!(groups.ran().is_empty());
    assert!(outbox.0.lock().unwrap().is_empty());
}

/// GIVEN one call that opens SSH and the kubelet to the world on one group, WHEN handled, THEN
/// both rules restore and one alert names both, with the rule ids in its attributes.
#[tokio::test]
async fn one_change_tripping_two_rules_on_one_group_sends_one_alert() {
    let (guard, outbox, groups) = guard(groups(), vec!["{}"]);
    let mut event = ssh_opened(22);
    event["requestParameters"]["ipPermissions"]["items"].as_array_mut().unwrap().push(tcp(10250, &["0.0.0.0/0"]));

    let report = guard.handle(&event, soon()).await.unwrap();

    let outcomes: Vec<(&str, &str)> = report.decisions.iter().map(|d| (d.rule.as_str(), d.outcome.as_str())).collect();
    assert_eq!(outcomes, [("sg-open-remote-admin", "remediated"), ("sg-open-kubelet", "remediated")]);
    assert_eq!(groups.ran().len(), 2);
    let alerts = outbox.0.lock().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let rules: Vec<&str> = alerts[0]["rules"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["sg-open-kubelet", "sg-open-remote-admin"], "most severe first");
    assert_eq!(alerts[0]["severity"], "critical");
    assert_eq!(alerts[0]["restored"].as_array().unwrap().len(), 2);
}

/// GIVEN one world-open range that trips a remediate rule (kubelet) and a notify rule (API
/// ports) and one revoke that undoes both, WHEN handled, THEN the notify rule is reported as
/// restored alongside, not as a change left in place, and the one alert says "remediated".
#[tokio::test]
async fn a_notify_rule_whose_change_another_rules_restore_undid_is_reported_restored() {
    let (guard, outbox, groups) = guard(groups(), vec!["{}"]);
    let created = created_rule(ACCOUNT, "sg-1", "sgr-range", "tcp", 6443, 10250, "0.0.0.0/0");
    let event = authorize_ingress(
        ACCOUNT,
        "sg-1",
        vec![snapback_testkit::cloudtrail::permission("tcp", 6443, 10250, &["0.0.0.0/0"])],
        vec![created],
    );

    let report = guard.handle(&event, soon()).await.unwrap();

    let outcomes: Vec<(&str, &str)> = report.decisions.iter().map(|d| (d.rule.as_str(), d.outcome.as_str())).collect();
    assert_eq!(outcomes, [("sg-open-kubelet", "remediated"), ("sg-open-k8s-api", "remediated")]);
    assert_eq!(groups.ran(), ["revoke ingress rule sgr-range on sg-1"], "one revoke");
    let alerts = outbox.messages();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["outcome"], "remediated");
    let notes = alerts[0]["notes"].to_string();
    assert!(notes.contains("sg-open-k8s-api: sg-open-k8s-api is in notify mode"), "{notes}");
}

/// GIVEN a group a sweep found with SSH open to the world, WHEN the state is judged through the
/// same path as a change, THEN the rule restores it by rule id and the alert says the sweep found
/// it, naming no caller and no CloudTrail event.
#[tokio::test]
async fn a_described_state_is_judged_restored_and_alerted_as_found_by_the_sweep() {
    use snapback_rules::services::security_groups::{GroupState, Protocol, RuleEntry, Source};
    let (guard, outbox, groups) = guard(groups(), vec!["{}"]);
    let group = GroupState {
        group_id: "sg-1".into(),
        ingress: vec![RuleEntry {
            protocol: Protocol::Tcp,
            from_port: Some(22),
            to_port: Some(22),
            source: Source::cidr("0.0.0.0/0"),
            rule_id: Some("sgr-old".into()),
        }],
        ..GroupState::default()
    };
    let found = snapback_rules::DescribedState::new(
        Some(ACCOUNT.into()),
        Some("eu-west-1".into()),
        "2026-11-29T06:00:00Z",
        "sg-1",
        Box::new(group),
    );
    let current = guard.config.current().await.unwrap();

    let report = guard.judge(&snapback_rules::Observation::State(found), &current, soon()).await.unwrap();

    assert_eq!(report.decisions.len(), 1, "{report:?}");
    assert_eq!(report.decisions[0].outcome, "remediated");
    assert_eq!(groups.ran(), ["revoke ingress rule sgr-old on sg-1"]);
    let alerts = outbox.messages();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["event_name"], "Sweep");
    assert_eq!(alerts[0]["event_time"], "2026-11-29T06:00:00Z");
    assert!(alerts[0]["actor"].as_str().unwrap().starts_with("snapback sweep"), "{}", alerts[0]["actor"]);
}

#[test]
fn the_deadline_reads_an_epoch_time_or_the_emulators_duration() {
    let mut context = lambda_runtime::Context::default();
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    context.deadline = now_ms + 20_000;
    let remaining = crate::deadline(&context).saturating_duration_since(std::time::Instant::now());
    assert!(remaining > Duration::from_secs(19) && remaining <= Duration::from_secs(20), "{remaining:?}");
    context.deadline = 600_000;
    let remaining = crate::deadline(&context).saturating_duration_since(std::time::Instant::now());
    assert!(remaining > Duration::from_secs(599), "{remaining:?}");
}

/// A safe cluster (facts known to its sweep: tagged, of cluster `alpha`) and one of its nodegroups
/// with SSH open to the world (no facts of its own).
fn cluster_and_open_nodegroup() -> Vec<snapback_aws::Found> {
    use snapback_rules::services::eks::{ClusterState, EksState, EndpointState, NodegroupAccess, CLUSTER, NODEGROUP};
    let cluster = ClusterState {
        name: "alpha".into(),
        status: "ACTIVE".into(),
        endpoint: EndpointState { public: false, private: true, public_cidrs: Vec::new() },
        logging_enabled: ["api", "audit", "authenticator", "controllerManager", "scheduler"].map(String::from).into(),
        secrets_encrypted: true,
        ..ClusterState::default()
    };
    let nodegroup = NodegroupAccess {
        cluster: "alpha".into(),
        nodegroup: "ng-a".into(),
        ssh_key: Some("ops".into()),
        source_security_groups: Vec::new(),
    };
    let facts = snapback_rules::ResourceFacts {
        tags: [("team".to_owned(), "platform".to_owned())].into(),
        cluster: Some("alpha".into()),
    };
    vec![
        snapback_aws::Found {
            kind: &CLUSTER,
            resource: "alpha".into(),
            state: Box::new(EksState::Cluster(cluster)),
            facts: Some(facts),
        },
        snapback_aws::Found {
            kind: &NODEGROUP,
            resource: "alpha/ng-a".into(),
            state: Box::new(EksState::Nodegroup(nodegroup)),
            facts: None,
        },
    ]
}

/// GIVEN a sweep that describes a cluster (its facts known) and a nodegroup of it with SSH open,
/// WHEN the sweeper judges them, THEN the nodegroup's finding (about the cluster) is decided with
/// the facts the sweep already had, without looking the cluster up again.
#[tokio::test]
async fn a_nodegroup_finding_in_a_sweep_uses_its_clusters_swept_facts_without_a_look_up() {
    let eks = Arc::new(FakeAdapter::new(snapback_rules::services::eks::SERVICE).sweeping(cluster_and_open_nodegroup));
    let outbox = Arc::new(Outbox::default());
    let guard = Guard {
        function: snapback_rules::function("sweeper").unwrap(),
        adapters: vec![Box::new(eks.clone())],
        accounts: None,
        organization: None,
        publisher: Box::new(outbox.clone()),
        config: ConfigCache::new(Some(Box::new(Documents::new(vec!["{}"]))), Duration::ZERO),
        own_principals: Vec::new(),
        ledger: None,
    };

    let report = guard.sweep(Some(ACCOUNT), Some("eu-west-1"), soon()).await.unwrap();

    let rules: Vec<&str> = report.decisions.iter().map(|decision| decision.rule.as_str()).collect();
    assert_eq!(rules, ["eks-nodegroup-ssh-open"], "{report:?}");
    assert_eq!(eks.looked_up(), Vec::<String>::new());
    let alerts = outbox.messages();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["cluster"], "alpha", "the swept facts, not the fake look-up's cluster prod");
}

#[tokio::test]
async fn only_a_heartbeat_for_this_function_from_its_own_account_is_accepted() {
    let (mut guard, outbox, groups) = guard(groups(), vec!["{}"]);
    let sdk = snapback_aws::SdkConfig::builder().build();
    guard.accounts = Some(snapback_aws::Accounts::new(
        ACCOUNT,
        "aws",
        &sdk,
        std::sync::Arc::new(|_: &snapback_aws::SdkConfig| Vec::new()),
    ));
    let beat = |function: &str, account: &str| {
        json!({"version": "0", "id": "hb-1", "source": snapback_rules::heartbeat::SOURCE,
               "detail-type": snapback_rules::heartbeat::DETAIL_TYPE, "account": account, "region": "eu-west-1",
               "detail": snapback_rules::heartbeat::detail(function, 0, "default", "2026-12-01T10:00:00Z")})
    };
    let recorded = guard.handle(&beat("sg-guard", ACCOUNT), soon()).await.unwrap();
    assert_eq!(recorded.heartbeat.as_deref(), Some("sg-guard-0 on default"));
    assert!(recorded.ignored.is_none() && recorded.decisions.is_empty());

    for (payload, reason) in [
        (beat("eks-guard", ACCOUNT), "a heartbeat for eks-guard, not sg-guard"),
        (beat("sg-guard", "999999999999"), "a heartbeat put by account 999999999999"),
        (json!({"source": snapback_rules::heartbeat::SOURCE, "detail-type": "x"}), "not a heartbeat: detail-type"),
    ] {
        let report = guard.handle(&payload, soon()).await.unwrap();
        assert!(report.heartbeat.is_none(), "{report:?}");
        assert!(report.ignored.as_deref().unwrap().contains(reason), "{report:?}");
    }
    assert!(outbox.0.lock().unwrap().is_empty(), "a heartbeat alerts nobody");
    assert!(groups.looked_up().is_empty() && groups.ran().is_empty(), "and asks AWS nothing");
}
