//! A change and the state it leaves get the same verdict: GIVEN a resource described as a change
//! left it, WHEN the rules judge the state, THEN the same rules report on the same resource with
//! the same restore plan as for the change.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use snapback_rules::services::ecr::{
    Encryption, RegistryScanning, RepositoryPolicy, RepositoryState, ScanningRule, TagMutability,
};
use snapback_rules::services::eks::{AccessPolicyAssociation, ClusterState, EksState, EndpointState, NodegroupAccess};
use snapback_rules::services::judge_state;
use snapback_rules::services::node::{
    HttpTokens, InstanceState, LaunchTemplateState, MetadataDefaults, MetadataOptions, NodeState, SharedKind,
    SharingState,
};
use snapback_rules::services::security_groups::{GroupState, Protocol, RuleEntry, Source};
use snapback_rules::{evaluate, Config, Event, Finding};
use snapback_testkit::cloudtrail::{self, ACCOUNT};

/// (rule, resource, the plan's actions as described).
fn verdicts(findings: &[Finding]) -> Vec<(&'static str, String, Vec<String>)> {
    let mut all: Vec<_> = findings
        .iter()
        .map(|f| (f.rule.id, f.resource.clone(), f.plan.actions.iter().map(|a| a.describe()).collect()))
        .collect();
    all.sort();
    all
}

fn change(record: serde_json::Value) -> Vec<Finding> {
    evaluate(&Event::from_value(&record).unwrap(), &Config::default())
}

fn tcp_entry(port: i64, cidr: &str, rule_id: &str) -> RuleEntry {
    RuleEntry {
        protocol: Protocol::Tcp,
        from_port: Some(port),
        to_port: Some(port),
        source: Source::Cidr { text: cidr.into(), net: cidr.parse().unwrap() },
        rule_id: Some(rule_id.into()),
    }
}

#[test]
fn a_group_with_world_open_ssh_and_kubelet_gets_the_verdict_of_the_call_that_opened_them() {
    let created = vec![
        cloudtrail::created_rule(ACCOUNT, "sg-1", "sgr-ssh", "tcp", 22, 22, "0.0.0.0/0"),
        cloudtrail::created_rule(ACCOUNT, "sg-1", "sgr-kubelet", "tcp", 10250, 10250, "::/0"),
        cloudtrail::created_rule(ACCOUNT, "sg-1", "sgr-private", "tcp", 22, 22, "10.0.0.0/8"),
    ];
    let permissions = vec![cloudtrail::tcp(22, &["0.0.0.0/0", "10.0.0.0/8"]), cloudtrail::tcp(10250, &["::/0"])];
    let opened = change(cloudtrail::authorize_ingress(ACCOUNT, "sg-1", permissions, created));
    let group = GroupState {
        group_id: "sg-1".into(),
        vpc_id: Some("vpc-1".into()),
        tags: BTreeMap::new(),
        ingress: vec![
            tcp_entry(22, "0.0.0.0/0", "sgr-ssh"),
            tcp_entry(22, "10.0.0.0/8", "sgr-private"),
            tcp_entry(10250, "::/0", "sgr-kubelet"),
        ],
    };

    let found = judge_state(&group, &Config::default());

    assert_eq!(verdicts(&found), verdicts(&opened));
    assert_eq!(
        verdicts(&found),
        [
            ("sg-open-kubelet", "sg-1".to_owned(), vec!["revoke ingress rule sgr-kubelet on sg-1".to_owned()]),
            ("sg-open-remote-admin", "sg-1".to_owned(), vec!["revoke ingress rule sgr-ssh on sg-1".to_owned()]),
        ]
    );
}

#[test]
fn a_cluster_left_public_without_logs_or_encryption_gets_the_verdict_of_its_creation() {
    let created = change(cloudtrail::eks(
        "CreateCluster",
        ACCOUNT,
        json!({"name": "prod", "resourcesVpcConfig": {"subnetIds": ["subnet-1"]}}),
        json!({"cluster": {"name": "prod", "status": "CREATING", "resourcesVpcConfig": {
            "subnetIds": ["subnet-1"], "endpointPublicAccess": true, "endpointPrivateAccess": false,
            "publicAccessCidrs": ["0.0.0.0/0"]}}}),
    ));
    let cluster = EksState::Cluster(ClusterState {
        name: "prod".into(),
        status: "ACTIVE".into(),
        tags: BTreeMap::new(),
        endpoint: EndpointState { public: true, private: false, public_cidrs: vec!["0.0.0.0/0".into()] },
        logging_enabled: BTreeSet::new(),
        secrets_encrypted: false,
    });

    let found = judge_state(&cluster, &Config::default());

    assert_eq!(verdicts(&found), verdicts(&created));
    let rules: Vec<&str> = verdicts(&found).into_iter().map(|(rule, _, _)| rule).collect();
    assert_eq!(
        rules,
        [
            "eks-control-plane-logging-disabled",
            "eks-private-endpoint-disabled",
            "eks-public-endpoint",
            "eks-public-endpoint-open-cidr",
            "eks-secrets-encryption-missing"
        ]
    );
}

