//! A central deployment in account A judging events from member accounts, against moto's server:
//! it assumes the member role with STS (moto maps the returned credentials to the role's
//! account) and acts there. A fault proxy in front of moto counts the AssumeRole calls and plays
//! a member role that does not exist (moto's AssumeRole never refuses).

use std::sync::Arc;

use serde_json::Value;
use snapback_aws::{Accounts, BuildAdapters};
use snapback_pipeline::Guard;
use snapback_tests::fault_proxy::{Fault, FaultProxy};
use snapback_tests::{
    authorize_record, deadline_in, envelope, fresh_account, moto_url, sdk_config_at, tcp_from, World, REGION,
};

const NODE_TAGS: &[(&str, &str)] = &[("aws:eks:cluster-name", "prod")];

/// sg-guard in `central`'s account, reaching members through `sts_endpoint` (moto, or a proxy).
async fn central_guard(central: &World, sts_endpoint: &str) -> Guard {
    central_function("sg-guard", central, sts_endpoint).await
}

/// `name` deployed in `central`'s account as a central deployment, reaching members through
/// `sts_endpoint`.
async fn central_function(name: &str, central: &World, sts_endpoint: &str) -> Guard {
    let function = snapback_rules::function(name).unwrap();
    let build: BuildAdapters = Arc::new(move |sdk| snapback_aws::adapters(function, sdk, &[]));
    let base = sdk_config_at(sts_endpoint).await;
    Guard {
        accounts: Some(Accounts::new(&central.aws.account, "aws", &base, build)),
        ..central.function_guard(name, &central.aws, &[])
    }
}

/// A member account with a VPC and an EKS node group's security group; returns its clients and
/// the group.
async fn member_with_group() -> (World, String) {
    let member = World::in_account(&fresh_account()).await;
    let group = member.group("prod-nodes", NODE_TAGS).await;
    (member, group)
}

/// Opens ssh to the world on `group` in `member` and returns the event for it.
async fn opened_ssh(member: &World, group: &str) -> Value {
    let opened = tcp_from(22, &["0.0.0.0/0"]);
    let created = member.authorize(group, opened.clone()).await;
    envelope(&authorize_record(&member.aws.account, group, &opened, &created))
}

#[tokio::test]
async fn an_event_from_a_member_is_restored_in_the_member_through_one_assumed_role() {
    let central = World::new().await;
    let (member, group) = member_with_group().await;
    // The same world-open rule in the central account, which the member's events must not touch.
    let central_group = central.group("prod-nodes", NODE_TAGS).await;
    central.authorize(&central_group, tcp_from(22, &["0.0.0.0/0"])).await;
    let sts = FaultProxy::start(&moto_url(), Fault::count("Action=AssumeRole", Some("POST")));
    let guard = central_guard(&central, &sts.url).await;

    let first = guard.handle(&opened_ssh(&member, &group).await, deadline_in(30)).await.unwrap();
    assert_eq!(first.decisions.len(), 1, "{first:?}");
    assert_eq!(first.decisions[0].outcome, "remediated");
    assert!(member.ingress(&group).await.is_empty(), "the member's world rule is revoked in the member");
    assert_eq!(central.ingress(&central_group).await.len(), 1, "the central account is untouched");

    // A second event for the same member: the credentials are reused.
    let second = guard.handle(&opened_ssh(&member, &group).await, deadline_in(30)).await.unwrap();
    assert_eq!(second.decisions[0].outcome, "remediated");
    assert!(member.ingress(&group).await.is_empty());
    assert_eq!(sts.matched(), 1, "one AssumeRole for two events of one member");

    // Alerts go to the central topic and name the member's account and region.
    let alerts = central.alerts().await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    for alert in &alerts {
        assert_eq!(alert.message["account"], member.aws.account.as_str());
        assert_eq!(alert.message["region"], REGION);
        assert_eq!(alert.message["outcome"], "remediated");
    }
}

