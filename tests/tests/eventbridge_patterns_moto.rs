//! The generated EventBridge patterns on a rule in moto's EventBridge with an SQS target:
//! real-shaped events by an IAM user, an assumed role, the root user and an AWS service arrive; a
//! failed call and a call by snapback's own role do not. Each rule also lets through the watchdog's
//! heartbeat for that rule, and not one for another function or for a route it does not have.

use aws_sdk_eventbridge::types::{PutEventsRequestEntry, Target};
use serde_json::{json, Value};
use snapback_tests::{fresh_account, moto_url, sdk_config, MotoAccount, REGION};

fn identities(account: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            "iam-user",
            json!({"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": format!("arn:aws:iam::{account}:user/alice"), "accountId": account, "userName": "alice"}),
        ),
        (
            "assumed-role",
            json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{account}:assumed-role/Admin/alice"), "accountId": account,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{account}:role/Admin"), "accountId": account, "userName": "Admin"},
                               "attributes": {"mfaAuthenticated": "true"}}}),
        ),
        (
            "root",
            json!({"type": "Root", "principalId": account, "arn": format!("arn:aws:iam::{account}:root"), "accountId": account}),
        ),
        ("aws-service", json!({"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"})),
    ]
}

#[tokio::test]
async fn generated_patterns_let_every_caller_through_but_failures_and_snapback_itself() {
    let account = fresh_account();
    let sdk = sdk_config().await;
    let header = MotoAccount(account.clone());
    let events = aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::config::Builder::from(&sdk).interceptor(header.clone()).build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(aws_sdk_sqs::config::Builder::from(&sdk).interceptor(header).build());
    let manifest = snapback_rules::manifest::manifest();
    assert!(moto_url().starts_with("http"));

    for (function, event_source, event_name) in [
        ("sg-guard", "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
        ("eks-guard", "eks.amazonaws.com", "UpdateClusterConfig"),
    ] {
        let queue_url =
            sqs.create_queue().queue_name(format!("{function}-target")).send().await.unwrap().queue_url.unwrap();
        let queue_arn = format!("arn:aws:sqs:{REGION}:{account}:{function}-target");
        for (index, pattern) in manifest["functions"][function]["event_patterns"].as_array().unwrap().iter().enumerate()
        {
            let rule = format!("snapback-{function}-{index}");
            events.put_rule().name(&rule).event_pattern(pattern.to_string()).send().await.unwrap();
            events
                .put_targets()
                .rule(&rule)
                .targets(Target::builder().id("function").arn(&queue_arn).build().unwrap())
                .send()
                .await
                .unwrap();
        }

        let mut sent: Vec<(String, Value)> =
            identities(&account).into_iter().map(|(who, identity)| (who.to_owned(), identity)).collect();
        sent.push(("own-role".into(), json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{account}:assumed-role/snapback-{function}/x"),
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{account}:role/snapback-{function}"), "userName": format!("snapback-{function}")}}})));
        sent.push(("failed-call".into(), identities(&account)[0].1.clone()));
        for (who, identity) in &sent {
            let mut detail = json!({"eventVersion": "1.09", "userIdentity": identity, "eventSource": event_source, "eventName": event_name,
                "awsRegion": REGION, "eventID": who, "requestParameters": {"name": "prod"}, "responseElements": null});
            if who == "failed-call" {
                detail["errorCode"] = json!("AccessDenied");
            }
            let entry = PutEventsRequestEntry::builder()
                .source(format!("aws.{}", event_source.split('.').next().unwrap()))
                .detail_type("AWS API Call via CloudTrail")
                .detail(detail.to_string())
                .build();
            let output = events.put_events().entries(entry).send().await.unwrap();
            assert_eq!(output.failed_entry_count, 0, "{who}");
        }

        // Heartbeats for this function's rule, for a route it does not have, and for the other function.
        for (to, route) in [("sg-guard", 0), ("eks-guard", 0), (function, 1)] {
            let entry = PutEventsRequestEntry::builder()
                .source(snapback_rules::heartbeat::SOURCE)
                .detail_type(snapback_rules::heartbeat::DETAIL_TYPE)
                .detail(snapback_rules::heartbeat::detail(to, route, "default", "2026-12-01T10:00:00Z").to_string())
                .build();
            assert_eq!(events.put_events().entries(entry).send().await.unwrap().failed_entry_count, 0);
        }

        let mut arrived = Vec::new();
        loop {
            let received = sqs
                .receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let envelope: Value = serde_json::from_str(message.body().unwrap()).unwrap();
                let label = match envelope["source"].as_str() {
                    Some(snapback_rules::heartbeat::SOURCE) => {
                        format!("heartbeat {} {}", envelope["detail"]["function"], envelope["detail"]["route"])
                    }
                    _ => envelope["detail"]["eventID"].as_str().unwrap().to_owned(),
                };
                arrived.push(label);
                sqs.delete_message()
                    .queue_url(&queue_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        arrived.sort();
        let heartbeat = format!("heartbeat \"{function}\" 0");
        assert_eq!(arrived, ["assumed-role", "aws-service", heartbeat.as_str(), "iam-user", "root"], "{function}");
    }
}
