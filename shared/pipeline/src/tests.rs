//! The handler path with fakes behind the capability traits: the failure handling that moto
//! cannot be made to produce on demand (access denied on one call, throttling that outlasts the
//! SDK's retries, a config document that turns bad after a good one).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use snapback_aws::{
    ActionResult, AlertPublisher, AwsError, BoxFuture, ConfigSource, Described, LookedUp, ServiceAdapter,
};
use snapback_notify::Alert;
use snapback_rules::services::security_groups::SERVICE;
use snapback_rules::{Action, ResourceFacts, ResourceKind};

use crate::config_cache::ConfigCache;
use crate::Guard;

/// A security-groups adapter whose groups all belong to cluster `prod` and whose every action
/// answers `run` (success when None).
#[derive(Default)]
struct FakeGroups {
    run: Option<fn() -> AwsError>,
    ran: Mutex<Vec<String>>,
}

impl ServiceAdapter for FakeGroups {
    fn service(&self) -> &'static str {
        SERVICE
    }

    fn look_up<'a>(
        &'a self,
        _kind: &'static ResourceKind,
        _resource: &'a str,
        _find_cluster: bool,
    ) -> BoxFuture<'a, Result<Option<LookedUp>, AwsError>> {
        let tags = BTreeMap::from([("aws:eks:cluster-name".to_owned(), "prod".to_owned())]);
        let facts = ResourceFacts { tags, cluster: Some("prod".to_owned()) };
        Box::pin(async move { Ok(Some(LookedUp { facts, described: None })) })
    }

    fn run<'a>(
        &'a self,
        action: &'a Action,
        _described: Option<Described>,
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<ActionResult, AwsError>> {
        self.ran.lock().unwrap().push(action.describe());
        let answer = match self.run {
            Some(error) => Err(error()),
            None => Ok(ActionResult::Restored),
        };
        Box::pin(async move { answer })
    }
}

/// The alerts published, in their machine form, as an SQS or Lambda subscriber receives them.
#[derive(Default)]
struct Outbox(Mutex<Vec<Value>>);

impl AlertPublisher for Outbox {
    fn publish<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), AwsError>> {
        let structure: Value = serde_json::from_str(&alert.sns_message()).unwrap();
        self.0.lock().unwrap().push(serde_json::from_str(structure["sqs"].as_str().unwrap()).unwrap());
        Box::pin(async { Ok(()) })
    }
}

/// Serves the documents in order, then the last one forever.
struct Documents(Mutex<Vec<&'static str>>);

impl ConfigSource for Documents {
    fn fetch(&self) -> BoxFuture<'_, Result<String, AwsError>> {
        let mut documents = self.0.lock().unwrap();
        let next = if documents.len() > 1 { documents.remove(0) } else { documents[0] };
        let next = next.to_owned();
        Box::pin(async move { Ok(next) })
    }
    fn describe(&self) -> String {
        "test documents".into()
    }
}

/// sg-guard over the fake groups; the alerts it publishes land in the returned outbox.
fn guard(
    groups: FakeGroups,
    documents: Vec<&'static str>,
) -> (Guard, std::sync::Arc<Outbox>, std::sync::Arc<FakeGroups>) {
    let outbox = std::sync::Arc::new(Outbox::default());
    let groups = std::sync::Arc::new(groups);
    let guard = Guard {
        function: snapback_rules::function("sg-guard").unwrap(),
        adapters: vec![Box::new(groups.clone())],
        publisher: Box::new(outbox.clone()),
        config: ConfigCache::new(Some(Box::new(Documents(Mutex::new(documents)))), Duration::ZERO),
        own_principals: Vec::new(),
    };
    (guard, outbox, groups)
}

fn soon() -> std::time::Instant {
    std::time::Instant::now() + Duration::from_secs(30)
}

