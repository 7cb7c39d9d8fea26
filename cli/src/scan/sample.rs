//! A fixed, realistic scan: two regions of one account, both services, every mode, judged by the
//! real rules and policy. The JSON golden, the HTML report's browser test and
//! `docs/scan-report.png` (`make scan-screenshot`) are rendered from it. And a fixed replay of a
//! few days of the same account's trail, for the replay report's tests.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use snapback_rules::services::eks::{ClusterState, EksState, EndpointState};
use snapback_rules::services::security_groups::{GroupState, Protocol, RuleEntry, Source};
use snapback_rules::{Config, ResourceFacts, Scope};
use time::OffsetDateTime;

use super::{sort, Coverage, Occurrence, Replayed, ScanFinding};

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
        replayed: None,
    }
}

/// The sample scan's findings, most severe first.
pub fn findings() -> Vec<ScanFinding> {
    let config = Config::default();
    let [eu, us] = REGIONS;
    let mut findings = Vec::new();
    let mut judge = |state: &dyn Any, tags: &[(&str, &str)], region: &str| {
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

/// What the sample replay read: a trail's files for the last days of November.
pub fn replay_coverage() -> Coverage {
    Coverage {
        replayed: Some(Replayed {
            files: 14,
            records: 12_345,
            since: Some("2026-11-26".to_owned()),
            until: Some("2026-11-30".to_owned()),
        }),
        regions: vec![REGIONS[0].to_owned()],
        ..coverage()
    }
}

const ALICE: &str = "arn:aws:sts::111122223333:assumed-role/platform-admin/alice@example.com";
const BOB: &str = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PowerUser_4f2a9c1e7b3d5a60/bob";
const PIPELINE: &str = "arn:aws:iam::111122223333:user/ci-deployer";

/// The sample replay's findings, in the order of their calls: 7 over 3 rules (one in notify mode),
/// 3 callers and 3 days (27, 28 and 30 November: the 29th had none).
pub fn replay_findings() -> Vec<ScanFinding> {
    let open =
        |id: &str, port: i64, rule_id: &str| -> Box<dyn Any> { Box::new(group(id, &[(port, "0.0.0.0/0", rule_id)])) };
    let public = |name: &str| -> Box<dyn Any> { Box::new(cluster(name, true, false, &["0.0.0.0/0"], &["api"], true)) };
    let calls: [(Box<dyn Any>, &str, &str, &str); 7] = [
        (
            open("sg-0a1b2c3d4e5f60718", 10250, "sgr-0d3f9b2c7a1e5c842"),
            "sg-open-kubelet",
            "2026-11-27T09:12:44Z",
            ALICE,
        ),
        (open("sg-0a1b2c3d4e5f60718", 443, "sgr-07c1e5a9d3b2f4a61"), "sg-open-k8s-api", "2026-11-27T09:13:02Z", ALICE),
        (public("prod"), "eks-public-endpoint", "2026-11-27T16:40:19Z", PIPELINE),
        (open("sg-0f1e2d3c4b5a69788", 443, "sgr-0b6c8d0e2f4a6b8c1"), "sg-open-k8s-api", "2026-11-28T11:02:57Z", BOB),
        (open("sg-0c2d4e6f8a0b1c3d5", 10250, "sgr-05e7a9c1b3d5f7092"), "sg-open-kubelet", "2026-11-28T11:03:30Z", BOB),
        (public("payments"), "eks-public-endpoint", "2026-11-30T08:45:11Z", PIPELINE),
        (open("sg-09f8e7d6c5b4a3921", 443, "sgr-0aa41c6e2f8b9d013"), "sg-open-k8s-api", "2026-11-30T21:17:05Z", ALICE),
    ];
    calls
        .into_iter()
        .enumerate()
        .map(|(index, (state, rule, time, actor))| {
            let occurrence = Occurrence {
                event_name: if rule.starts_with("eks-") {
                    "UpdateClusterConfig"
                } else {
                    "AuthorizeSecurityGroupIngress"
                }
                .to_owned(),
                event_id: format!("3f6c2a1e-8b4d-4c7a-9e21-5d0b7f3a9c{index:02}"),
                time: Some(time.to_owned()),
                actor: actor.to_owned(),
                origin: trail_origin(time, index * 7 + 3),
            };
            replayed(state.as_ref(), rule, occurrence)
        })
        .collect()
}

/// The sample replay's first finding, as if made by `actor` at `time`: for tests of how callers
/// and days are counted.
#[cfg(test)]
pub(crate) fn replayed_call(actor: &str, time: Option<&str>) -> ScanFinding {
    let mut finding = replay_findings().remove(0);
    let occurrence = finding.occurrence.as_mut().expect("a replayed finding has its call");
    occurrence.actor = actor.to_owned();
    occurrence.time = time.map(str::to_owned);
    finding
}

/// Where a trail delivered the record of a call at `time` (`YYYY-MM-DDTHH:MM:SSZ`), as replay
/// names it: the log file in the trail's bucket, and the record's place in it.
fn trail_origin(time: &str, record: usize) -> String {
    let (year, month, day, hour) = (&time[..4], &time[5..7], &time[8..10], &time[11..13]);
    format!(
        "s3://org-trail-logs/AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/{year}/{month}/{day}/\
         {ACCOUNT}_CloudTrail_eu-west-1_{year}{month}{day}T{hour}05Z_Qx7LmR2vT9aB1cDe.json.gz#Records[{record}]"
    )
}

/// `rule`'s finding on `state`, judged by the real rules, as a replay reports it: every resource
/// in scope and not exempt, and no cluster known (a call does not carry the resource's tags).
fn replayed(state: &dyn Any, rule: &str, occurrence: Occurrence) -> ScanFinding {
    let mut config = Config::default();
    config.scope = Scope::All;
    let finding = snapback_rules::services::judge_state(state, &config)
        .into_iter()
        .find(|finding| finding.rule.id == rule)
        .unwrap_or_else(|| panic!("the sample state breaks {rule}"));
    let facts = ResourceFacts { tags: BTreeMap::new(), cluster: None };
    let judged = ScanFinding::judged(&finding, &facts, &config, scanned_at(), Some(ACCOUNT), Some(REGIONS[0]));
    ScanFinding { occurrence: Some(occurrence), ..judged.expect("a replay treats every resource as in scope") }
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