#[tokio::test]
async fn the_central_accounts_own_events_need_no_role() {
    let central = World::new().await;
    let group = central.group("prod-nodes", NODE_TAGS).await;
    let sts = FaultProxy::start(&moto_url(), Fault::count("Action=AssumeRole", Some("POST")));
    let guard = central_guard(&central, &sts.url).await;

    let report = guard.handle(&opened_ssh(&central, &group).await, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "remediated");
    assert!(central.ingress(&group).await.is_empty());
    assert_eq!(sts.matched(), 0, "no AssumeRole in the central account");
}

#[tokio::test]
async fn an_event_from_another_region_is_restored_with_that_regions_clients() {
    const OTHER_REGION: &str = "eu-west-1";
    let central = World::new().await;
    let member = fresh_account();
    let sdk = snapback_aws::sdk_config_loader()
        .endpoint_url(moto_url())
        .region(aws_sdk_ec2::config::Region::new(OTHER_REGION))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await;
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(&sdk).interceptor(snapback_tests::MotoAccount(member.clone())).build(),
    );
    let vpc = ec2.create_vpc().cidr_block("10.1.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
    let tags = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
        .tags(aws_sdk_ec2::types::Tag::builder().key("aws:eks:cluster-name").value("prod").build())
        .build();
    let create = ec2.create_security_group().group_name("prod-nodes").description("snapback test").vpc_id(vpc);
    let group = create.tag_specifications(tags).send().await.unwrap().group_id.unwrap();
    let opened = tcp_from(22, &["0.0.0.0/0"]);
    let authorized = ec2.authorize_security_group_ingress().group_id(&group).ip_permissions(opened.clone());
    let created = authorized.send().await.unwrap().security_group_rules.unwrap_or_default();
    let mut record = authorize_record(&member, &group, &opened, &created);
    record["awsRegion"] = OTHER_REGION.into();
    let guard = central_guard(&central, &moto_url()).await;

    let report = guard.handle(&envelope(&record), deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions.len(), 1, "{report:?}");
    assert_eq!(report.decisions[0].outcome, "remediated", "{report:?}");
    let described = ec2.describe_security_groups().group_ids(&group).send().await.unwrap();
    assert!(described.security_groups()[0].ip_permissions().is_empty(), "revoked in {OTHER_REGION}");
    let alerts = central.alerts().await;
    assert_eq!(alerts[0].message["region"], OTHER_REGION);
    assert_eq!(alerts[0].message["account"], member.as_str());
}

#[tokio::test]
async fn a_member_role_that_cannot_be_assumed_gives_one_failed_alert_naming_the_role_and_the_fix() {
    let central = World::new().await;
    let (member, group) = member_with_group().await;
    let refused = Fault::sts_access_denied();
    let sts = FaultProxy::start(&moto_url(), refused);
    let guard = central_guard(&central, &sts.url).await;
    let event = opened_ssh(&member, &group).await;

    // A final verdict, not an error: retrying cannot make the role exist.
    let report = guard.handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions.len(), 1, "{report:?}");
    assert_eq!(report.decisions[0].outcome, "failed");
    assert_eq!(member.ingress(&group).await.len(), 1, "nothing changed in the member");
    let alerts = central.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0].message;
    assert_eq!(alert["outcome"], "failed");
    assert_eq!(alert["account"], member.aws.account.as_str());
    let text = alert.to_string();
    let role = format!("arn:aws:iam::{}:role/snapback-member", member.aws.account);
    assert!(text.contains(&role), "the alert names the role: {text}");
    assert!(text.contains("snapback-member module"), "the alert says the fix: {text}");
    assert_eq!(sts.failed(), 1, "one AssumeRole tried");
}

