//! The sweeper and the ledger against moto (EC2, EKS, SNS, SQS and DynamoDB are moto's): a sweep
//! restores what was dangerous before snapback ran and alerts once; the ledger keeps later sweeps
//! quiet, re-alerts what changed, resolves what went away, keeps an alert SNS refused until it
//! can be published, and lets one of two concurrent deliveries of an event act.

use snapback_aws::{EntryStatus, LedgerScope, SnsPublisher};
use snapback_pipeline::{Guard, DEADLINE_MARGIN};
use snapback_tests::{authorize_record, deadline_in, envelope, tcp_from, World, REGION};

/// Scope a sweep's findings and alerts name: the test's account, moto's region.
fn scope(world: &World) -> LedgerScope {
    LedgerScope::new(Some(&world.aws.account), Some(REGION))
}

async fn sweep(guard: &Guard, world: &World) -> snapback_pipeline::SweepReport {
    guard.sweep(Some(&world.aws.account), Some(REGION), deadline_in(60)).await.expect("the sweep succeeds")
}

const NOTIFY_SSH: &str = r#"{"rules": {"sg-open-remote-admin": {"mode": "notify"}}}"#;

/// A world with config `config`, SSH opened to the world on a cluster's group, the CloudTrail
/// event of that call, and a ledger table: (world, group, event, table).
async fn ssh_opened(config: &str) -> (World, String, serde_json::Value, String) {
    let world = World::new().await;
    world.put_config(config).await;
    let group = world.group("prod-nodes", &[("aws:eks:cluster-name", "prod")]).await;
    let opened = tcp_from(22, &["0.0.0.0/0"]);
    let created = world.authorize(&group, opened.clone()).await;
    let event = envelope(&authorize_record(&world.aws.account, &group, &opened, &created));
    let table = world.ledger_table().await;
    (world, group, event, table)
}

/// A publisher SNS refuses: its topic does not exist.
fn refusing_publisher(world: &World) -> Box<dyn snapback_aws::AlertPublisher> {
    let missing_topic = format!("arn:aws:sns:{REGION}:{}:no-such-topic", world.aws.account);
    Box::new(SnsPublisher::new(world.aws.sns.clone(), missing_topic))
}

/// (rule, outcome) of every alert's rules, sorted.
fn alerted(alerts: &[snapback_tests::Delivered]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = alerts
        .iter()
        .flat_map(|alert| alert.message["rules"].as_array().unwrap().iter())
        .map(|rule| (rule["rule"].as_str().unwrap().to_owned(), rule["outcome"].as_str().unwrap().to_owned()))
        .collect();
    all.sort();
    all
}

/// GIVEN a cluster made public and a world-open SSH rule on its nodes' group before snapback ran,
/// WHEN the sweeper runs with the default modes, THEN both are restored and alerted as found by
/// the sweep; AND a second sweep finds nothing to do and says nothing.
#[tokio::test]
async fn the_sweeper_restores_what_was_dangerous_before_it_ran_and_a_second_sweep_is_silent() {
    let world = World::new().await;
    world.put_config("{}").await;
    let every_log = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
    world.cluster("prod", true, false, &["0.0.0.0/0"], &every_log, &[]).await;
    let group = world.group("prod-nodes", &[("aws:eks:cluster-name", "prod")]).await;
    world.authorize(&group, tcp_from(22, &["0.0.0.0/0"])).await;
    let table = world.ledger_table().await;
    let sweeper = world.function_guard_with_ledger("sweeper", &table);

    let first = sweep(&sweeper, &world).await;

    assert!(first.complete && first.errors.is_empty(), "{first:?}");
    assert!(world.ingress(&group).await.is_empty(), "the world-open SSH rule is revoked");
    let (public, private, _, _) = world.cluster_state("prod").await;
    assert_eq!((public, private), (false, true), "the endpoint is private again");
    let alerts = world.alerts().await;
    assert!(alerts.iter().all(|alert| alert.message["event_name"] == "Sweep"), "found by the sweep");
    let remediated = alerted(&alerts);
    assert!(remediated.contains(&("sg-open-remote-admin".into(), "remediated".into())), "{remediated:?}");
    assert!(remediated.contains(&("eks-public-endpoint".into(), "remediated".into())), "{remediated:?}");

    let second = sweep(&sweeper, &world).await;

    let outcomes: Vec<&str> = second.decisions.iter().map(|decision| decision.outcome.as_str()).collect();
    assert!(outcomes.iter().all(|outcome| ["would-remediate"].contains(outcome)), "{second:?}");
    assert!(world.alerts().await.is_empty(), "nothing new: no alert");
}

