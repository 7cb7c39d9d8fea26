//! Security groups: world-open ingress on a cluster's groups, reverted by rule id.

pub mod actions;
pub mod change;
pub mod rules;
pub mod state;

pub use actions::{Permission, RevokeTarget, SecurityGroupAction};
pub use change::{is_world_cidr, Direction, Protocol, RuleEntry, SecurityGroupChange, Source};
pub use state::GroupState;

use serde::{Deserialize, Serialize};

use super::{Example, ServiceRules};
use crate::config::{Config, Mode};
use crate::finding::{Finding, Plan, ResourceKind};
use crate::options::PortList;
use crate::registry::{EventKey, RuleMeta};

/// The slice's name, shared with its adapter in `shared/aws`.
pub const SERVICE: &str = "security-groups";

pub static SECURITY_GROUP: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "security-group",
    scoped_by_cluster: true,
    confirmed_by_look_up: false,
    asff_type: "AwsEc2SecurityGroup",
    arn: "arn:{partition}:ec2:{region}:{account}:security-group/{id}",
};

pub static SLICE: ServiceRules<SecurityGroupChange, GroupState> = ServiceRules {
    name: SERVICE,
    parse: SecurityGroupChange::from_event,
    rules: &[
        &rules::sg_open_remote_admin::RULE,
        &rules::sg_open_kubelet::RULE,
        &rules::sg_open_k8s_api::RULE,
        &rules::sg_open_all_traffic::RULE,
    ],
    // Groups and their rules; the clusters, to know which groups are a cluster's.
    sweep_actions: &[
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeTags",
        "eks:ListClusters",
        "eks:DescribeCluster",
    ],
    example,
};

/// The rule's first port (or all traffic) opened to the world, revoked by rule id.
fn example(meta: &RuleMeta) -> Example {
    let defaults = (meta.options.defaults)().to_value();
    let opened = match defaults["ports"].get(0) {
        Some(port) => format!("tcp {port}"),
        None => "all traffic".to_owned(),
    };
    Example {
        resource: "sg-0123456789abcdef0".to_owned(),
        event_name: "AuthorizeSecurityGroupIngress",
        changed: format!("{opened} from 0.0.0.0/0 (sgr-0a1b2c3d4e5f60718)"),
        restored: Some("revoke ingress rule sgr-0a1b2c3d4e5f60718 on sg-0123456789abcdef0".to_owned()),
        failure: "ec2:RevokeSecurityGroupIngress failed: UnauthorizedOperation".to_owned(),
    }
}

/// The tcp ports a port rule judges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortOptions {
    pub ports: PortList,
}

/// Security-group ingress events every SG rule listens to.
pub(crate) const INGRESS_EVENTS: &[EventKey] = &[
    EventKey { source: "ec2.amazonaws.com", name: "AuthorizeSecurityGroupIngress" },
    EventKey { source: "ec2.amazonaws.com", name: "ModifySecurityGroupRules" },
];

/// Look the group up (tags, scope, the rules a modify changed), find its cluster, revoke.
pub(crate) const REVOKE_ACTIONS: &[&str] = &[
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSecurityGroupRules",
    "ec2:RevokeSecurityGroupIngress",
    "eks:ListClusters",
    "eks:DescribeCluster",
];

/// A rule about world-open tcp ports (SSH, kubelet, API server). Entries that open everything
/// are left to `sg-open-all-traffic` while it is enabled, so one dangerous rule raises one
/// finding; with it off, the port rules still catch them.
pub(crate) fn world_open_tcp_ports(
    meta: &'static RuleMeta,
    change: &SecurityGroupChange,
    config: &Config,
) -> Option<Finding> {
    let ports = &config.options::<PortOptions>(meta).ports;
    let all_traffic_enabled = config.mode(rules::sg_open_all_traffic::RULE.id) != Mode::Off;
    world_open_ingress(meta, change, |entry| {
        !(all_traffic_enabled && entry.opens_everything())
            && ports.iter().any(|port| entry.opens_port(&Protocol::Tcp, port))
    })
}

/// One finding for every world-open ingress entry of the change that `opens` selects.
pub(crate) fn world_open_ingress(
    meta: &'static RuleMeta,
    change: &SecurityGroupChange,
    opens: impl Fn(&RuleEntry) -> bool,
) -> Option<Finding> {
    if change.direction == Direction::Egress {
        return None;
    }
    let entries: Vec<&RuleEntry> =
        change.entries.iter().filter(|entry| entry.source.is_world() && opens(entry)).collect();
    if entries.is_empty() {
        return None;
    }
    Some(Finding {
        rule: meta,
        kind: &SECURITY_GROUP,
        resource: change.resource(),
        changed: entries.iter().map(|entry| entry.describe()).collect(),
        plan: revoke_plan(change, &entries),
    })
}

/// Revoke by the rule ids AWS gave, else by the exact permission; never the same rule twice.
fn revoke_plan(change: &SecurityGroupChange, entries: &[&RuleEntry]) -> Plan {
    let Some(group_id) = &change.group_id else {
        return Plan {
            actions: Vec::new(),
            manual: Some("the call named the group by name only; revoke the rule in the console or with `aws ec2 revoke-security-group-ingress --group-name`".into()),
        };
    };
    let mut actions = Vec::new();
    for entry in entries {
        let target = match (&entry.rule_id, change.direction) {
            (Some(id), Direction::Unknown) => RevokeTarget::ModifiedRuleId(id.clone()),
            (Some(id), _) => RevokeTarget::RuleId(id.clone()),
            (None, _) => match Permission::for_entry(entry) {
                Some(permission) => RevokeTarget::Permission(permission),
                None => continue,
            },
        };
        let action = SecurityGroupAction::RevokeIngress { group_id: group_id.clone(), target }.into();
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    Plan { actions, manual: None }
}