#[tokio::test]
async fn the_member_role_name_comes_from_the_configuration() {
    let central = World::new().await;
    let (member, group) = member_with_group().await;
    central.put_config(r#"{"member_role": "platform-guardrails"}"#).await;
    let sts = FaultProxy::start(&moto_url(), Fault::count("role%2Fplatform-guardrails", Some("POST")));
    let guard = central_guard(&central, &sts.url).await;

    let report = guard.handle(&opened_ssh(&member, &group).await, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "remediated", "{report:?}");
    assert_eq!(sts.matched(), 1, "the configured role was assumed");
}

#[tokio::test]
async fn an_accounts_override_holds_in_that_account_only() {
    let central = World::new().await;
    let (member, group) = member_with_group().await;
    let central_group = central.group("prod-nodes", NODE_TAGS).await;
    let overrides = format!(
        r#"{{"accounts": {{"{}": {{"rules": {{"sg-open-remote-admin": {{"mode": "notify"}}}}}}}}}}"#,
        member.aws.account
    );
    central.put_config(&overrides).await;
    let guard = central_guard(&central, &moto_url()).await;

    let in_member = guard.handle(&opened_ssh(&member, &group).await, deadline_in(30)).await.unwrap();
    let in_central = guard.handle(&opened_ssh(&central, &central_group).await, deadline_in(30)).await.unwrap();

    assert_eq!(in_member.decisions[0].outcome, "would-remediate", "{in_member:?}");
    assert_eq!(member.ingress(&group).await.len(), 1, "notify in the member: left open");
    assert_eq!(in_central.decisions[0].outcome, "remediated", "{in_central:?}");
    assert!(central.ingress(&central_group).await.is_empty());
}

/// An EC2 client of `account` in `region`, through moto's account header.
async fn ec2_in(account: &str, region: &str) -> aws_sdk_ec2::Client {
    let sdk = snapback_aws::sdk_config_loader()
        .endpoint_url(moto_url())
        .region(aws_sdk_ec2::config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await;
    aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(&sdk).interceptor(snapback_tests::MotoAccount(account.to_owned())).build(),
    )
}

/// A node group's security group in the account's default VPC of `region`, ssh open to the world.
async fn open_group_in(ec2: &aws_sdk_ec2::Client) -> String {
    let tags = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
        .tags(aws_sdk_ec2::types::Tag::builder().key("aws:eks:cluster-name").value("prod").build())
        .build();
    let create = ec2.create_security_group().group_name("prod-nodes").description("snapback test");
    let group = create.tag_specifications(tags).send().await.unwrap().group_id.unwrap();
    let authorize =
        ec2.authorize_security_group_ingress().group_id(&group).ip_permissions(tcp_from(22, &["0.0.0.0/0"]));
    authorize.send().await.unwrap();
    group
}

#[tokio::test]
async fn the_fanned_out_sweep_covers_three_members_in_two_regions_through_the_queue_with_one_assume_role_each() {
    const REGIONS: [&str; 2] = [REGION, "eu-west-1"];
    let central = World::new().await;
    let members: Vec<String> = (0..3).map(|_| fresh_account()).collect();
    let mut planted = Vec::new();
    for member in &members {
        for region in REGIONS {
            let ec2 = ec2_in(member, region).await;
            planted.push((member.clone(), region, open_group_in(&ec2).await, ec2));
        }
    }
    let queue_name = format!("snapback-sweeps-{}", central.aws.account);
    let queue = central.aws.sqs.create_queue().queue_name(&queue_name).send().await.unwrap().queue_url.unwrap();
    let settings = snapback_pipeline::FanOutSettings {
        queue_url: queue.clone(),
        accounts: members.clone(),
        organization: false,
        regions: REGIONS.iter().map(|region| (*region).to_owned()).collect(),
    };

    // The schedule's run: one message per member and region.
    assert_eq!(snapback_pipeline::fan_out(&central.aws.sqs, None, &settings).await.unwrap(), 6);

    // The workers' runs: the queue's messages, as Lambda's SQS event source hands them over.
    let mut records = Vec::new();
    while records.len() < 6 {
        let received =
            central.aws.sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
        let messages = received.messages.unwrap_or_default();
        assert!(!messages.is_empty(), "the queue holds six messages, got {}", records.len());
        records.extend(messages.into_iter().map(|message| {
            serde_json::json!({"messageId": message.message_id, "body": message.body, "eventSource": "aws:sqs"})
        }));
    }
    let sts = FaultProxy::start(&moto_url(), Fault::count("Action=AssumeRole", Some("POST")));
    let sweeper = central_function("sweeper", &central, &sts.url).await;
    // Two batches, as two workers would get them.
    let (first, second) = records.split_at(4);
    for batch in [first, second] {
        let payload = serde_json::json!({"Records": batch});
        let (answer, reports) = snapback_pipeline::sweep_messages(&sweeper, &payload, deadline_in(120)).await;
        assert_eq!(answer, serde_json::json!({"batchItemFailures": []}), "{reports:?}");
    }

    for (member, region, group, ec2) in &planted {
        let described = ec2.describe_security_groups().group_ids(group).send().await.unwrap();
        assert!(described.security_groups()[0].ip_permissions().is_empty(), "{member} {region}: revoked");
    }
    // Each member region also alerts on its account settings (moto's EBS default encryption is off).
    let alerts = central.alerts().await;
    let groups: Vec<&str> = planted.iter().map(|(_, _, group, _)| group.as_str()).collect();
    let mut alerted: Vec<(String, String)> = alerts
        .iter()
        .filter(|alert| groups.contains(&alert.message["resource"].as_str().unwrap_or_default()))
        .map(|alert| {
            (
                alert.message["account"].as_str().unwrap().to_owned(),
                alert.message["region"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    alerted.sort();
    let mut expected: Vec<(String, String)> =
        planted.iter().map(|(member, region, ..)| (member.clone(), (*region).to_owned())).collect();
    expected.sort();
    assert_eq!(alerted, expected, "one alert per planted group, naming its member and region");
    assert_eq!(sts.matched(), 3, "one AssumeRole per member, shared by its regions");
}

/// A queue batch naming `member` in the test region, then a body that names no account.
fn sweep_batch(member: &str) -> Value {
    serde_json::json!({"Records": [
        {"messageId": "m-1", "eventSource": "aws:sqs", "body": serde_json::json!({"account": member, "region": REGION}).to_string()},
        {"messageId": "m-2", "eventSource": "aws:sqs", "body": "{\"account\": 12}"},
    ]})
}

#[tokio::test]
async fn a_sweep_refused_its_member_role_alerts_once_with_the_fix_and_is_not_retried() {
    let central = World::new().await;
    let member = fresh_account();
    let sts = FaultProxy::start(&moto_url(), Fault::sts_access_denied());
    let sweeper = central_function("sweeper", &central, &sts.url).await;
    let payload = sweep_batch(&member);
    assert!(snapback_pipeline::is_queue_batch(&payload));

    let (answer, reports) = snapback_pipeline::sweep_messages(&sweeper, &payload, deadline_in(30)).await;

    assert_eq!(answer, serde_json::json!({"batchItemFailures": []}), "neither message goes back: {reports:?}");
    assert!(reports.is_empty());
    assert_eq!(sts.failed(), 1, "one AssumeRole tried");
    let alerts = central.alerts().await;
    assert_eq!(alerts.len(), 1, "one alert for the refused role, none for the bad body: {alerts:?}");
    let alert = &alerts[0].message;
    assert_eq!(alert["outcome"], "failed");
    assert_eq!(alert["rules"][0]["rule"], snapback_notify::SWEEP_FAILED);
    assert_eq!(alert["account"], member.as_str());
    assert_eq!(alert["region"], REGION);
    let text = alert.to_string();
    let role = format!("arn:aws:iam::{member}:role/snapback-member");
    assert!(text.contains(&role), "the alert names the role: {text}");
    assert!(text.contains("snapback-member module"), "the alert says the fix: {text}");
}

#[tokio::test]
async fn a_sweep_that_a_retry_can_fix_goes_back_to_the_queue_without_an_alert() {
    let central = World::new().await;
    let member = fresh_account();
    let sts = FaultProxy::start(&moto_url(), Fault::sts_throttling());
    let sweeper = central_function("sweeper", &central, &sts.url).await;

    let (answer, reports) = snapback_pipeline::sweep_messages(&sweeper, &sweep_batch(&member), deadline_in(30)).await;

    assert_eq!(answer, serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]}), "{reports:?}");
    assert!(sts.failed() >= 1, "AssumeRole was throttled");
    assert!(central.alerts().await.is_empty(), "a throttled sweep is retried, not alerted");
}

/// An EventBridge client of `account`, through moto's account header.
async fn events_in(account: &str) -> aws_sdk_eventbridge::Client {
    let sdk = snapback_tests::sdk_config().await;
    let header = snapback_tests::MotoAccount(account.to_owned());
    aws_sdk_eventbridge::Client::from_conf(aws_sdk_eventbridge::config::Builder::from(&sdk).interceptor(header).build())
}

/// The member module's forwarding and the central module's rules, as far as moto's EventBridge
/// goes: a member's default bus forwards the manifest's patterns to the central bus in another
/// account, whose rule hands the event to a queue; the central guard then restores in the member.
/// moto delivers across accounts, but its forwarded envelope has no `account` field (AWS keeps
/// the source account there); the guard reads the record's `recipientAccountId` first anyway. moto
/// does not check the bus policy or the forwarding role.
#[tokio::test]
async fn a_members_event_travels_the_forwarding_rule_to_the_central_bus_and_is_restored_in_the_member() {
    use aws_sdk_eventbridge::types::{PutEventsRequestEntry, Target};
    let central = World::new().await;
    let (member, group) = member_with_group().await;
    let (central_events, member_events) = (events_in(&central.aws.account).await, events_in(&member.aws.account).await);
    let bus = central_events.create_event_bus().name("snapback-central").send().await.unwrap().event_bus_arn.unwrap();
    let queue_name = format!("snapback-central-{}", central.aws.account);
    let queue = central.aws.sqs.create_queue().queue_name(&queue_name).send().await.unwrap().queue_url.unwrap();
    let queue_arn = format!("arn:aws:sqs:{REGION}:{}:{queue_name}", central.aws.account);
    let manifest = snapback_rules::manifest::manifest();
    for (index, pattern) in manifest["functions"]["sg-guard"]["event_patterns"].as_array().unwrap().iter().enumerate() {
        let pattern = pattern.to_string();
        let central_rule = format!("snapback-central-sg-guard-{index}");
        let put = central_events.put_rule().name(&central_rule).event_bus_name("snapback-central");
        put.event_pattern(&pattern).send().await.unwrap();
        let target = Target::builder().id("sg-guard").arn(&queue_arn).build().unwrap();
        let targets = central_events.put_targets().rule(&central_rule).event_bus_name("snapback-central");
        targets.targets(target).send().await.unwrap();
        let forward = format!("snapback-forward-sg-guard-{index}");
        member_events.put_rule().name(&forward).event_pattern(&pattern).send().await.unwrap();
        let role = format!("arn:aws:iam::{}:role/snapback-forward", member.aws.account);
        let target = Target::builder().id("central").arn(&bus).role_arn(role).build().unwrap();
        member_events.put_targets().rule(&forward).targets(target).send().await.unwrap();
    }
    let opened = tcp_from(22, &["0.0.0.0/0"]);
    let created = member.authorize(&group, opened.clone()).await;
    let record = authorize_record(&member.aws.account, &group, &opened, &created);
    // snapback's own member role makes the same call: the patterns drop it before the bus.
    let mut own = record.clone();
    own["userIdentity"] = serde_json::json!({"type": "AssumedRole",
        "arn": format!("arn:aws:sts::{}:assumed-role/snapback-member/snapback-x", member.aws.account),
        "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "snapback-member",
            "arn": format!("arn:aws:iam::{}:role/snapback-member", member.aws.account)}}});
    for detail in [&record, &own] {
        let entry = PutEventsRequestEntry::builder()
            .source("aws.ec2")
            .detail_type("AWS API Call via CloudTrail")
            .detail(detail.to_string())
            .build();
        let put = member_events.put_events().entries(entry).send().await.unwrap();
        assert_eq!(put.failed_entry_count, 0);
    }

    let mut delivered = Vec::new();
    for _ in 0..3 {
        let received =
            central.aws.sqs.receive_message().queue_url(&queue).max_number_of_messages(10).wait_time_seconds(1);
        delivered.extend(received.send().await.unwrap().messages.unwrap_or_default());
    }
    assert_eq!(delivered.len(), 1, "the member's call arrives once, snapback's own not at all");
    let envelope: Value = serde_json::from_str(delivered[0].body().unwrap()).unwrap();
    assert_eq!(envelope["detail"]["recipientAccountId"], member.aws.account.as_str());

    let report = central_guard(&central, &moto_url()).await.handle(&envelope, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions.len(), 1, "{report:?}");
    assert_eq!(report.decisions[0].outcome, "remediated");
    assert!(member.ingress(&group).await.is_empty(), "restored in the member");
}