/// GIVEN world-open SSH on a group of no cluster and on a cluster's group tagged exempt, WHEN
/// swept twice, THEN the first is out of scope (untouched, no alert), the second is left alone
/// and alerted as exempt once.
#[tokio::test]
async fn the_sweeper_honours_scope_and_exemptions_and_alerts_an_exemption_once() {
    let world = World::new().await;
    world.put_config("{}").await;
    let stray = world.group("stray", &[]).await;
    world.authorize(&stray, tcp_from(22, &["0.0.0.0/0"])).await;
    let exempt = world.group("bastion", &[("aws:eks:cluster-name", "prod"), ("snapback:exempt", "all")]).await;
    world.authorize(&exempt, tcp_from(22, &["0.0.0.0/0"])).await;
    let table = world.ledger_table().await;
    let sweeper = world.function_guard_with_ledger("sweeper", &table);

    sweep(&sweeper, &world).await;
    sweep(&sweeper, &world).await;

    assert_eq!(world.ingress(&stray).await.len(), 1, "out of scope: untouched");
    assert_eq!(world.ingress(&exempt).await.len(), 1, "exempt: untouched");
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "one alert over two sweeps");
    assert_eq!(alerts[0].message["resource"], exempt.as_str());
    assert_eq!(alerted(&alerts), [("sg-open-remote-admin".to_owned(), "exempt".to_owned())]);
}

/// GIVEN a notify-mode finding the sweeper alerted, WHEN it sweeps again unchanged, THEN it is
/// quiet; WHEN the group gains a second world-open port, THEN it alerts at once; WHEN the rules
/// are removed, THEN the next sweep marks the finding resolved and (alert_on_resolved) says so.
#[tokio::test]
async fn a_changed_finding_re_alerts_and_a_removed_one_is_resolved() {
    let world = World::new().await;
    world.put_config(r#"{"rules": {"sg-open-remote-admin": {"mode": "notify"}}, "alert_on_resolved": true}"#).await;
    let group = world.group("prod-nodes", &[("aws:eks:cluster-name", "prod")]).await;
    let ssh = world.authorize(&group, tcp_from(22, &["0.0.0.0/0"])).await;
    let table = world.ledger_table().await;
    let sweeper = world.function_guard_with_ledger("sweeper", &table);
    let ledger = world.ledger(&table);

    sweep(&sweeper, &world).await;
    assert_eq!(alerted(&world.alerts().await), [("sg-open-remote-admin".into(), "would-remediate".into())]);
    sweep(&sweeper, &world).await;
    assert!(world.alerts().await.is_empty(), "unchanged: quiet");

    let rdp = world.authorize(&group, tcp_from(3389, &["0.0.0.0/0"])).await;
    sweep(&sweeper, &world).await;
    let changed = world.alerts().await;
    assert_eq!(changed.len(), 1, "changed: alerted at once");
    assert_eq!(changed[0].message["rules"][0]["changed"].as_array().unwrap().len(), 2, "{}", changed[0].message);

    let rule_ids: Vec<String> =
        ssh.iter().chain(&rdp).map(|rule| rule.security_group_rule_id.clone().unwrap()).collect();
    world
        .aws
        .ec2
        .revoke_security_group_ingress()
        .group_id(&group)
        .set_security_group_rule_ids(Some(rule_ids))
        .send()
        .await
        .unwrap();
    let report = sweep(&sweeper, &world).await;

    assert_eq!(report.resolved, [format!("sg-open-remote-admin {group}")]);
    let resolved = world.alerts().await;
    assert_eq!(alerted(&resolved), [("sg-open-remote-admin".into(), "resolved".into())]);
    let entry = ledger.entry(&scope(&world), "sg-open-remote-admin", &group).await.unwrap().unwrap();
    assert_eq!(entry.status, EntryStatus::Resolved);
    sweep(&sweeper, &world).await;
    assert!(world.alerts().await.is_empty(), "resolved once");
}

/// GIVEN an event the guard alerted in notify mode, WHEN the sweeper then finds the same state,
/// THEN it says nothing: the ledger knows the alert went out.
#[tokio::test]
async fn what_an_event_already_alerted_is_not_alerted_again_by_the_sweep() {
    let (world, _, event, table) = ssh_opened(NOTIFY_SSH).await;

    let report = world.function_guard_with_ledger("sg-guard", &table).handle(&event, deadline_in(30)).await.unwrap();
    assert_eq!(report.decisions[0].outcome, "would-remediate");
    assert_eq!(world.alerts().await.len(), 1);

    sweep(&world.function_guard_with_ledger("sweeper", &table), &world).await;

    assert!(world.alerts().await.is_empty(), "the sweep knows the event's alert");
}

/// GIVEN SNS refusing the alert after a restore, WHEN the guard handles the event, THEN the group
/// is restored, the invocation asks for a retry, and the alert is kept; WHEN Lambda retries with
/// SNS back, THEN the kept alert is published, once.
#[tokio::test]
async fn an_alert_sns_refused_after_a_restore_is_published_by_the_retry() {
    let (world, group, event, table) = ssh_opened("{}").await;
    let failing =
        Guard { publisher: refusing_publisher(&world), ..world.function_guard_with_ledger("sg-guard", &table) };

    let first = failing.handle(&event, deadline_in(30)).await;

    assert!(first.is_err(), "a retry is asked for: {first:?}");
    assert!(world.ingress(&group).await.is_empty(), "restored all the same");
    assert!(world.alerts().await.is_empty());

    let retry = world.function_guard_with_ledger("sg-guard", &table).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(retry.decisions[0].outcome, "already-safe");
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "the kept alert, once");
    assert_eq!(alerts[0].message["outcome"], "remediated");
    assert_eq!(alerts[0].message["resource"], group.as_str());
}

