//! The watchdog against moto's CloudTrail, EventBridge, Lambda, AWS Config, SSM, S3 and IAM:
//! records in the shapes of SHAPES.md §6.7–6.11 driven through the watchdog as deployed, the
//! resource read back afterwards. moto serves every call the adapter makes; a Lambda function
//! needs an IAM role there and a trail an S3 bucket, as in AWS.

use serde_json::{json, Value};
use snapback_tests::{deadline_in, envelope, World, REGION};

use snapback_rules::services::watchdog::{CLOUDTRAIL_SOURCE, CONFIG_SOURCE, EVENTS_SOURCE, LAMBDA_SOURCE, SSM_SOURCE};

/// (rule, outcome) of every decision, in the report's order.
fn outcomes(report: &snapback_pipeline::Report) -> Vec<(String, String)> {
    report.decisions.iter().map(|d| (d.rule.clone(), d.outcome.as_str().to_owned())).collect()
}

fn pair(rule: &str, outcome: &str) -> Vec<(String, String)> {
    vec![(rule.to_owned(), outcome.to_owned())]
}

/// A record of `source` by alice in the world's account, as EventBridge delivers it.
fn event(world: &World, source: &str, name: &str, request: Value) -> Value {
    envelope(&snapback_testkit::cloudtrail::record(source, name, &world.aws.account, request, Value::Null))
}

async fn watchdog(world: &World) -> snapback_pipeline::Guard {
    world.function_guard("watchdog", &world.aws, &[])
}

/// A trail `name` that logged (management events) and was stopped.
async fn stopped_trail(world: &World, name: &str) {
    world.logging_trail(name).await;
    world.aws.cloudtrail.stop_logging().name(name).send().await.unwrap();
}

async fn is_logging(world: &World, trail: &str) -> bool {
    world.aws.cloudtrail.get_trail_status().name(trail).send().await.unwrap().is_logging().unwrap()
}

#[tokio::test]
async fn a_stopped_trail_logs_again_and_the_alert_names_who_stopped_it() {
    let world = World::new().await;
    stopped_trail(&world, "org-trail").await;
    let arn = format!("arn:aws:cloudtrail:{REGION}:{}:trail/org-trail", world.aws.account);

    let report = watchdog(&world)
        .await
        .handle(&event(&world, CLOUDTRAIL_SOURCE, "StopLogging", json!({"name": arn})), deadline_in(30))
        .await
        .unwrap();

    assert_eq!(outcomes(&report), pair("trail-logging-stopped", "remediated"));
    assert!(is_logging(&world, "org-trail").await);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0].message;
    assert_eq!(alert["rules"][0]["rule"], "trail-logging-stopped");
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["actor"], format!("arn:aws:iam::{}:user/alice", world.aws.account));
    assert_eq!(alert["rules"][0]["restored"][0], "start logging on trail org-trail");
}

#[tokio::test]
async fn a_trusted_principal_stops_a_trail_unjudged() {
    let world = World::new().await;
    stopped_trail(&world, "maintenance-trail").await;
    world
        .put_config(
            &json!({"trusted_principals": [format!("arn:aws:iam::{}:user/alice", world.aws.account)]}).to_string(),
        )
        .await;

    let report = watchdog(&world)
        .await
        .handle(&event(&world, CLOUDTRAIL_SOURCE, "StopLogging", json!({"name": "maintenance-trail"})), deadline_in(30))
        .await
        .unwrap();

    assert!(report.decisions.is_empty(), "{report:?}");
    assert!(!is_logging(&world, "maintenance-trail").await, "an apply is never fought");
    assert!(world.alerts().await.is_empty());
}

async fn rule_state(world: &World, name: &str) -> String {
    world.aws.events.describe_rule().name(name).send().await.unwrap().state().unwrap().as_str().to_owned()
}