/// An Organizations client of `account` (moto keeps one organization per management account).
async fn organizations_in(account: &str) -> aws_sdk_organizations::Client {
    let sdk = snapback_tests::sdk_config().await;
    let header = snapback_tests::MotoAccount(account.to_owned());
    aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::from(&sdk).interceptor(header).build(),
    )
}

/// A new account of the organization, moved into `unit` when given; returns its id.
async fn organization_account(organizations: &aws_sdk_organizations::Client, root: &str, unit: Option<&str>) -> String {
    let name = format!("workloads-{}", fresh_account());
    let created = organizations.create_account().account_name(&name).email(format!("{name}@example.com")).send().await;
    let account = created.unwrap().create_account_status.unwrap().account_id.expect("moto creates it at once");
    if let Some(unit) = unit {
        let moved =
            organizations.move_account().account_id(&account).source_parent_id(root).destination_parent_id(unit);
        moved.send().await.unwrap();
    }
    account
}

#[tokio::test]
async fn a_units_overrides_hold_for_its_accounts_events_and_the_sweeps_cover_the_organization() {
    let central = World::new().await;
    let organizations = organizations_in(&central.aws.account).await;
    organizations.create_organization().send().await.unwrap();
    let root = organizations.list_roots().send().await.unwrap().roots.unwrap()[0].id.clone().unwrap();
    let create_unit = organizations.create_organizational_unit().parent_id(&root).name("sandbox");
    let sandbox = create_unit.send().await.unwrap().organizational_unit.unwrap().id.unwrap();
    let in_sandbox = organization_account(&organizations, &root, Some(&sandbox)).await;
    let at_root = organization_account(&organizations, &root, None).await;
    let overrides = format!(
        r#"{{"organizational_units": {{"{sandbox}": {{"rules": {{"sg-open-remote-admin": {{"mode": "notify"}}}}}}}}}}"#
    );
    central.put_config(&overrides).await;
    let guard = Guard {
        organization: Some(snapback_aws::Organization::new(organizations.clone())),
        ..central_guard(&central, &moto_url()).await
    };

    let mut outcomes = Vec::new();
    for account in [&in_sandbox, &at_root] {
        let member = World::in_account(account).await;
        let group = member.group("prod-nodes", NODE_TAGS).await;
        let report = guard.handle(&opened_ssh(&member, &group).await, deadline_in(30)).await.unwrap();
        outcomes.push((report.decisions[0].outcome.as_str().to_owned(), member.ingress(&group).await.len()));
    }
    assert_eq!(outcomes[0], ("would-remediate".to_owned(), 1), "the sandbox unit says notify");
    assert_eq!(outcomes[1], ("remediated".to_owned(), 0), "an account at the root gets the document's mode");

    // The sweeps: every active account of the organization (the management account, and both).
    let queue_name = format!("snapback-org-sweeps-{}", central.aws.account);
    let queue = central.aws.sqs.create_queue().queue_name(&queue_name).send().await.unwrap().queue_url.unwrap();
    let settings = snapback_pipeline::FanOutSettings {
        queue_url: queue.clone(),
        accounts: Vec::new(),
        organization: true,
        regions: vec![REGION.to_owned()],
    };
    let queued = snapback_pipeline::fan_out(&central.aws.sqs, guard.organization.as_ref(), &settings).await.unwrap();
    assert_eq!(queued, 3);
    let received = central.aws.sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
    let mut swept: Vec<String> = received
        .messages
        .unwrap_or_default()
        .iter()
        .map(|message| {
            serde_json::from_str::<Value>(message.body().unwrap()).unwrap()["account"].as_str().unwrap().to_owned()
        })
        .collect();
    swept.sort();
    let mut expected = vec![central.aws.account.clone(), in_sandbox, at_root];
    expected.sort();
    assert_eq!(swept, expected);
}

