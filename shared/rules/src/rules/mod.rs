//! One file per rule: its metadata, evaluation, plan and tests.

pub mod eks_cluster_admin_access_entry;
pub mod eks_control_plane_logging_disabled;
pub mod eks_nodegroup_ssh_open;
pub mod eks_private_endpoint_disabled;
pub mod eks_public_endpoint;
pub mod eks_public_endpoint_open_cidr;
pub mod eks_secrets_encryption_missing;
pub mod sg_open_all_traffic;
pub mod sg_open_k8s_api;
pub mod sg_open_kubelet;
pub mod sg_open_remote_admin;

use crate::config::{Config, Mode};
use crate::finding::{Action, Finding, Permission, Plan, ResourceKind, RevokeTarget};
use crate::registry::{EventKey, RuleMeta, Subject};
use crate::security_group::{Direction, Protocol, RuleEntry, SecurityGroupChange};

/// Security-group ingress events every SG rule listens to.
pub(crate) const SG_INGRESS_EVENTS: &[EventKey] = &[
    EventKey { source: "ec2.amazonaws.com", name: "AuthorizeSecurityGroupIngress" },
    EventKey { source: "ec2.amazonaws.com", name: "ModifySecurityGroupRules" },
];

/// Look the group up (tags, scope, the rules a modify changed), find its cluster, revoke.
pub(crate) const SG_REVOKE_ACTIONS: &[&str] = &[
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSecurityGroupRules",
    "ec2:RevokeSecurityGroupIngress",
    "eks:ListClusters",
    "eks:DescribeCluster",
];

/// A rule about world-open tcp ports (SSH, kubelet, API server). Entries that open everything
/// are left to `sg-open-all-traffic` while it is enabled, so one dangerous rule raises one alert;
/// with it off, the port rules still catch them.
pub(crate) fn world_open_tcp_ports(meta: &'static RuleMeta, subject: &Subject, config: &Config) -> Option<Finding> {
    let ports = config.settings(meta.id).ports("ports");
    let all_traffic_enabled = config.mode(sg_open_all_traffic::RULE.id) != Mode::Off;
    world_open_ingress(meta, subject, |entry| {
        !(all_traffic_enabled && entry.opens_everything())
            && ports.iter().any(|port| entry.opens_port(&Protocol::Tcp, *port))
    })
}

/// One finding for every world-open ingress entry of the event that `opens` selects.
pub(crate) fn world_open_ingress(
    meta: &'static RuleMeta,
    subject: &Subject,
    opens: impl Fn(&RuleEntry) -> bool,
) -> Option<Finding> {
    let Subject::SecurityGroup(change) = subject else { return None };
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
        kind: ResourceKind::SecurityGroup,
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
    let mut actions: Vec<Action> = Vec::new();
    for entry in entries {
        let target = match (&entry.rule_id, change.direction) {
            (Some(id), Direction::Unknown) => RevokeTarget::ModifiedRuleId(id.clone()),
            (Some(id), _) => RevokeTarget::RuleId(id.clone()),
            (None, _) => match Permission::for_entry(entry) {
                Some(permission) => RevokeTarget::Permission(permission),
                None => continue,
            },
        };
        let action = Action::RevokeIngress { group_id: group_id.clone(), target };
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    Plan { actions, manual: None }
}

/// EKS cluster configuration events.
pub(crate) const EKS_CLUSTER_CONFIG_EVENTS: &[EventKey] = &[
    EventKey { source: crate::eks::EKS_SOURCE, name: "CreateCluster" },
    EventKey { source: crate::eks::EKS_SOURCE, name: "UpdateClusterConfig" },
];

/// Describe first (already safe = no call; tags for exemptions), then one update per type.
pub(crate) const EKS_UPDATE_CONFIG_ACTIONS: &[&str] = &["eks:DescribeCluster", "eks:UpdateClusterConfig"];

/// The cluster and endpoint state an EKS cluster event leaves, when it says.
pub(crate) fn cluster_endpoint(subject: &Subject) -> Option<(&str, &crate::eks::EndpointAccess)> {
    match subject {
        Subject::Eks(crate::eks::EksChange::Cluster { cluster, endpoint: Some(endpoint), .. }) => {
            Some((cluster, endpoint))
        }
        _ => None,
    }
}

/// The configured endpoint posture as a restore: private on; public off, or, when
/// `eks-public-endpoint` lists `public_access_cidrs`, public limited to them.
pub(crate) fn endpoint_posture(cluster: &str, config: &Config) -> Action {
    let allowed = config.settings(eks_public_endpoint::RULE.id).strings("public_access_cidrs");
    let access = if allowed.is_empty() {
        crate::finding::EndpointTarget { private: Some(true), public: Some(false), public_cidrs: None }
    } else {
        crate::finding::EndpointTarget { private: Some(true), public: Some(true), public_cidrs: Some(allowed.to_vec()) }
    };
    Action::UpdateEndpointAccess { cluster: cluster.to_owned(), access }
}

/// A finding about a cluster whose plan is this one action.
pub(crate) fn cluster_finding(meta: &'static RuleMeta, cluster: &str, changed: String, action: Action) -> Finding {
    Finding {
        rule: meta,
        kind: ResourceKind::EksCluster,
        resource: cluster.to_owned(),
        changed: vec![changed],
        plan: Plan { actions: vec![action], manual: None },
    }
}

/// A finding that cannot be restored in place: `manual` says what a person must do.
pub(crate) fn manual_finding(meta: &'static RuleMeta, resource: &str, changed: String, manual: String) -> Finding {
    Finding {
        rule: meta,
        kind: ResourceKind::EksCluster,
        resource: resource.to_owned(),
        changed: vec![changed],
        plan: Plan { actions: Vec::new(), manual: Some(manual) },
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use serde_json::{json, Value};

    use crate::{evaluate, Config, Event, Finding};

    /// An AuthorizeSecurityGroupIngress record with the given permissions and created rules.
    pub fn authorize(permissions: Value, created_rules: Option<Value>) -> Value {
        let mut response = json!({"requestId": "req-1", "_return": true});
        if let Some(rules) = created_rules {
            response["securityGroupRuleSet"] = json!({"items": rules});
        }
        json!({
            "eventVersion": "1.09", "eventID": "evt-1", "eventTime": "2026-11-27T10:00:00Z",
            "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
            "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
            "requestParameters": {"groupId": "sg-0123", "ipPermissions": {"items": permissions}},
            "responseElements": response
        })
    }

    /// A tcp permission from one IPv4 CIDR, in the standard item shape.
    pub fn tcp(from: i64, to: i64, cidr: &str) -> Value {
        json!({"ipProtocol": "tcp", "fromPort": from, "toPort": to, "groups": {},
               "ipRanges": {"items": [{"cidrIp": cidr}]}, "ipv6Ranges": {}, "prefixListIds": {}})
    }

    pub fn findings(record: &Value, config: &Config) -> Vec<Finding> {
        evaluate(&Event::from_value(record).unwrap(), config)
    }

    /// An EKS record by alice with this request and response.
    pub fn eks(event_name: &str, request: Value, response: Value) -> Value {
        json!({
            "eventVersion": "1.09", "eventID": "evt-eks", "eventTime": "2026-11-27T10:00:00Z",
            "eventSource": "eks.amazonaws.com", "eventName": event_name, "awsRegion": "us-east-1",
            "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
            "requestParameters": request, "responseElements": response
        })
    }

    pub fn rule_ids(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|finding| finding.rule.id).collect()
    }
}