#[tokio::test]
async fn snapbacks_disabled_rule_is_enabled_again_and_another_teams_is_left_alone() {
    let world = World::new().await;
    for name in ["snapback-sg-guard-0", "team-nightly"] {
        let pattern = json!({"source": ["aws.ec2"]}).to_string();
        world.aws.events.put_rule().name(name).event_pattern(pattern).send().await.unwrap();
        world.aws.events.disable_rule().name(name).send().await.unwrap();
    }
    let guard = watchdog(&world).await;

    let ours = guard
        .handle(&event(&world, EVENTS_SOURCE, "DisableRule", json!({"name": "snapback-sg-guard-0"})), deadline_in(30))
        .await
        .unwrap();
    let theirs = guard
        .handle(&event(&world, EVENTS_SOURCE, "DisableRule", json!({"name": "team-nightly"})), deadline_in(30))
        .await
        .unwrap();

    assert_eq!(outcomes(&ours), pair("guard-rule-disabled", "remediated"));
    assert!(theirs.decisions.is_empty(), "{theirs:?}");
    assert_eq!(rule_state(&world, "snapback-sg-guard-0").await, "ENABLED");
    assert_eq!(rule_state(&world, "team-nightly").await, "DISABLED");
    assert_eq!(world.alerts().await.len(), 1);
}

/// A Lambda function `name` in the world's account (moto wants its role to exist).
async fn function(world: &World, name: &str) {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = world
        .aws
        .iam
        .create_role()
        .role_name(format!("{name}-role"))
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    // moto keeps the code without unpacking it.
    let code = aws_sdk_lambda::primitives::Blob::new(b"bootstrap".to_vec());
    world
        .aws
        .lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role.role().unwrap().arn())
        .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(code).build())
        .send()
        .await
        .unwrap();
}

async fn reserved(world: &World, name: &str) -> Option<i32> {
    world
        .aws
        .lambda
        .get_function_concurrency()
        .function_name(name)
        .send()
        .await
        .unwrap()
        .reserved_concurrent_executions()
}

fn zero_concurrency(world: &World, name: &str) -> Value {
    let arn = format!("arn:aws:lambda:{REGION}:{}:function:{name}", world.aws.account);
    event(
        world,
        LAMBDA_SOURCE,
        "PutFunctionConcurrency20171031",
        json!({"functionName": arn, "reservedConcurrentExecutions": 0}),
    )
}

#[tokio::test]
async fn a_zero_reservation_on_a_snapback_function_is_removed_but_a_reservation_made_since_is_kept() {
    let world = World::new().await;
    function(&world, "snapback-sg-guard").await;
    let put = |value: i32| {
        world
            .aws
            .lambda
            .put_function_concurrency()
            .function_name("snapback-sg-guard")
            .reserved_concurrent_executions(value)
            .send()
    };
    let guard = watchdog(&world).await;

    put(0).await.unwrap();
    let removed = guard.handle(&zero_concurrency(&world, "snapback-sg-guard"), deadline_in(30)).await.unwrap();
    assert_eq!(outcomes(&removed), pair("guard-function-tampered", "remediated"));
    assert_eq!(reserved(&world, "snapback-sg-guard").await, None);

    // Someone reserved 5 between the zero and the watchdog's turn: theirs stands.
    put(5).await.unwrap();
    let kept = guard.handle(&zero_concurrency(&world, "snapback-sg-guard"), deadline_in(30)).await.unwrap();
    assert_eq!(outcomes(&kept), pair("guard-function-tampered", "already-safe"));
    assert_eq!(reserved(&world, "snapback-sg-guard").await, Some(5));
}

#[tokio::test]
async fn a_stopped_config_recorder_records_again() {
    let world = World::new().await;
    let config = &world.aws.config;
    let recorder = aws_sdk_config::types::ConfigurationRecorder::builder()
        .name("default")
        .role_arn(format!("arn:aws:iam::{}:role/config", world.aws.account))
        .build();
    config.put_configuration_recorder().configuration_recorder(recorder).send().await.unwrap();
    world.aws.s3.create_bucket().bucket("config-history").send().await.unwrap();
    let channel =
        aws_sdk_config::types::DeliveryChannel::builder().name("default").s3_bucket_name("config-history").build();
    config.put_delivery_channel().delivery_channel(channel).send().await.unwrap();
    config.start_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();
    config.stop_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();

    let stopped =
        event(&world, CONFIG_SOURCE, "StopConfigurationRecorder", json!({"configurationRecorderName": "default"}));
    let report = watchdog(&world).await.handle(&stopped, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&report), pair("detector-disabled", "remediated"));
    let status = config.describe_configuration_recorder_status().send().await.unwrap();
    assert!(status.configuration_recorders_status()[0].recording());
}

