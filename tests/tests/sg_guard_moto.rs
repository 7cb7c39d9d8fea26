//! The security-group guard against moto's server: real EC2, SNS, SQS, SSM and EKS wire calls.
//! Each test has its own moto account, so they run in parallel on one server.

use serde_json::{json, Value};
use snapback_tests::fault_proxy::{Fault, FaultProxy};
use snapback_tests::{
    authorize_record, deadline_in, envelope, moto_url, published_to, record, subscribe_queue, tcp_from, Clients, World,
};

fn rule(port: i32, cidr: &str) -> (String, i32, i32, String) {
    ("tcp".into(), port, port, cidr.into())
}

const NODE_TAGS: &[(&str, &str)] = &[("aws:eks:cluster-name", "prod"), ("Name", "prod-nodes")];

/// GIVEN an EKS node group with ssh open to `world` and to 10.0.0.0/8, WHEN the event for the
/// world rule (with the rule id AWS gave it) is handled, THEN only that rule is gone and one
/// alert carries who, what and what was restored.
async fn world_ssh_is_reverted(world_cidr: &str) {
    let world = World::new().await;
    let group = world.group("prod-nodes", NODE_TAGS).await;
    let opened = tcp_from(22, &[world_cidr]);
    let created = world.authorize(&group, opened.clone()).await;
    world.authorize(&group, tcp_from(22, &["10.0.0.0/8"])).await;
    let event = authorize_record(&world.aws.account, &group, &opened, &created);

    let report = world.guard(&[]).handle(&envelope(&event), deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions.len(), 1, "{report:?}");
    assert_eq!(report.decisions[0].outcome, "remediated");
    assert_eq!(world.ingress(&group).await, vec![rule(22, "10.0.0.0/8")]);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0].message;
    let rule_id = created[0].security_group_rule_id().unwrap();
    assert_eq!(alert["version"], "1.0");
    assert_eq!(alert["source"], "custom");
    assert_eq!(alert["rule"], "sg-open-remote-admin");
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["outcome"], "remediated");
    assert_eq!(alert["resource"], group.as_str());
    assert_eq!(alert["cluster"], "prod");
    assert_eq!(alert["account"], world.aws.account.as_str());
    assert_eq!(alert["region"], "us-east-1");
    assert_eq!(alert["actor"], format!("arn:aws:iam::{}:user/alice", world.aws.account));
    assert_eq!(alert["source_ip"], "198.51.100.7");
    assert!(alert["user_agent"].as_str().unwrap().starts_with("aws-cli/"));
    assert_eq!(alert["event_id"], event["eventID"]);
    assert_eq!(alert["event_time"], "2026-11-27T10:00:00Z");
    assert_eq!(alert["changed"], json!([format!("tcp 22 from {world_cidr} ({rule_id})")]));
    assert_eq!(alert["restored"], json!([format!("revoke ingress rule {rule_id} on {group}")]));
    assert_eq!(alerts[0].attributes["rule"], r#"["sg-open-remote-admin"]"#);
    assert_eq!(alerts[0].attributes["severity"], "high");
    assert_eq!(alerts[0].attributes["outcome"], r#"["remediated"]"#);
}

#[tokio::test]
async fn world_open_ipv4_ssh_is_revoked_and_the_private_rule_stays() {
    world_ssh_is_reverted("0.0.0.0/0").await;
}

#[tokio::test]
async fn world_open_ipv6_ssh_is_revoked_and_the_private_rule_stays() {
    world_ssh_is_reverted("::/0").await;
}

#[tokio::test]
async fn legacy_flat_form_without_rule_ids_is_revoked_by_the_exact_permission() {
    let world = World::new().await;
    let group = world.group("prod-nodes", NODE_TAGS).await;
    world
        .aws
        .ec2
        .authorize_security_group_ingress()
        .group_id(&group)
        .ip_protocol("tcp")
        .from_port(3389)
        .to_port(3389)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    world.authorize(&group, tcp_from(3389, &["10.0.0.0/8"])).await;
    // A 2020-era record: flat request, `ipPermissions: {}`, no securityGroupRuleSet.
    let event = record(
        &world.aws.account,
        "AuthorizeSecurityGroupIngress",
        json!({"groupId": group, "ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "cidrIp": "0.0.0.0/0", "ipPermissions": {}}),
        json!({"requestId": "r", "_return": true}),
    );

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "remediated", "{report:?}");
    assert_eq!(world.ingress(&group).await, vec![rule(3389, "10.0.0.0/8")]);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message["restored"], json!([format!("revoke ingress tcp 3389 from 0.0.0.0/0 on {group}")]));
}

/// Opens tcp/22 to the world on a group with `tags` and returns the world, group and event.
async fn ssh_opened(tags: &[(&str, &str)], config: Option<&str>) -> (World, String, Value) {
    let world = World::new().await;
    if let Some(document) = config {
        world.put_config(document).await;
    }
    let group = world.group("nodes", tags).await;
    let opened = tcp_from(22, &["0.0.0.0/0"]);
    let created = world.authorize(&group, opened.clone()).await;
    let event = authorize_record(&world.aws.account, &group, &opened, &created);
    (world, group, event)
}

#[tokio::test]
async fn notify_mode_leaves_the_rule_and_alerts_would_remediate() {
    let (world, group, event) =
        ssh_opened(NODE_TAGS, Some(r#"{"rules": {"sg-open-remote-admin": {"mode": "notify"}}}"#)).await;

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "would-remediate");
    assert_eq!(world.ingress(&group).await, vec![rule(22, "0.0.0.0/0")]);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message["outcome"], "would-remediate");
    assert_eq!(alerts[0].attributes["outcome"], r#"["would-remediate"]"#);
}

#[tokio::test]
async fn a_rule_turned_off_does_nothing_and_says_nothing() {
    let (world, group, event) =
        ssh_opened(NODE_TAGS, Some(r#"{"rules": {"sg-open-remote-admin": {"mode": "off"}}}"#)).await;

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert!(report.decisions.is_empty(), "{report:?}");
    assert_eq!(world.ingress(&group).await, vec![rule(22, "0.0.0.0/0")]);
    assert!(world.alerts().await.is_empty());
}

#[tokio::test]
async fn an_exempt_group_keeps_its_rule_and_the_alert_says_exempt() {
    let tags = [("aws:eks:cluster-name", "prod"), ("snapback:exempt", "sg-open-kubelet,sg-open-remote-admin")];
    let (world, group, event) = ssh_opened(&tags, None).await;

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "exempt");
    assert_eq!(world.ingress(&group).await, vec![rule(22, "0.0.0.0/0")]);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message["outcome"], "exempt");
}

#[tokio::test]
async fn an_expired_exemption_is_ignored_and_the_alert_says_so() {
    let tags = [
        ("kubernetes.io/cluster/prod", "owned"),
        ("snapback:exempt", "all"),
        ("snapback:exempt-until", "2020-01-01T00:00:00Z"),
    ];
    let (world, group, event) = ssh_opened(&tags, None).await;

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "remediated");
    assert!(world.ingress(&group).await.is_empty());
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    let notes = alerts[0].message["notes"].to_string();
    assert!(notes.contains("expired at 2020-01-01T00:00:00Z"), "{notes}");
}

#[tokio::test]
async fn a_group_outside_any_cluster_is_out_of_scope_by_default() {
    let (world, group, event) = ssh_opened(&[("Name", "bastion")], None).await;

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "out-of-scope");
    assert_eq!(world.ingress(&group).await, vec![rule(22, "0.0.0.0/0")]);
    assert!(world.alerts().await.is_empty());
}

