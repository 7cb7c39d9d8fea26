//! Hostile inputs through every function that takes CloudTrail events: payloads that are not
//! events, envelopes without a record, and records of every event a function listens to with
//! parameters of the wrong type (refused with a logged reason), deeply nested or huge (judged:
//! nothing in them opens anything). None panics, decides, alerts or makes one AWS call (a proxy
//! in front of moto counts every request; the configuration is the built-in one, so reading it
//! calls nothing).

use serde_json::{json, Value};
use snapback_aws::SnsPublisher;
use snapback_pipeline::{ConfigCache, Guard};
use snapback_rules::registry::{functions, Trigger};
use snapback_tests::fault_proxy::{Fault, FaultProxy};
use snapback_tests::{deadline_in, envelope, moto_url, Clients, World};

/// `depth` arrays inside each other around a string.
fn nested(depth: usize) -> Value {
    (0..depth).fold(json!("deep"), |inner, _| json!([inner]))
}

/// Payloads that are no CloudTrail event at all.
fn not_events() -> Vec<(String, Value)> {
    vec![
        ("null".into(), Value::Null),
        ("a number".into(), json!(42)),
        ("a string".into(), json!("AuthorizeSecurityGroupIngress")),
        ("an empty object".into(), json!({})),
        ("an array".into(), json!([{"eventName": "StopLogging"}])),
        (
            "an envelope whose detail is text".into(),
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": "{}"}),
        ),
        (
            "an envelope without detail".into(),
            json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2"}),
        ),
        (
            "a record without eventSource".into(),
            json!({"eventName": "StopLogging", "requestParameters": {"name": "t"}}),
        ),
        (
            "a record with a numeric eventName".into(),
            json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": 7}),
        ),
    ]
}

/// Records of `source` `name` whose parameters are of the wrong type: refused whole.
fn unreadable_records(account: &str, source: &str, name: &str) -> Vec<(String, Value)> {
    let record = |request: Value| snapback_testkit::cloudtrail::record(source, name, account, request, Value::Null);
    vec![
        (format!("{name} with parameters that are a number"), record(json!(42))),
        (format!("{name} with parameters that are text"), record(json!("groupId=sg-1"))),
        (format!("{name} with parameters that are a list"), record(json!([{"name": "snapback-x"}]))),
    ]
}

/// Records of `source` `name` with nothing a parser reads, deeply nested or huge: no finding.
/// None for a call that is a finding whatever it carries (DisableEbsEncryptionByDefault takes no
/// parameters: any record of it is the change).
fn odd_records(account: &str, source: &str, name: &str) -> Vec<(String, Value)> {
    let record = |request: Value| snapback_testkit::cloudtrail::record(source, name, account, request, Value::Null);
    let bare = snapback_rules::Event::from_value(&record(json!({}))).unwrap();
    if !snapback_rules::evaluate(&bare, &snapback_rules::Config::default()).is_empty() {
        return Vec::new();
    }
    vec![
        (format!("{name} with parameters nested 100 deep"), record(json!({"deep": nested(100)}))),
        (format!("{name} with 3 MB of parameters"), record(json!({"padding": "x".repeat(3 * 1024 * 1024)}))),
    ]
}

fn guard(function: &'static snapback_rules::Function, world: &World, aws: &Clients) -> Guard {
    Guard {
        function,
        adapters: function.slices().into_iter().map(|service| aws.adapter(service.name(), &[])).collect(),
        accounts: None,
        organization: None,
        publisher: Box::new(SnsPublisher::new(aws.sns.clone(), &world.topic_arn)),
        config: ConfigCache::new(None, std::time::Duration::from_secs(60)),
        own_principals: Vec::new(),
        ledger: None,
    }
}

#[tokio::test]
async fn hostile_inputs_end_in_a_logged_reason_with_no_aws_call_in_every_function() {
    let world = World::new().await;
    let calls = FaultProxy::start(&moto_url(), Fault::count("", None));
    let aws = Clients::for_account_at(&world.aws.account, &calls.url).await;
    let mut checked = 0;
    for function in functions().iter().filter(|function| function.trigger == Trigger::Cloudtrail) {
        let guard = guard(function, &world, &aws);
        let (mut refused, mut odd) = (not_events(), Vec::new());
        for meta in function.rules() {
            for key in meta.events {
                refused.extend(unreadable_records(&world.aws.account, key.source, key.name));
                odd.extend(odd_records(&world.aws.account, key.source, key.name));
            }
        }
        let payloads = refused.into_iter().map(|case| (case, true)).chain(odd.into_iter().map(|case| (case, false)));
        for ((what, record), must_be_refused) in payloads {
            for payload in [envelope(&record), record.clone()] {
                let report = guard
                    .handle(&payload, deadline_in(30))
                    .await
                    .unwrap_or_else(|error| panic!("{}: {what}: an error ({error}), not a reason", function.name));
                assert!(report.decisions.is_empty(), "{}: {what}: {report:?}", function.name);
                if must_be_refused {
                    assert!(report.ignored.is_some(), "{}: {what}: no reason given: {report:?}", function.name);
                }
                checked += 1;
            }
        }
    }
    assert_eq!(calls.matched(), 0, "hostile inputs made AWS calls");
    assert!(world.alerts().await.is_empty());
    assert!(checked > 300, "only {checked} payloads");
}