fn ssh_opened(port: u16) -> Value {
    json!({"eventID": format!("e-{port}"), "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
        "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": [
            {"ipProtocol": "tcp", "fromPort": port, "toPort": port, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
        "responseElements": {"_return": true, "securityGroupRuleSet": {"items": [
            {"securityGroupRuleId": "sgr-1", "ipProtocol": "tcp", "fromPort": port, "toPort": port, "cidrIpv4": "0.0.0.0/0"}]}}})
}

#[tokio::test]
async fn a_restore_that_is_refused_alerts_failed_and_does_not_ask_for_a_retry() {
    let groups = FakeGroups {
        run: Some(|| AwsError::permanent("ec2:RevokeSecurityGroupIngress", "UnauthorizedOperation: not allowed")),
        ..FakeGroups::default()
    };
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
    let groups = FakeGroups {
        run: Some(|| AwsError::Retryable {
            operation: "ec2:RevokeSecurityGroupIngress",
            message: "RequestLimitExceeded".into(),
            source: None,
        }),
        ..FakeGroups::default()
    };
    let (guard, outbox, _) = guard(groups, vec!["{}"]);

    let error = guard.handle(&ssh_opened(22), soon()).await.unwrap_err();

    assert!(error.to_string().contains("a retry may help"), "{error}");
    assert!(outbox.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_document_after_a_good_one_keeps_the_good_one_and_alerts_say_so() {
    let (guard, outbox, groups) = guard(
        FakeGroups::default(),
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
    assert!(groups.ran.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unreadable_payloads_are_ignored_with_their_reason() {
    let (guard, outbox, _) = guard(FakeGroups::default(), vec!["{}"]);
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
    let (guard, outbox, groups) = guard(FakeGroups::default(), vec!["{}"]);
    let public_endpoint = json!({"eventID": "e-eks", "eventSource": "eks.amazonaws.com", "eventName": "UpdateClusterConfig",
        "requestParameters": {"name": "prod", "resourcesVpcConfig": {"endpointPublicAccess": true, "endpointPrivateAccess": false}}});

    let report = guard.handle(&public_endpoint, soon()).await.unwrap();

    assert_eq!(report.ignored.as_deref(), Some("no rule listens to eks.amazonaws.com UpdateClusterConfig"));
    assert!(report.decisions.is_empty());
    assert!(groups.ran.lock().unwrap().is_empty());
    assert!(outbox.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn ports_that_are_not_integers_in_range_are_ignored_without_a_call_an_alert_or_a_retry() {
    let (guard, outbox, groups) = guard(FakeGroups::default(), vec!["{}"]);
    for (from, to) in [(json!("-22"), json!("-22")), (json!(1e308), json!(1e308))] {
        let mut event = ssh_opened(22);
        event["requestParameters"]["ipPermissions"]["items"][0]["fromPort"] = from;
        event["requestParameters"]["ipPermissions"]["items"][0]["toPort"] = to;

        let report = guard.handle(&event, soon()).await.expect("bad input is never retried");

        assert!(report.ignored.as_deref().unwrap().contains("is not a port 0-65535"), "{report:?}");
        assert!(report.decisions.is_empty());
    }
    assert!(groups.ran.lock().unwrap().is_empty());
    assert!(outbox.0.lock().unwrap().is_empty());
}

/// GIVEN one call that opens SSH and the kubelet to the world on one group, WHEN handled, THEN
/// both rules restore and one alert names both, with the rule ids in its attributes.
#[tokio::test]
async fn one_change_tripping_two_rules_on_one_group_sends_one_alert() {
    let (guard, outbox, groups) = guard(FakeGroups::default(), vec!["{}"]);
    let mut event = ssh_opened(22);
    let kubelet = json!({"ipProtocol": "tcp", "fromPort": 10250, "toPort": 10250, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}});
    event["requestParameters"]["ipPermissions"]["items"].as_array_mut().unwrap().push(kubelet);

    let report = guard.handle(&event, soon()).await.unwrap();

    let outcomes: Vec<(&str, &str)> = report.decisions.iter().map(|d| (d.rule.as_str(), d.outcome.as_str())).collect();
    assert_eq!(outcomes, [("sg-open-remote-admin", "remediated"), ("sg-open-kubelet", "remediated")]);
    assert_eq!(groups.ran.lock().unwrap().len(), 2);
    let alerts = outbox.0.lock().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let rules: Vec<&str> = alerts[0]["rules"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["sg-open-kubelet", "sg-open-remote-admin"], "most severe first");
    assert_eq!(alerts[0]["severity"], "critical");
    assert_eq!(alerts[0]["restored"].as_array().unwrap().len(), 2);
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