#[tokio::test]
async fn an_untagged_group_listed_in_a_clusters_vpc_config_is_in_scope() {
    let (world, group, event) = ssh_opened(&[], None).await;
    world
        .aws
        .eks
        .create_cluster()
        .name("payments")
        .role_arn(format!("arn:aws:iam::{}:role/eks", world.aws.account))
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder().subnet_ids("subnet-1").security_group_ids(&group).build(),
        )
        .send()
        .await
        .unwrap();

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "remediated", "{report:?}");
    assert!(world.ingress(&group).await.is_empty());
    assert_eq!(world.alerts().await[0].message["cluster"], "payments");
}

#[tokio::test]
async fn scope_all_judges_groups_outside_clusters() {
    let (world, group, event) = ssh_opened(&[], Some(r#"{"scope": "all"}"#)).await;

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "remediated", "{report:?}");
    assert!(world.ingress(&group).await.is_empty());
}

#[tokio::test]
async fn snapbacks_own_role_is_ignored() {
    let (world, group, mut event) = ssh_opened(NODE_TAGS, None).await;
    let account = world.aws.account.clone();
    event["userIdentity"] = json!({
        "type": "AssumedRole", "arn": format!("arn:aws:sts::{account}:assumed-role/snapback-sg-guard/sg-guard"),
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{account}:role/snapback-sg-guard")}}
    });

    let own = format!("arn:aws:iam::{account}:role/snapback-sg-guard");
    let report = world.guard(&[own.as_str()]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.ignored.as_deref(), Some(format!("made by snapback's own role {own}").as_str()));
    assert_eq!(world.ingress(&group).await, vec![rule(22, "0.0.0.0/0")]);
    assert!(world.alerts().await.is_empty());
}

#[tokio::test]
async fn a_failed_calls_event_is_ignored() {
    let (world, group, mut event) = ssh_opened(NODE_TAGS, None).await;
    event["errorCode"] = json!("Client.UnauthorizedOperation");
    event["errorMessage"] = json!("You are not authorized to perform this operation.");
    event["responseElements"] = Value::Null;

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert!(report.ignored.unwrap().contains("Client.UnauthorizedOperation"));
    assert_eq!(world.ingress(&group).await, vec![rule(22, "0.0.0.0/0")]);
    assert!(world.alerts().await.is_empty());
}

#[tokio::test]
async fn the_same_event_delivered_twice_at_once_revokes_once_and_alerts_once() {
    let (world, group, event) = ssh_opened(NODE_TAGS, None).await;
    // Two execution environments, as Lambda would run two concurrent deliveries.
    let (first, second) = (world.guard(&[]), world.guard(&[]));
    let delivery = envelope(&event);

    let (a, b) = tokio::join!(first.handle(&delivery, deadline_in(30)), second.handle(&delivery, deadline_in(30)));

    let mut outcomes = vec![a.unwrap().decisions[0].outcome.as_str(), b.unwrap().decisions[0].outcome.as_str()];
    outcomes.sort();
    assert_eq!(outcomes, ["already-safe", "remediated"]);
    assert!(world.ingress(&group).await.is_empty());
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].message["outcome"], "remediated");
}

