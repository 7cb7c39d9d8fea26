//! Arbitrary JSON, and records up to 256 KB, never panic the parser or the rules.

use proptest::prelude::*;
use serde_json::{json, Value};
use snapback_rules::{evaluate, listens_to, screen, Config, Event};

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "[a-zA-Z0-9:/.\\-]{0,24}".prop_map(Value::String),
        prop_oneof![Just("0.0.0.0/0"), Just("::/0"), Just("tcp"), Just("-1"), Just("sg-1"), Just("items")]
            .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(6, 256, 8, |inner| {
        let keys = prop_oneof![
            "[a-zA-Z]{1,12}",
            prop_oneof![
                Just("items"),
                Just("ipPermissions"),
                Just("ipRanges"),
                Just("ipv6Ranges"),
                Just("cidrIp"),
                Just("cidrIpv6"),
                Just("fromPort"),
                Just("toPort"),
                Just("ipProtocol"),
                Just("groupId"),
                Just("securityGroupRuleSet"),
                Just("SecurityGroupRule"),
                Just("ModifySecurityGroupRulesRequest"),
                Just("CidrIpv4"),
                Just("FromPort"),
                Just("instancesSet"),
                Just("metadataOptions"),
                Just("httpTokens"),
                Just("instanceId"),
                Just("ModifyInstanceMetadataOptionsRequest"),
                Just("CreateLaunchTemplateRequest"),
                Just("LaunchTemplateData"),
                Just("BlockDeviceMapping"),
                Just("Ebs"),
                Just("Encrypted"),
                Just("createVolumePermission"),
                Just("launchPermission"),
                Just("add"),
                Just("group"),
                Just("repositoryName"),
                Just("policyText"),
                Just("imageScanningConfiguration"),
            ]
            .prop_map(str::to_owned),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn judge(value: &Value) {
    let config = Config::default();
    if let Ok(event) = Event::from_value(value) {
        let _ = screen(&event, &config, &[], listens_to);
        for finding in evaluate(&event, &config) {
            for action in &finding.plan.actions {
                let _ = action.describe();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_json_is_read_or_refused_without_panic(value in arbitrary_json()) {
        judge(&value);
    }

    #[test]
    fn arbitrary_request_parameters_of_listened_events_never_panic(
        request in arbitrary_json(),
        response in arbitrary_json(),
        name in prop_oneof![Just("AuthorizeSecurityGroupIngress"), Just("ModifySecurityGroupRules")],
    ) {
        judge(&json!({"eventSource": "ec2.amazonaws.com", "eventName": name,
                      "requestParameters": request, "responseElements": response}));
    }

    #[test]
    fn arbitrary_request_parameters_of_node_and_ecr_events_never_panic(
        request in arbitrary_json(),
        response in arbitrary_json(),
        (source, name) in prop_oneof![
            Just(("ec2.amazonaws.com", "RunInstances")),
            Just(("ec2.amazonaws.com", "ModifyInstanceMetadataOptions")),
            Just(("ec2.amazonaws.com", "ModifySubnetAttribute")),
            Just(("ec2.amazonaws.com", "CreateLaunchTemplate")),
            Just(("ec2.amazonaws.com", "CreateLaunchTemplateVersion")),
            Just(("ec2.amazonaws.com", "ModifyInstanceMetadataDefaults")),
            Just(("ec2.amazonaws.com", "DisableEbsEncryptionByDefault")),
            Just(("ec2.amazonaws.com", "ModifySnapshotAttribute")),
            Just(("ec2.amazonaws.com", "ModifyImageAttribute")),
            Just(("eks.amazonaws.com", "CreateNodegroup")),
            Just(("ecr.amazonaws.com", "CreateRepository")),
            Just(("ecr.amazonaws.com", "PutImageScanningConfiguration")),
            Just(("ecr.amazonaws.com", "PutImageTagMutability")),
            Just(("ecr.amazonaws.com", "SetRepositoryPolicy")),
        ],
    ) {
        judge(&json!({"eventSource": source, "eventName": name,
                      "requestParameters": request, "responseElements": response}));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Event::from_slice(&bytes);
    }
}

#[test]
fn a_256_kb_record_with_thousands_of_permissions_is_evaluated() {
    let permissions: Vec<Value> = (0..1800)
        .map(|i| {
            json!({"ipProtocol": "tcp", "fromPort": i, "toPort": i, "groups": {},
                        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}})
        })
        .collect();
    let record = json!({"eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
                        "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": permissions}}});
    let bytes = serde_json::to_vec(&record).unwrap();
    assert!(bytes.len() >= 200 * 1024 && bytes.len() <= 256 * 1024, "{} bytes", bytes.len());
    let findings = evaluate(&Event::from_slice(&bytes).unwrap(), &Config::default());
    let rules: Vec<&str> = findings.iter().map(|f| f.rule.id).collect();
    assert_eq!(rules, ["sg-open-remote-admin", "sg-open-k8s-api"]);
}

#[test]
fn deeply_nested_json_is_refused_not_overflowed() {
    let deep = "[".repeat(100_000);
    assert!(Event::from_slice(deep.as_bytes()).is_err());
}