/// GIVEN SNS refusing a sweep's alert, WHEN the next sweep runs with SNS back, THEN the kept alert
/// is published first.
#[tokio::test]
async fn an_alert_kept_by_a_sweep_is_published_by_the_next_sweep() {
    let (world, group, _, table) = ssh_opened("{}").await;
    let failing =
        Guard { publisher: refusing_publisher(&world), ..world.function_guard_with_ledger("sweeper", &table) };

    let first = failing.sweep(Some(&world.aws.account), Some(REGION), deadline_in(60)).await;
    assert!(first.is_ok(), "a kept alert is not a failure of the sweep: {first:?}");
    assert!(world.ingress(&group).await.is_empty());

    let next = sweep(&world.function_guard_with_ledger("sweeper", &table), &world).await;

    assert_eq!(next.pending_published, 1);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message["outcome"], "remediated");
}

/// GIVEN two deliveries of one notify-mode event at the same moment, WHEN both are handled
/// concurrently, THEN exactly one acts and alerts; the other is a recognised duplicate.
#[tokio::test]
async fn two_concurrent_deliveries_of_one_event_give_one_alert() {
    let (world, _, event, table) = ssh_opened(NOTIFY_SSH).await;
    let (one, two) =
        (world.function_guard_with_ledger("sg-guard", &table), world.function_guard_with_ledger("sg-guard", &table));

    let (a, b) = tokio::join!(one.handle(&event, deadline_in(30)), two.handle(&event, deadline_in(30)));

    let reports = [a.unwrap(), b.unwrap()];
    let duplicates =
        reports.iter().filter(|report| report.ignored.as_deref().is_some_and(|why| why.contains("duplicate")));
    assert_eq!(duplicates.count(), 1, "{reports:?}");
    assert_eq!(world.alerts().await.len(), 1);
}

/// GIVEN a sweep with no time left, WHEN it runs, THEN it judges nothing and leaves a cursor;
/// WHEN the next run has time, THEN it goes on from the cursor and finishes the sweep.
#[tokio::test]
async fn a_sweep_out_of_time_leaves_a_cursor_and_the_next_run_finishes() {
    let (world, group, _, table) = ssh_opened("{}").await;
    let sweeper = world.function_guard_with_ledger("sweeper", &table);
    let ledger = world.ledger(&table);
    let too_soon = std::time::Instant::now() + DEADLINE_MARGIN / 2;

    let short = sweeper.sweep(Some(&world.aws.account), Some(REGION), too_soon).await.unwrap();

    assert!(!short.complete);
    assert_eq!(short.resources, 0);
    let cursor = ledger.cursor(&scope(&world)).await.unwrap().expect("a cursor is left");
    assert_eq!(world.ingress(&group).await.len(), 1, "nothing done yet");

    let rest = sweep(&sweeper, &world).await;

    assert!(rest.complete);
    assert!(world.ingress(&group).await.is_empty());
    assert!(ledger.cursor(&scope(&world)).await.unwrap().is_none(), "the finished sweep clears its cursor");
    assert!(cursor.started_at > 0);
}