const PARAMETER: &str = "/snapback-prod/config";

async fn write_config(world: &World, document: &str) {
    world
        .aws
        .ssm
        .put_parameter()
        .name(PARAMETER)
        .value(document)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap();
}

fn config_written(world: &World) -> Value {
    event(world, SSM_SOURCE, "PutParameter", json!({"name": PARAMETER, "type": "SecureString", "overwrite": true}))
}

#[tokio::test]
async fn a_configuration_write_that_turns_a_rule_off_is_alerted_with_the_diff_and_one_that_restores_it_is_not() {
    let world = World::new().await;
    write_config(&world, "{}").await;
    write_config(&world, &json!({"rules": {"sg-open-remote-admin": {"mode": "off"}}}).to_string()).await;
    let guard = watchdog(&world).await;

    let weakened = guard.handle(&config_written(&world), deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&weakened), pair("guard-config-weakened", "would-remediate"));
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    let changed = alerts[0].message["rules"][0]["changed"].to_string();
    assert!(changed.contains("rule sg-open-remote-admin: remediate → off"), "{changed}");

    write_config(&world, "{}").await;
    let restored = guard.handle(&config_written(&world), deadline_in(30)).await.unwrap();
    assert!(restored.decisions.is_empty(), "the history shows nothing weakened: {restored:?}");
    assert!(world.alerts().await.is_empty());
}

#[tokio::test]
async fn a_sweep_leaves_a_weakened_configuration_alone() {
    let world = World::new().await;
    write_config(&world, "{}").await;
    write_config(&world, &json!({"rules": {"instance-imdsv1": {"mode": "notify"}}}).to_string()).await;
    let watchdog = watchdog(&world).await;

    let report = watchdog.sweep(Some(&world.aws.account), Some(REGION), deadline_in(60)).await.unwrap();

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        report.decisions.iter().all(|d| d.rule != "guard-config-weakened"),
        "a document doing less than the defaults may be the deployment's choice: {:?}",
        report.decisions
    );
}

#[tokio::test]
async fn the_watchdogs_sweep_enables_its_own_rule_removes_a_zero_reservation_and_reports_an_unread_topic() {
    let world = World::new().await;
    // The watchdog's own rule, disabled: the event of that reaches no function.
    world
        .aws
        .events
        .put_rule()
        .name("snapback-watchdog-0")
        .event_pattern(json!({"source": ["aws.events"]}).to_string())
        .send()
        .await
        .unwrap();
    world.aws.events.disable_rule().name("snapback-watchdog-0").send().await.unwrap();
    function(&world, "snapback-node-guard").await;
    world
        .aws
        .lambda
        .put_function_concurrency()
        .function_name("snapback-node-guard")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();
    let unread = world.aws.sns.create_topic().name("snapback-alerts-unread").send().await.unwrap().topic_arn.unwrap();
    let watchdog = watchdog(&world).await;

    let report = watchdog.sweep(Some(&world.aws.account), Some(REGION), deadline_in(60)).await.unwrap();

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut found: Vec<(&str, &str, &str)> = report
        .decisions
        .iter()
        .filter(|d| d.rule.starts_with("guard-"))
        .map(|d| (d.rule.as_str(), d.resource.as_str(), d.outcome.as_str()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("guard-alerts-silenced", unread.as_str(), "would-remediate"),
            ("guard-function-tampered", "snapback-node-guard", "remediated"),
            ("guard-rule-disabled", "snapback-watchdog-0", "remediated"),
        ]
    );
    assert_eq!(rule_state(&world, "snapback-watchdog-0").await, "ENABLED");
    assert_eq!(reserved(&world, "snapback-node-guard").await, None);
    // The sweeper leaves snapback's own resources to the watchdog.
    let sweeper = world.function_guard("sweeper", &world.aws, &[]);
    let swept = sweeper.sweep(Some(&world.aws.account), Some(REGION), deadline_in(60)).await.unwrap();
    assert!(swept.decisions.iter().all(|d| !d.rule.starts_with("guard-")), "{:?}", swept.decisions);
}