#[tokio::test]
async fn an_invalid_config_keeps_the_defaults_and_every_alert_says_so() {
    let (world, group, event) =
        ssh_opened(NODE_TAGS, Some(r#"{"rules": {"sg-open-remote-admin": {"mode": "sometimes"}}}"#)).await;

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].outcome, "remediated");
    assert!(world.ingress(&group).await.is_empty());
    let notes = world.alerts().await[0].message["notes"].to_string();
    assert!(notes.contains("rules.sg-open-remote-admin.mode"), "{notes}");
    assert!(notes.contains("keeping the built-in defaults"), "{notes}");
}

#[tokio::test]
async fn a_modified_rule_opened_to_the_world_is_revoked_after_checking_it_is_ingress() {
    let world = World::new().await;
    let group = world.group("nodes", NODE_TAGS).await;
    let created = world.authorize(&group, tcp_from(10250, &["10.0.0.0/8"])).await;
    let rule_id = created[0].security_group_rule_id().unwrap().to_owned();
    world
        .aws
        .ec2
        .modify_security_group_rules()
        .group_id(&group)
        .security_group_rules(
            aws_sdk_ec2::types::SecurityGroupRuleUpdate::builder()
                .security_group_rule_id(&rule_id)
                .security_group_rule(
                    aws_sdk_ec2::types::SecurityGroupRuleRequest::builder()
                        .ip_protocol("tcp")
                        .from_port(10250)
                        .to_port(10250)
                        .cidr_ipv4("0.0.0.0/0")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    // The PascalCase request, with the one-element list rendered as an object.
    let event = record(
        &world.aws.account,
        "ModifySecurityGroupRules",
        json!({"ModifySecurityGroupRulesRequest": {"GroupId": group, "SecurityGroupRule": {
            "SecurityGroupRuleId": rule_id, "tag": 1,
            "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 10250, "ToPort": 10250, "CidrIpv4": "0.0.0.0/0"}}}}),
        json!({"ModifySecurityGroupRulesResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "requestId": "r", "return": true}}),
    );

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions[0].rule, "sg-open-kubelet");
    assert_eq!(report.decisions[0].outcome, "remediated", "{report:?}");
    assert!(world.ingress(&group).await.is_empty());
    assert_eq!(world.alerts().await.len(), 1);
}

#[tokio::test]
async fn an_alert_that_cannot_be_published_asks_for_a_retry_after_the_restore() {
    let (world, group, event) = ssh_opened(NODE_TAGS, None).await;
    // moto publishes synchronously to http subscribers: a dead endpoint fails the publish.
    world
        .aws
        .sns
        .subscribe()
        .topic_arn(&world.topic_arn)
        .protocol("http")
        .endpoint("http://127.0.0.1:1/")
        .send()
        .await
        .unwrap();

    let error = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap_err();

    assert!(error.to_string().contains("sns:Publish failed, a retry may help"), "{error}");
    assert!(world.ingress(&group).await.is_empty(), "the restore happened before the publish");
}

#[tokio::test]
async fn throttled_revokes_are_retried_by_the_sdk_within_bounds() {
    let (world, group, event) = ssh_opened(NODE_TAGS, None).await;
    let proxy = FaultProxy::start(&moto_url(), Fault::ec2_throttling("Action=RevokeSecurityGroupIngress", 2));
    let throttled = Clients::for_account_at(&world.aws.account, &proxy.url).await;

    let report = world.guard_with(&throttled, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(proxy.failed(), 2);
    assert_eq!(proxy.matched(), 3, "two throttled attempts, then the one that went through");
    assert_eq!(report.decisions[0].outcome, "remediated");
    assert!(world.ingress(&group).await.is_empty());
    assert_eq!(world.alerts().await.len(), 1);
}

#[tokio::test]
async fn throttling_that_never_ends_gives_up_after_four_attempts_and_asks_lambda_to_retry() {
    let (world, group, event) = ssh_opened(NODE_TAGS, None).await;
    let proxy = FaultProxy::start(&moto_url(), Fault::ec2_throttling("Action=RevokeSecurityGroupIngress", usize::MAX));
    let throttled = Clients::for_account_at(&world.aws.account, &proxy.url).await;

    let error = world.guard_with(&throttled, &[]).handle(&event, deadline_in(30)).await.unwrap_err();

    assert_eq!(proxy.matched(), 4, "the SDK's standard mode: four attempts in all");
    assert!(error.to_string().contains("RequestLimitExceeded"), "{error}");
    assert_eq!(world.ingress(&group).await, vec![rule(22, "0.0.0.0/0")], "nothing changed");
    assert!(world.alerts().await.is_empty(), "no alert until the restore is done");
}

#[tokio::test]
async fn email_subscribers_get_readable_text_and_queues_get_the_json_form() {
    let (world, _group, event) = ssh_opened(NODE_TAGS, None).await;
    world
        .aws
        .sns
        .subscribe()
        .topic_arn(&world.topic_arn)
        .protocol("email")
        .endpoint("oncall@example.com")
        .send()
        .await
        .unwrap();

    world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    let published = published_to(&world.topic_arn);
    assert_eq!(published.len(), 1);
    let (subject, message) = &published[0];
    assert!(subject.starts_with("[snapback] Reverted: sg-open-remote-admin on sg-"), "{subject}");
    assert!(subject.chars().count() < 100);
    let structure: Value = serde_json::from_str(message).unwrap();
    let email = structure["email"].as_str().unwrap();
    assert!(email.starts_with("[HIGH] Reverted: Remote administration (SSH/RDP) open to the internet\n"), "{email}");
    assert!(email.contains("What changed:\n  - tcp 22 from 0.0.0.0/0"), "{email}");
    assert!(serde_json::from_str::<Value>(email).is_err(), "the email body is text, not JSON");
    assert_eq!(structure["default"], structure["email"]);
    let queued = world.alerts().await;
    assert_eq!(queued.len(), 1);
    let machine: Value = serde_json::from_str(structure["sqs"].as_str().unwrap()).unwrap();
    assert_eq!(queued[0].message, machine, "the queue got exactly the JSON form");
    assert_eq!(queued[0].message["source"], "custom");
}

async fn received(world: &World, queue_url: &str) -> usize {
    let output = world.aws.sqs.receive_message().queue_url(queue_url).max_number_of_messages(10).send().await.unwrap();
    output.messages.unwrap_or_default().len()
}

/// GIVEN subscriptions filtering on one rule id, WHEN one call opens tcp 22-10250 to the world
/// (remote admin, kubelet and API ports at once), THEN one alert names the three rules and a
/// filter on any one of them still receives it, while a filter on another rule does not.
#[tokio::test]
async fn a_filter_on_one_rule_id_still_receives_the_alert_that_names_several() {
    let world = World::new().await;
    let group = world.group("prod-nodes", NODE_TAGS).await;
    let wanted = subscribe_queue(&world.aws, &world.topic_arn, Some(r#"{"rule": ["sg-open-remote-admin"]}"#)).await;
    let unrelated = subscribe_queue(&world.aws, &world.topic_arn, Some(r#"{"rule": ["eks-public-endpoint"]}"#)).await;
    let opened = aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(10250)
        .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    let created = world.authorize(&group, opened.clone()).await;
    let event = authorize_record(&world.aws.account, &group, &opened, &created);

    let report = world.guard(&[]).handle(&event, deadline_in(30)).await.unwrap();

    let rules: Vec<&str> = report.decisions.iter().map(|d| d.rule.as_str()).collect();
    assert_eq!(rules, ["sg-open-remote-admin", "sg-open-kubelet", "sg-open-k8s-api"], "{report:?}");
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let mut attribute: Vec<String> = serde_json::from_str(&alerts[0].attributes["rule"]).unwrap();
    attribute.sort();
    assert_eq!(attribute, ["sg-open-k8s-api", "sg-open-kubelet", "sg-open-remote-admin"]);
    assert_eq!(received(&world, &wanted).await, 1, "the filter on sg-open-remote-admin matches");
    assert_eq!(received(&world, &unrelated).await, 0, "a filter on another rule does not");
}

/// GIVEN a group whose SSH was opened to the world before snapback ran, WHEN it is described
/// through the adapter and its state judged, THEN the rule that judges the opening call reports it,
/// with the exact permission to revoke (the listing carries no rule ids).
#[tokio::test]
async fn a_group_as_described_is_judged_like_the_call_that_opened_it() {
    let world = World::new().await;
    let group = world.group("prod-nodes", NODE_TAGS).await;
    world.authorize(&group, tcp_from(22, &["0.0.0.0/0", "10.0.0.0/8"])).await;
    let adapter = snapback_aws::Ec2SecurityGroups::new(world.aws.ec2.clone(), world.aws.eks.clone());

    let state = adapter.describe_group(&group).await.unwrap().expect("the group exists");
    let found = snapback_rules::services::judge_state(&state, &snapback_rules::Config::default());

    let verdicts: Vec<(&str, Vec<String>)> =
        found.iter().map(|f| (f.rule.id, f.plan.actions.iter().map(|a| a.describe()).collect())).collect();
    assert_eq!(verdicts, [("sg-open-remote-admin", vec![format!("revoke ingress tcp 22 from 0.0.0.0/0 on {group}")])]);
}
