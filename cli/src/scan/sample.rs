//! A fixed, realistic scan: two regions of one account, both services, every mode, judged by the
//! real rules and policy. The JSON golden, the HTML report's browser test and
//! `docs/scan-report.png` (`make scan-screenshot`) are rendered from it.

use std::collections::{BTreeMap, BTreeSet};

use snapback_rules::services::eks::{ClusterState, EksState, EndpointState};
use snapback_rules::services::security_groups::{GroupState, Protocol, RuleEntry, Source};
use snapback_rules::{Config, ResourceFacts};
use time::OffsetDateTime;

use super::{sort, Coverage, ScanFinding};

pub const ACCOUNT: &str = "111122223333";
pub const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

/// When the sample scan ran.
pub fn scanned_at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_796_120_700).expect("a valid time") // 2026-12-01 10:25 UTC
}

/// What the sample scan covered.
pub fn coverage() -> Coverage {
    Coverage {
        accounts: vec![ACCOUNT.to_owned()],
        regions: REGIONS.iter().map(|region| (*region).to_owned()).collect(),
        at: scanned_at(),
        gaps: Vec::new(),
    }
}

/// The sample scan's findings, most severe first.
pub fn findings() -> Vec<ScanFinding> {
    let config = Config::default();
    let [eu, us] = REGIONS;
    let mut findings = Vec::new();
    let mut judge = |state: &dyn std::any::Any, tags: &[(&str, &str)], region: &str| {
        let tags: BTreeMap<String, String> = tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let cluster = snapback_rules::policy::eks_cluster_from_tags(&tags);
        let facts = ResourceFacts { tags, cluster };
        for finding in snapback_rules::services::judge_state(state, &config) {
            findings.extend(ScanFinding::judged(&finding, &facts, &config, scanned_at(), Some(ACCOUNT), Some(region)));
        }
    };
    let prod = [("aws:eks:cluster-name", "prod")];
    judge(
        &group(
            "sg-0a1b2c3d4e5f60718",
            &[(22, "0.0.0.0/0", "sgr-07c1e5a9d3b2f4a61"), (10250, "0.0.0.0/0", "sgr-0d3f9b2c7a1e5c842")],
        ),
        &prod,
        eu,
    );
    judge(
        &group("sg-09f8e7d6c5b4a3921", &[(22, "0.0.0.0/0", "sgr-0aa41c6e2f8b9d013")]),
        &[prod[0], ("snapback:exempt", "sg-open-remote-admin")],
        eu,
    );
    judge(&cluster("prod", true, false, &["0.0.0.0/0"], &["api"], false), &prod, eu);
    let payments = [("aws:eks:cluster-name", "payments")];
    judge(&all_traffic("sg-0c2d4e6f8a0b1c3d5", "sgr-05e7a9c1b3d5f7092"), &payments, us);
    judge(&group("sg-0f1e2d3c4b5a69788", &[(443, "::/0", "sgr-0b6c8d0e2f4a6b8c1")]), &payments, us);
    judge(
        &cluster(
            "payments",
            false,
            true,
            &[],
            &["api", "audit", "authenticator", "controllerManager", "scheduler"],
            true,
        ),
        &payments,
        us,
    );
    sort(&mut findings);
    findings
}

/// A group with these (tcp port, CIDR, rule id) ingress rules.
fn group(id: &str, ingress: &[(i64, &str, &str)]) -> GroupState {
    GroupState {
        group_id: id.to_owned(),
        vpc_id: Some("vpc-0123456789abcdef0".to_owned()),
        tags: BTreeMap::new(),
        ingress: ingress
            .iter()
            .map(|(port, cidr, rule_id)| RuleEntry {
                protocol: Protocol::Tcp,
                from_port: Some(*port),
                to_port: Some(*port),
                source: Source::cidr(cidr),
                rule_id: Some((*rule_id).to_owned()),
            })
            .collect(),
    }
}

/// A group open to all traffic from anywhere.
fn all_traffic(id: &str, rule_id: &str) -> GroupState {
    let mut state = group(id, &[]);
    state.ingress.push(RuleEntry {
        protocol: Protocol::All,
        from_port: None,
        to_port: None,
        source: Source::cidr("0.0.0.0/0"),
        rule_id: Some(rule_id.to_owned()),
    });
    state
}

fn cluster(name: &str, public: bool, private: bool, cidrs: &[&str], logs: &[&str], encrypted: bool) -> EksState {
    EksState::Cluster(ClusterState {
        name: name.to_owned(),
        status: "ACTIVE".to_owned(),
        tags: BTreeMap::new(),
        endpoint: EndpointState {
            public,
            private,
            public_cidrs: cidrs.iter().map(|cidr| (*cidr).to_owned()).collect(),
        },
        logging_enabled: logs.iter().map(|log| (*log).to_owned()).collect::<BTreeSet<_>>(),
        secrets_encrypted: encrypted,
    })
}
