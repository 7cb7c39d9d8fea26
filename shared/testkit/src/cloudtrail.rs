//! CloudTrail records as CloudTrail writes them (see SHAPES.md): EC2's `{"items": [...]}` lists
//! whose empty form is `{}`, EKS's plain JSON, and the EventBridge envelope around them.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

/// The account and region of records that do not name their own.
pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-east-1";

/// A record of `event_name` on `event_source` by IAM user alice of `account`, from 198.51.100.7
/// with the AWS CLI, with a fresh event id.
pub fn record(event_source: &str, event_name: &str, account: &str, request: Value, response: Value) -> Value {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE", "arn": format!("arn:aws:iam::{account}:user/alice"),
                         "accountId": account, "accessKeyId": "AKIAEXAMPLEALICE", "userName": "alice"},
        "eventTime": "2026-11-27T10:00:00Z",
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.5 exe/x86_64",
        "requestParameters": request,
        "responseElements": response,
        "requestID": "3b5c6f5e-8a3c-4c4e-9f59-0d1f1c2e3a4b",
        "eventID": format!("0c0f4f1e-0000-4000-8000-{:012}", NEXT.fetch_add(1, Ordering::Relaxed)),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management",
    })
}

/// An EC2 record.
pub fn ec2(event_name: &str, account: &str, request: Value, response: Value) -> Value {
    record("ec2.amazonaws.com", event_name, account, request, response)
}

/// An EKS record.
pub fn eks(event_name: &str, account: &str, request: Value, response: Value) -> Value {
    record("eks.amazonaws.com", event_name, account, request, response)
}

/// An ECR record (REST/JSON: plain JSON, settings left at their defaults absent).
pub fn ecr(event_name: &str, account: &str, request: Value, response: Value) -> Value {
    record("ecr.amazonaws.com", event_name, account, request, response)
}

/// An EC2 list in its record form: `{"items": [...]}`, or `{}` when empty.
pub fn items(list: Vec<Value>) -> Value {
    if list.is_empty() {
        json!({})
    } else {
        json!({"items": list})
    }
}

/// A permission item of `ipPermissions`: `protocol` ("tcp", "-1", …) on `from`-`to` (no ports
/// for "-1") from these IPv4 and IPv6 CIDRs.
pub fn permission(protocol: &str, from: i64, to: i64, cidrs: &[&str]) -> Value {
    let (v6, v4): (Vec<&str>, Vec<&str>) = cidrs.iter().partition(|cidr| cidr.contains(':'));
    let mut item = json!({
        "ipProtocol": protocol,
        "groups": {},
        "ipRanges": items(v4.iter().map(|cidr| json!({"cidrIp": cidr})).collect()),
        "ipv6Ranges": items(v6.iter().map(|cidr| json!({"cidrIpv6": cidr})).collect()),
        "prefixListIds": {},
    });
    if protocol != "-1" {
        item["fromPort"] = json!(from);
        item["toPort"] = json!(to);
    }
    item
}

/// A tcp permission item on one port.
pub fn tcp(port: i64, cidrs: &[&str]) -> Value {
    permission("tcp", port, port, cidrs)
}

/// A rule of `responseElements.securityGroupRuleSet`, as AWS created it.
pub fn created_rule(
    account: &str,
    group_id: &str,
    rule_id: &str,
    protocol: &str,
    from: i64,
    to: i64,
    cidr: &str,
) -> Value {
    let mut rule = json!({
        "groupOwnerId": account, "groupId": group_id, "securityGroupRuleId": rule_id,
        "isEgress": false, "ipProtocol": protocol, "fromPort": from, "toPort": to,
    });
    rule[if cidr.contains(':') { "cidrIpv6" } else { "cidrIpv4" }] = json!(cidr);
    rule
}

/// AuthorizeSecurityGroupIngress of these permission items on `group_id`, with the rules AWS
/// created for them (none: an older record without `securityGroupRuleSet`).
pub fn authorize_ingress(account: &str, group_id: &str, permissions: Vec<Value>, created: Vec<Value>) -> Value {
    let mut response = json!({"requestId": "3b5c6f5e-8a3c-4c4e-9f59-0d1f1c2e3a4b", "_return": true});
    if !created.is_empty() {
        response["securityGroupRuleSet"] = json!({"items": created});
    }
    ec2(
        "AuthorizeSecurityGroupIngress",
        account,
        json!({"groupId": group_id, "ipPermissions": {"items": permissions}}),
        response,
    )
}

/// The record inside an EventBridge envelope, as a function receives it.
pub fn envelope(record: &Value) -> Value {
    let service = record["eventSource"].as_str().unwrap_or_default().split('.').next().unwrap_or_default();
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "AWS API Call via CloudTrail",
        "source": format!("aws.{service}"), "account": record["recipientAccountId"], "time": record["eventTime"],
        "region": record["awsRegion"], "resources": [], "detail": record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_fresh_ids_and_ec2_lists_in_their_item_form() {
        let first = authorize_ingress(ACCOUNT, "sg-1", vec![tcp(22, &["0.0.0.0/0", "::/0"])], vec![]);
        let second = authorize_ingress(ACCOUNT, "sg-1", vec![permission("-1", 0, 0, &["0.0.0.0/0"])], vec![]);
        assert_ne!(first["eventID"], second["eventID"]);
        let item = &first["requestParameters"]["ipPermissions"]["items"][0];
        assert_eq!(item["ipRanges"], json!({"items": [{"cidrIp": "0.0.0.0/0"}]}));
        assert_eq!(item["ipv6Ranges"], json!({"items": [{"cidrIpv6": "::/0"}]}));
        assert_eq!(item["prefixListIds"], json!({}));
        assert!(first["responseElements"].get("securityGroupRuleSet").is_none());
        assert!(second["requestParameters"]["ipPermissions"]["items"][0].get("fromPort").is_none());
        assert_eq!(envelope(&first)["detail"], first);
        assert_eq!(envelope(&first)["source"], "aws.ec2");
    }
}
