//! A change and the state it leaves get the same verdict: GIVEN a resource described as a change
//! left it, WHEN the rules judge the state, THEN the same rules report on the same resource with
//! the same restore plan as for the change.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use snapback_rules::services::eks::{AccessPolicyAssociation, ClusterState, EksState, EndpointState, NodegroupAccess};
use snapback_rules::services::judge_state;
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