/// (rule, resource, outcome) of the sweep's decisions of `rule`.
fn swept<'a>(report: &'a snapback_pipeline::SweepReport, rule: &str) -> Vec<(&'a str, &'a str)> {
    report.decisions.iter().filter(|d| d.rule == rule).map(|d| (d.resource.as_str(), d.outcome.as_str())).collect()
}

#[tokio::test]
async fn a_sweep_reports_a_region_no_trail_logs_then_starts_the_stopped_trail_that_would() {
    let world = World::new().await;
    let watchdog = watchdog(&world).await;

    let bare = watchdog.sweep(Some(&world.aws.account), Some(REGION), deadline_in(60)).await.unwrap();
    assert!(bare.errors.is_empty(), "{:?}", bare.errors);
    assert_eq!(swept(&bare, "trail-logging-stopped"), [(REGION, "would-remediate")]);
    let alerts = world.alerts().await;
    let blind = alerts.iter().find(|a| a.message["rules"][0]["rule"] == "trail-logging-stopped").unwrap();
    assert!(blind.message["rules"][0]["changed"][0].as_str().unwrap().contains("no trail logs"), "{:?}", blind.message);

    stopped_trail(&world, "org-trail").await;
    let stopped = watchdog.sweep(Some(&world.aws.account), Some(REGION), deadline_in(60)).await.unwrap();
    assert_eq!(swept(&stopped, "trail-logging-stopped"), [("org-trail", "remediated")]);
    assert!(is_logging(&world, "org-trail").await);

    let covered = watchdog.sweep(Some(&world.aws.account), Some(REGION), deadline_in(60)).await.unwrap();
    assert!(swept(&covered, "trail-logging-stopped").is_empty(), "{:?}", covered.decisions);
}

#[tokio::test]
async fn a_stopped_trail_is_left_alone_by_a_sweep_when_another_trail_logs_management_writes() {
    let world = World::new().await;
    stopped_trail(&world, "team-trail").await;
    stopped_trail(&world, "org-trail").await;
    world.aws.cloudtrail.start_logging().name("org-trail").send().await.unwrap();

    let report = watchdog(&world).await.sweep(Some(&world.aws.account), Some(REGION), deadline_in(60)).await.unwrap();

    assert!(swept(&report, "trail-logging-stopped").is_empty(), "{:?}", report.decisions);
    assert!(!is_logging(&world, "team-trail").await, "somebody else's stopped trail stays stopped");
}