#[tokio::test]
async fn the_places_kept_are_bounded_and_an_evicted_accounts_role_is_assumed_again() {
    let central = World::new().await;
    let sts = FaultProxy::start(&moto_url(), Fault::count("Action=AssumeRole", Some("POST")));
    let build: BuildAdapters = Arc::new(|_| Vec::new());
    let accounts = Accounts::new(&central.aws.account, "aws", &sdk_config_at(&sts.url).await, build);
    let members: Vec<String> = (0..=snapback_aws::MAX_PLACES_KEPT).map(|_| fresh_account()).collect();

    // The first member in two regions (one role, shared), then every other member once.
    for region in [REGION, "us-west-2"] {
        accounts.adapters(&members[0], region, "snapback-member", "e-0").await.unwrap();
    }
    assert_eq!(accounts.kept(), (2, 1));
    for member in &members[1..] {
        accounts.adapters(member, REGION, "snapback-member", "e-n").await.unwrap();
    }

    let (places, credentials) = accounts.kept();
    assert_eq!(places, snapback_aws::MAX_PLACES_KEPT, "no more places than the bound");
    assert_eq!(credentials, snapback_aws::MAX_PLACES_KEPT, "the first member's credentials left with its last place");
    assert_eq!(sts.matched(), members.len(), "one AssumeRole per member so far");
    accounts.adapters(&members[0], REGION, "snapback-member", "e-again").await.unwrap();
    assert_eq!(sts.matched(), members.len() + 1, "the evicted member's role is assumed again");
}

