//! The handler path with fakes behind the capability traits: the failure handling that moto
//! cannot be made to produce on demand (access denied on one call, throttling that outlasts the
//! SDK's retries, a config document that turns bad after a good one).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use snapback_aws::{
    AccessEntries, AlertPublisher, AwsError, ClusterFacts, ConfigSource, EksClusters, EndpointState, Executor,
    GroupFacts, RevokeOutcome, RuleFacts, SecurityGroups, UpdateOutcome,
};
use snapback_rules::finding::Permission;

use crate::config_cache::ConfigCache;
use crate::Guard;

#[derive(Default)]
struct FakeGroups {
    /// What every revoke answers: Ok(outcome) or an error made by `error`.
    revoke: Option<fn() -> AwsError>,
    revokes: Mutex<Vec<String>>,
}

impl SecurityGroups for FakeGroups {
    async fn describe_group(&self, group_id: &str) -> Result<Option<GroupFacts>, AwsError> {
        let tags = BTreeMap::from([("aws:eks:cluster-name".to_owned(), "prod".to_owned())]);
        Ok(Some(GroupFacts { group_id: group_id.to_owned(), vpc_id: None, tags }))
    }
    async fn describe_rules(&self, _group_id: &str, _ids: &[String]) -> Result<Vec<RuleFacts>, AwsError> {
        Ok(Vec::new())
    }
    async fn revoke_ingress_rules(&self, _group_id: &str, ids: &[String]) -> Result<RevokeOutcome, AwsError> {
        self.revokes.lock().unwrap().extend(ids.iter().cloned());
        match self.revoke {
            Some(error) => Err(error()),
            None => Ok(RevokeOutcome::Revoked),
        }
    }
    async fn revoke_ingress_permissions(&self, _group_id: &str, _p: &[Permission]) -> Result<RevokeOutcome, AwsError> {
        Ok(RevokeOutcome::Revoked)
    }
}

/// No EKS clusters: the security-group tests never reach them.
struct NoClusters;

impl EksClusters for NoClusters {
    async fn describe_cluster(&self, _name: &str) -> Result<Option<ClusterFacts>, AwsError> {
        Ok(None)
    }
    async fn update_endpoint_access(&self, _name: &str, _endpoint: &EndpointState) -> Result<UpdateOutcome, AwsError> {
        unreachable!("no cluster to update")
    }
    async fn enable_logging(&self, _name: &str, _types: &[String]) -> Result<UpdateOutcome, AwsError> {
        unreachable!("no cluster to update")
    }
    async fn associate_encryption_config(&self, _name: &str, _key_arn: &str) -> Result<UpdateOutcome, AwsError> {
        unreachable!("no cluster to update")
    }
    async fn cluster_using_group(&self, _group_id: &str) -> Result<Option<String>, AwsError> {
        Ok(None)
    }
}

impl AccessEntries for NoClusters {
    async fn principals_with_policies(&self, _cluster: &str, _policies: &[&str]) -> Result<Vec<String>, AwsError> {
        Ok(Vec::new())
    }
    async fn disassociate_access_policy(&self, _c: &str, _p: &str, _a: &str) -> Result<bool, AwsError> {
        unreachable!("no access entries")
    }
}

#[derive(Default)]
struct Outbox(Mutex<Vec<Value>>);

impl AlertPublisher for Outbox {
    async fn publish(&self, _subject: &str, message: &str, _attributes: &[(&str, &str)]) -> Result<(), AwsError> {
        // The machine form, as an SQS or Lambda subscriber receives it.
        let structure: Value = serde_json::from_str(message).unwrap();
        self.0.lock().unwrap().push(serde_json::from_str(structure["sqs"].as_str().unwrap()).unwrap());
        Ok(())
    }
}

/// Serves the documents in order, then the last one forever.
struct Documents(Mutex<Vec<&'static str>>);

impl ConfigSource for Documents {
    async fn fetch(&self) -> Result<String, AwsError> {
        let mut documents = self.0.lock().unwrap();
        let next = if documents.len() > 1 { documents.remove(0) } else { documents[0] };
        Ok(next.to_owned())
    }
    fn describe(&self) -> String {
        "test documents".into()
    }
}

fn guard(
    groups: FakeGroups,
    documents: Vec<&'static str>,
) -> Guard<FakeGroups, NoClusters, NoClusters, Outbox, Documents> {
    Guard {
        executor: Executor {
            groups,
            eks: NoClusters,
            access: NoClusters,
            busy: Default::default(),
            protected_principals: Vec::new(),
        },
        publisher: Outbox::default(),
        config: ConfigCache::new(Some(Documents(Mutex::new(documents))), Duration::ZERO),
        own_principals: Vec::new(),
    }
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
        revoke: Some(|| AwsError::permanent("ec2:RevokeSecurityGroupIngress", "UnauthorizedOperation: not allowed")),
        ..FakeGroups::default()
    };
    let guard = guard(groups, vec!["{}"]);

    let report = guard.handle(&ssh_opened(22), soon()).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "failed");
    let alerts = guard.publisher.0.lock().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["outcome"], "failed");
    assert!(alerts[0]["notes"][0].as_str().unwrap().contains("UnauthorizedOperation"), "{}", alerts[0]);
}

#[tokio::test]
async fn throttling_that_outlasts_the_sdk_retries_returns_a_retryable_error_without_an_alert() {
    let groups = FakeGroups {
        revoke: Some(|| AwsError::Retryable {
            operation: "ec2:RevokeSecurityGroupIngress",
            message: "RequestLimitExceeded".into(),
            source: None,
        }),
        ..FakeGroups::default()
    };
    let guard = guard(groups, vec!["{}"]);

    let error = guard.handle(&ssh_opened(22), soon()).await.unwrap_err();

    assert!(error.to_string().contains("a retry may help"), "{error}");
    assert!(guard.publisher.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_document_after_a_good_one_keeps_the_good_one_and_alerts_say_so() {
    let guard = guard(
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
    let alerts = guard.publisher.0.lock().unwrap();
    assert_eq!(alerts[0]["notes"], json!([]));
    let note = alerts[1]["notes"][0].as_str().unwrap();
    assert!(
        note.contains("rules.sg-open-remote-admin.mode") && note.contains("keeping the last good config"),
        "{note}"
    );
    assert!(guard.executor.groups.revokes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unreadable_payloads_are_ignored_with_their_reason() {
    let guard = guard(FakeGroups::default(), vec!["{}"]);
    for (payload, reason) in [
        (json!("text"), "expected a JSON object, got a string"),
        (json!({"detail-type": "EKS Fargate Pod Scheduled Termination", "detail": {}}), "is not a CloudTrail API call"),
        (json!({"eventSource": "ec2.amazonaws.com"}), "field `eventName` is missing"),
    ] {
        let report = guard.handle(&payload, soon()).await.unwrap();
        assert!(report.ignored.as_deref().unwrap().contains(reason), "{report:?}");
    }
    assert!(guard.publisher.0.lock().unwrap().is_empty());
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