/// GIVEN the document's scope `eks` and an override giving this account scope `all`, WHEN the
/// sweeper sweeps the account, THEN a world-open group of no cluster is found and restored there:
/// the account's configuration decides what the sweep lists, not only how it judges.
#[tokio::test]
async fn an_accounts_scope_override_decides_what_its_sweep_lists() {
    let world = World::new().await;
    world
        .put_config(&format!(r#"{{"scope": "eks", "accounts": {{"{}": {{"scope": "all"}}}}}}"#, world.aws.account))
        .await;
    let orphan = world.group("bastion", &[]).await;
    world.authorize(&orphan, tcp_from(22, &["0.0.0.0/0"])).await;

    let report = sweep(&world.function_guard("sweeper", &world.aws, &[]), &world).await;

    assert!(
        report
            .decisions
            .iter()
            .any(|decision| decision.resource == orphan && decision.outcome.as_str() == "remediated"),
        "{report:?}"
    );
    assert!(world.ingress(&orphan).await.is_empty());
}

/// A publisher that never answers: the attempt stops there, as one killed after its restore.
struct HangingPublisher;

impl snapback_aws::AlertPublisher for HangingPublisher {
    fn publish<'a>(
        &'a self,
        _alert: &'a snapback_notify::Alert,
    ) -> snapback_aws::BoxFuture<'a, Result<(), snapback_aws::AwsError>> {
        Box::pin(std::future::pending())
    }
}

/// The event's claim in the ledger, with its lease run out (as time would).
async fn expire_lease(world: &World, table: &str, event_id: &str) {
    use aws_sdk_dynamodb::types::AttributeValue;
    world
        .aws
        .dynamodb
        .update_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("{}#{REGION}", world.aws.account)))
        .key("sk", AttributeValue::S(format!("event#{event_id}")))
        .update_expression("SET lease_until = :past")
        .expression_attribute_values(":past", AttributeValue::N("0".into()))
        .send()
        .await
        .unwrap();
}

/// GIVEN an attempt that restored the group and died before its alert, WHEN Lambda's retry
/// comes while the dead attempt's lease still holds, THEN it changes nothing and asks to be
/// retried; WHEN the retry comes after the lease, THEN it alerts "remediated" once, its restore
/// finding nothing left to do.
#[tokio::test]
async fn a_retry_after_an_attempt_died_between_restore_and_alert_alerts_once_with_nothing_left_to_restore() {
    use snapback_tests::fault_proxy::{Fault, FaultProxy};
    let (world, group, event, table) = ssh_opened("{}").await;
    let proxy = FaultProxy::start(&snapback_tests::moto_url(), Fault::count("Action=RevokeSecurityGroupIngress", None));
    let counted = snapback_tests::Clients::for_account_at(&world.aws.account, &proxy.url).await;
    let guard = |publisher: Box<dyn snapback_aws::AlertPublisher>| Guard {
        publisher,
        ledger: Some(world.ledger(&table)),
        ..world.guard_with(&counted, &[])
    };

    let died = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        guard(Box::new(HangingPublisher)).handle(&event, deadline_in(30)),
    )
    .await;
    assert!(died.is_err(), "the attempt never got past its alert");
    assert!(world.ingress(&group).await.is_empty(), "it restored first");
    assert_eq!(proxy.matched(), 1);

    let early = guard(Box::new(SnsPublisher::new(world.aws.sns.clone(), &world.topic_arn)))
        .handle(&event, deadline_in(4))
        .await;
    let error = early.expect_err("held by the dead attempt: a retry is asked for");
    assert!(error.to_string().contains("another delivery holds"), "{error}");
    assert!(world.alerts().await.is_empty());

    let event_id = event["detail"]["eventID"].as_str().unwrap();
    expire_lease(&world, &table, event_id).await;
    let retry = guard(Box::new(SnsPublisher::new(world.aws.sns.clone(), &world.topic_arn)))
        .handle(&event, deadline_in(30))
        .await
        .unwrap();

    assert_eq!(retry.decisions[0].outcome, "remediated", "{retry:?}");
    assert!(retry.decisions[0].detail.as_deref().unwrap().contains("earlier attempt"), "{retry:?}");
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "one alert");
    assert_eq!(alerts[0].message["outcome"], "remediated");
    // Revoking by rule id is idempotent: the retry's call found nothing left to revoke, which is
    // how it knew the restore was the dead attempt's.
    assert_eq!(proxy.matched(), 2, "one revoke that restored, one that found the rule gone");
    assert!(world.ingress(&group).await.is_empty());

    let again = world.function_guard_with_ledger("sg-guard", &table).handle(&event, deadline_in(30)).await.unwrap();
    assert!(again.ignored.as_deref().is_some_and(|why| why.contains("duplicate")), "{again:?}");
    assert!(world.alerts().await.is_empty());
}