#[test]
fn a_hardened_cluster_and_a_closed_group_are_clean() {
    let cluster = EksState::Cluster(ClusterState {
        name: "prod".into(),
        status: "ACTIVE".into(),
        tags: BTreeMap::new(),
        endpoint: EndpointState { public: false, private: true, public_cidrs: vec![] },
        logging_enabled: ["api", "audit", "authenticator", "controllerManager", "scheduler"].map(String::from).into(),
        secrets_encrypted: true,
    });
    assert!(judge_state(&cluster, &Config::default()).is_empty());
    let group = GroupState {
        group_id: "sg-1".into(),
        ingress: vec![tcp_entry(22, "10.0.0.0/8", "sgr-1")],
        ..GroupState::default()
    };
    assert!(judge_state(&group, &Config::default()).is_empty());
}

#[test]
fn nodegroups_and_access_policies_as_described_get_the_verdict_of_their_calls() {
    let nodegroup = EksState::Nodegroup(NodegroupAccess {
        cluster: "prod".into(),
        nodegroup: "ng-1".into(),
        ssh_key: Some("ops".into()),
        source_security_groups: vec![],
    });
    let created = change(cloudtrail::eks(
        "CreateNodegroup",
        ACCOUNT,
        json!({"name": "prod", "nodegroupName": "ng-1", "remoteAccess": {"ec2SshKey": "ops"}}),
        json!({}),
    ));
    assert_eq!(verdicts(&judge_state(&nodegroup, &Config::default())), verdicts(&created));
    assert_eq!(created.len(), 1);

    let admin = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
    let association = EksState::AccessPolicy(AccessPolicyAssociation {
        cluster: "prod".into(),
        principal_arn: "arn:aws:iam::111122223333:role/intruder".into(),
        policy_arn: admin.into(),
        scope: "cluster".into(),
    });
    let associated = change(cloudtrail::eks(
        "AssociateAccessPolicy",
        ACCOUNT,
        json!({"name": "prod", "principalArn": "arn:aws:iam::111122223333:role/intruder", "policyArn": admin,
               "accessScope": {"type": "cluster"}}),
        json!({}),
    ));
    assert_eq!(verdicts(&judge_state(&association, &Config::default())), verdicts(&associated));
    assert_eq!(associated.len(), 1);
}