#[tokio::test]
async fn heartbeats_reach_every_guard_through_its_rules_and_are_recorded_but_a_rule_without_target_stops_its_own() {
    use aws_sdk_eventbridge::types::Target;
    let world = World::new().await;
    let account = world.aws.account.clone();
    // Every guard's rules as the module deploys them, all delivering to one queue.
    let queue = world.aws.sqs.create_queue().queue_name("guards").send().await.unwrap().queue_url.unwrap();
    let queue_arn = format!("arn:aws:sqs:{REGION}:{account}:guards");
    let manifest = snapback_rules::manifest::manifest();
    let routes = snapback_rules::heartbeat::routes();
    for (function, route) in &routes {
        let pattern = &manifest["functions"][function]["event_patterns"][route];
        let rule = format!("snapback-{function}-{route}");
        world.aws.events.put_rule().name(&rule).event_pattern(pattern.to_string()).send().await.unwrap();
        let target = Target::builder().id("function").arn(&queue_arn).build().unwrap();
        world.aws.events.put_targets().rule(&rule).targets(target).send().await.unwrap();
    }
    // moto still delivers through a disabled rule (EventBridge does not); a removed target it honours.
    world.aws.events.remove_targets().rule("snapback-sg-guard-0").ids("function").send().await.unwrap();

    let sent = snapback_aws::HeartbeatSender::from_client(world.aws.events.clone()).send("snapback-").await.unwrap();
    assert_eq!(sent, routes.len(), "one a rule, on the only bus");

    let table = world.ledger_table().await;
    let mut recorded = Vec::new();
    loop {
        let received =
            world.aws.sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let mut delivered: Value = serde_json::from_str(message.body().unwrap()).unwrap();
            // moto's delivery to SQS leaves out the envelope's `account`, which EventBridge always sets.
            delivered["account"] = json!(account);
            let function = delivered["detail"]["function"].as_str().unwrap();
            let report =
                world.function_guard_with_ledger(function, &table).handle(&delivered, deadline_in(30)).await.unwrap();
            recorded.push(report.heartbeat.clone().unwrap_or_else(|| panic!("not recorded: {report:?} {delivered}")));
            world
                .aws
                .sqs
                .delete_message()
                .queue_url(&queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    recorded.sort();
    let mut expected: Vec<String> = routes
        .iter()
        .filter(|route| **route != ("sg-guard", 0))
        .map(|(function, route)| format!("{function}-{route} on default"))
        .collect();
    expected.sort();
    assert_eq!(recorded, expected, "every rule's heartbeat, but that of the rule without its target");

    let scope = snapback_aws::LedgerScope::new(Some(&account), Some(REGION));
    let mut seen: Vec<String> =
        world.ledger(&table).heartbeats(&scope).await.unwrap().into_iter().map(|beat| beat.route).collect();
    seen.sort();
    assert_eq!(seen.len(), routes.len() - 1);
    assert!(!seen.contains(&"sg-guard-0".to_owned()) && seen.contains(&"watchdog-0".to_owned()), "{seen:?}");
    assert!(world.alerts().await.is_empty(), "a heartbeat alerts nobody");
}

/// (pattern, [(target id, arn, retry attempts, max event age, dead-letter arn)]) of a rule.
async fn rule_as_deployed(world: &World, name: &str) -> (Value, Vec<(String, String, i32, i32, String)>) {
    let rule = world.aws.events.describe_rule().name(name).send().await.unwrap();
    let pattern: Value = serde_json::from_str(rule.event_pattern().unwrap()).unwrap();
    let targets = world.aws.events.list_targets_by_rule().rule(name).send().await.unwrap();
    let targets = targets
        .targets()
        .iter()
        .map(|target| {
            let retry = target.retry_policy().unwrap();
            (
                target.id().to_owned(),
                target.arn().to_owned(),
                retry.maximum_retry_attempts().unwrap(),
                retry.maximum_event_age_in_seconds().unwrap(),
                target.dead_letter_config().and_then(|d| d.arn()).unwrap_or_default().to_owned(),
            )
        })
        .collect();
    (pattern, targets)
}

#[tokio::test]
async fn a_deleted_snapback_rule_and_a_removed_target_are_put_back_as_the_module_deploys_them() {
    let world = World::new().await;
    let account = world.aws.account.clone();
    function(&world, "snapback-sg-guard").await;
    let function_arn = format!("arn:aws:lambda:{REGION}:{account}:function:snapback-sg-guard");
    let deployed = (
        snapback_rules::manifest::manifest()["functions"]["sg-guard"]["event_patterns"][0].clone(),
        vec![(
            "snapback".to_owned(),
            function_arn.clone(),
            185,
            3600,
            format!("arn:aws:sqs:{REGION}:{account}:snapback-dead-letters"),
        )],
    );
    let watchdog = watchdog(&world).await;

    let deleted = watchdog
        .handle(
            &event(&world, EVENTS_SOURCE, "DeleteRule", json!({"name": "snapback-sg-guard-0", "force": false})),
            deadline_in(30),
        )
        .await
        .unwrap();

    assert_eq!(outcomes(&deleted), pair("guard-rule-disabled", "remediated"));
    assert_eq!(rule_as_deployed(&world, "snapback-sg-guard-0").await, deployed);
    assert_eq!(rule_state(&world, "snapback-sg-guard-0").await, "ENABLED");

    world.aws.events.remove_targets().rule("snapback-sg-guard-0").ids("snapback").send().await.unwrap();
    let removed = watchdog
        .handle(
            &event(&world, EVENTS_SOURCE, "RemoveTargets", json!({"rule": "snapback-sg-guard-0", "ids": ["snapback"]})),
            deadline_in(30),
        )
        .await
        .unwrap();

    assert_eq!(outcomes(&removed), pair("guard-rule-disabled", "remediated"));
    assert_eq!(rule_as_deployed(&world, "snapback-sg-guard-0").await, deployed);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 2);
    assert_eq!(
        alerts[0].message["rules"][0]["restored"][0],
        "re-create EventBridge rule snapback-sg-guard-0 and its target as deployed"
    );
}