/// GIVEN a member role that keeps refusing, WHEN the sweep of that member runs again, THEN the
/// ledger keeps it quiet; WHEN a sweep goes through and the role refuses again, THEN it alerts again.
#[tokio::test]
async fn a_member_role_that_keeps_refusing_alerts_once_until_a_sweep_goes_through() {
    let central = World::new().await;
    let member = fresh_account();
    let table = central.ledger_table().await;
    let sts = FaultProxy::start(&moto_url(), Fault::sts_access_denied());
    let refused =
        Guard { ledger: Some(central.ledger(&table)), ..central_function("sweeper", &central, &sts.url).await };
    let through =
        Guard { ledger: Some(central.ledger(&table)), ..central_function("sweeper", &central, &moto_url()).await };
    let payload = sweep_batch(&member);

    snapback_pipeline::sweep_messages(&refused, &payload, deadline_in(30)).await;
    snapback_pipeline::sweep_messages(&refused, &payload, deadline_in(30)).await;
    assert_eq!(central.alerts().await.len(), 1, "the second failure, as the first, is quiet");

    let (_, reports) = snapback_pipeline::sweep_messages(&through, &payload, deadline_in(30)).await;
    assert_eq!(reports.len(), 1, "the sweep went through");
    let _ = central.alerts().await; // what the member's own sweep found
    snapback_pipeline::sweep_messages(&refused, &payload, deadline_in(30)).await;
    let again = central.alerts().await;
    assert_eq!(again.len(), 1, "refused again after a sweep went through: alerted again");
    assert_eq!(again[0].message["rules"][0]["rule"], snapback_notify::SWEEP_FAILED);
}