#[test]
fn a_rule_switched_off_judges_no_state() {
    let config = Config::from_json(r#"{"rules": {"sg-open-remote-admin": {"mode": "off"}}}"#).unwrap();
    let group = GroupState {
        group_id: "sg-1".into(),
        ingress: vec![tcp_entry(22, "0.0.0.0/0", "sgr-1")],
        ..GroupState::default()
    };
    assert!(judge_state(&group, &config).is_empty());
}

#[test]
fn a_node_launched_with_imdsv1_and_two_hops_gets_the_verdict_of_its_launch() {
    let launched = change(cloudtrail::ec2(
        "RunInstances",
        ACCOUNT,
        json!({"instancesSet": {"items": [{"minCount": 1, "maxCount": 1}]}, "launchTemplate": {"launchTemplateId": "lt-1", "version": "1"}}),
        json!({"instancesSet": {"items": [{"instanceId": "i-1", "tagSet": {"items": [{"key": "eks:cluster-name", "value": "prod"}]},
            "metadataOptions": {"state": "pending", "httpTokens": "optional", "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled"}}]}}),
    ));
    let node = NodeState::Instance(InstanceState {
        instance_id: "i-1".into(),
        metadata: MetadataOptions {
            http_tokens: Some(HttpTokens::Optional),
            hop_limit: Some(2),
            endpoint_enabled: Some(true),
        },
        tags: [("eks:cluster-name".to_owned(), "prod".to_owned())].into(),
    });

    let found = judge_state(&node, &Config::default());

    assert_eq!(verdicts(&found), verdicts(&launched));
    assert_eq!(
        verdicts(&found),
        [
            (
                "instance-imds-hop-limit",
                "i-1".to_owned(),
                vec!["set the IMDS hop limit to 1 on instance i-1".to_owned()]
            ),
            ("instance-imdsv1", "i-1".to_owned(), vec!["require IMDSv2 tokens on instance i-1".to_owned()]),
        ]
    );
}

#[test]
fn a_node_template_the_account_defaults_and_a_public_snapshot_get_the_verdicts_of_their_calls() {
    let created = change(cloudtrail::ec2(
        "CreateLaunchTemplate",
        ACCOUNT,
        json!({"CreateLaunchTemplateRequest": {"LaunchTemplateName": "nodes", "LaunchTemplateData": {
            "MetadataOptions": {"HttpTokens": "optional"}}}}),
        json!({"CreateLaunchTemplateResponse": {"launchTemplate": {"launchTemplateId": "lt-1", "launchTemplateName": "nodes",
            "defaultVersionNumber": 1, "latestVersionNumber": 1}}}),
    ));
    let template = NodeState::LaunchTemplate(LaunchTemplateState {
        template_id: "lt-1".into(),
        template_name: Some("nodes".into()),
        default_version: "1".into(),
        metadata: MetadataOptions { http_tokens: Some(HttpTokens::Optional), ..MetadataOptions::default() },
        ..LaunchTemplateState::default()
    });
    assert_eq!(verdicts(&judge_state(&template, &Config::default())), verdicts(&created));
    assert_eq!(created.len(), 1);

    let weakened = change(cloudtrail::ec2(
        "ModifyInstanceMetadataDefaults",
        ACCOUNT,
        json!({"ModifyInstanceMetadataDefaultsRequest": {"HttpTokens": "optional"}}),
        json!({}),
    ));
    let defaults =
        NodeState::MetadataDefaults(MetadataDefaults { http_tokens: Some(HttpTokens::Optional), hop_limit: None });
    assert_eq!(verdicts(&judge_state(&defaults, &Config::default())), verdicts(&weakened));

    let shared = change(cloudtrail::ec2(
        "ModifySnapshotAttribute",
        ACCOUNT,
        json!({"snapshotId": "snap-1", "createVolumePermission": {"add": {"items": [{"group": "all"}]}}}),
        json!({"_return": true}),
    ));
    let snapshot = NodeState::Sharing(SharingState {
        kind: SharedKind::Snapshot,
        id: "snap-1".into(),
        public: true,
        accounts: vec![],
        tags: BTreeMap::new(),
    });
    assert_eq!(verdicts(&judge_state(&snapshot, &Config::default())), verdicts(&shared));
    assert_eq!(shared.len(), 1);
}

#[test]
fn a_repository_as_described_gets_the_verdict_of_its_creation_unless_the_registry_scans_it() {
    let policy =
        json!({"Statement": [{"Sid": "pull", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]});
    let record = |name: &str, request: serde_json::Value| {
        cloudtrail::record("ecr.amazonaws.com", name, ACCOUNT, request, json!({}))
    };
    let mut calls = change(record("CreateRepository", json!({"repositoryName": "web"})));
    calls.extend(change(record(
        "SetRepositoryPolicy",
        json!({"repositoryName": "web", "policyText": policy.to_string()}),
    )));
    let repository = RepositoryState {
        name: "web".into(),
        scan_on_push: false,
        tag_mutability: TagMutability::Mutable,
        encryption: Encryption::aes256(),
        policy: Some(RepositoryPolicy::parse(&policy.to_string()).unwrap()),
        tags: BTreeMap::new(),
        registry_scanning: RegistryScanning::Basic { rules: vec![] },
    };

    assert_eq!(verdicts(&judge_state(&repository, &Config::default())), verdicts(&calls));
    let rules: Vec<&str> = verdicts(&calls).into_iter().map(|(rule, _, _)| rule).collect();
    assert_eq!(rules, ["ecr-repository-public", "ecr-scan-on-push-disabled", "ecr-tags-mutable"]);

    let scanned = RepositoryState {
        registry_scanning: RegistryScanning::Basic {
            rules: vec![ScanningRule { scan_frequency: "SCAN_ON_PUSH".into(), filters: vec!["*".into()] }],
        },
        ..repository
    };
    let rules: Vec<&str> =
        verdicts(&judge_state(&scanned, &Config::default())).into_iter().map(|(rule, _, _)| rule).collect();
    assert_eq!(rules, ["ecr-repository-public", "ecr-tags-mutable"]);
}

#[test]
fn hardened_node_side_resources_and_repositories_are_clean() {
    let required =
        MetadataOptions { http_tokens: Some(HttpTokens::Required), hop_limit: Some(1), endpoint_enabled: Some(true) };
    let clean = [
        NodeState::Instance(InstanceState {
            instance_id: "i-1".into(),
            metadata: required.clone(),
            ..InstanceState::default()
        }),
        NodeState::LaunchTemplate(LaunchTemplateState {
            template_id: "lt-1".into(),
            default_version: "3".into(),
            metadata: required,
            ..LaunchTemplateState::default()
        }),
        NodeState::MetadataDefaults(MetadataDefaults { http_tokens: Some(HttpTokens::Required), hop_limit: Some(1) }),
        NodeState::EbsEncryptionByDefault { enabled: true },
        NodeState::Sharing(SharingState {
            kind: SharedKind::Image,
            id: "ami-1".into(),
            public: false,
            accounts: vec!["444455556666".into()],
            tags: BTreeMap::new(),
        }),
    ];
    for state in &clean {
        assert!(judge_state(state, &Config::default()).is_empty(), "{state:?}");
    }
    let repository = RepositoryState {
        name: "web".into(),
        scan_on_push: true,
        tag_mutability: TagMutability::Immutable,
        encryption: Encryption { encryption_type: "KMS".into(), kms_key: None },
        policy: None,
        tags: BTreeMap::new(),
        registry_scanning: RegistryScanning::Enhanced,
    };
    let all_on = Config::from_json(r#"{"rules": {"ecr-repository-kms-missing": {"mode": "notify"}}}"#).unwrap();
    assert!(judge_state(&repository, &all_on).is_empty());
}
