//! Per-event decision time: parse an EventBridge delivery, run the guards, evaluate every rule
//! and build the plans. No I/O; what the function spends before its first AWS call.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use snapback_rules::{evaluate, listens_to, screen, Config, Event};

const DELIVERY: &str = r#"{"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "AWS API Call via CloudTrail",
 "source": "aws.ec2", "account": "111122223333", "time": "2026-11-27T10:00:00Z", "region": "eu-west-1", "resources": [],
 "detail": {"eventVersion": "1.09", "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice",
   "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice", "accountId": "111122223333",
   "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/Admin", "accountId": "111122223333", "userName": "Admin"},
   "webIdFederationData": {}, "attributes": {"creationDate": "2026-11-27T09:00:00Z", "mfaAuthenticated": "true"}}},
  "eventTime": "2026-11-27T10:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
  "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.0",
  "requestParameters": {"groupId": "sg-0123456789abcdef0", "ipPermissions": {"items": [
    {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {}, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}, {"cidrIp": "10.0.0.0/8"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}},
  "responseElements": {"requestId": "r", "_return": true, "securityGroupRuleSet": {"items": [
    {"groupOwnerId": "111122223333", "groupId": "sg-0123456789abcdef0", "securityGroupRuleId": "sgr-0a", "isEgress": false, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"},
    {"groupOwnerId": "111122223333", "groupId": "sg-0123456789abcdef0", "securityGroupRuleId": "sgr-0b", "isEgress": false, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "10.0.0.0/8"}]}},
  "requestID": "r", "eventID": "e1", "readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
  "recipientAccountId": "111122223333", "eventCategory": "Management"}}"#;

fn decision(c: &mut Criterion) {
    let config = Config::default();
    let own = vec!["arn:aws:iam::111122223333:role/snapback-sg-guard".to_owned()];
    c.bench_function("parse + guards + evaluate + plan (world-open ssh delivery)", |b| {
        b.iter(|| {
            let event = Event::from_slice(black_box(DELIVERY.as_bytes())).unwrap();
            assert!(screen(&event, &config, &own, listens_to).is_none());
            let findings = evaluate(&event, &config);
            assert_eq!(findings.len(), 1);
            black_box(findings)
        })
    });
}

criterion_group!(benches, decision);
criterion_main!(benches);
