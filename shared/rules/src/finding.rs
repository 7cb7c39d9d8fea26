//! What a rule reports, and the typed plan that restores the safe state.

use serde::Serialize;

use crate::registry::RuleMeta;
use crate::security_group::{Protocol, RuleEntry, Source};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// How every alert form shows it.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// What kind of resource a finding is about: where its tags and scope come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    SecurityGroup,
    EksCluster,
}

/// One rule's verdict on one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub kind: ResourceKind,
    /// The resource the rule judged (a security-group id, a cluster name).
    pub resource: String,
    /// What the event changed, one readable line per dangerous part.
    pub changed: Vec<String>,
    pub plan: Plan,
}

/// The actions that restore the safe state. Empty when the change cannot be undone in place;
/// `manual` then says what a person has to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub actions: Vec<Action>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    RevokeIngress {
        group_id: String,
        target: RevokeTarget,
    },
    /// Endpoint access, in one UpdateClusterConfig; None leaves a field as it is.
    UpdateEndpointAccess {
        cluster: String,
        access: EndpointTarget,
    },
    /// Turn these control-plane log types on, in a call of its own.
    EnableLogging {
        cluster: String,
        types: Vec<String>,
    },
    AssociateEncryptionConfig {
        cluster: String,
        key_arn: String,
    },
    DisassociateAccessPolicy {
        cluster: String,
        principal_arn: String,
        policy_arn: String,
    },
}

/// The endpoint state to restore.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct EndpointTarget {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_cidrs: Option<Vec<String>>,
}

impl EndpointTarget {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(private) = self.private {
            parts.push(format!("private endpoint {}", if private { "on" } else { "off" }));
        }
        match (self.public, &self.public_cidrs) {
            (Some(false), _) => parts.push("public endpoint off".to_owned()),
            (Some(true), Some(cidrs)) => parts.push(format!("public endpoint limited to {}", cidrs.join(", "))),
            (Some(true), None) => parts.push("public endpoint on".to_owned()),
            (None, Some(cidrs)) => parts.push(format!("public access CIDRs {}", cidrs.join(", "))),
            (None, None) => {}
        }
        parts.join(", ")
    }
}

impl Action {
    /// Readable form for alerts and logs.
    pub fn describe(&self) -> String {
        match self {
            Action::RevokeIngress { group_id, target } => match target {
                RevokeTarget::RuleId(id) => format!("revoke ingress rule {id} on {group_id}"),
                RevokeTarget::ModifiedRuleId(id) => format!("revoke modified ingress rule {id} on {group_id}"),
                RevokeTarget::Permission(permission) => {
                    format!("revoke ingress {} on {group_id}", permission.describe())
                }
            },
            Action::UpdateEndpointAccess { cluster, access } => {
                format!("set {} for cluster {cluster}", access.describe())
            }
            Action::EnableLogging { cluster, types } => {
                format!("enable control-plane logging {} on cluster {cluster}", types.join(", "))
            }
            Action::AssociateEncryptionConfig { cluster, key_arn } => {
                format!("encrypt secrets of cluster {cluster} with {key_arn}")
            }
            Action::DisassociateAccessPolicy { cluster, principal_arn, policy_arn } => {
                let policy = policy_arn.rsplit('/').next().unwrap_or(policy_arn);
                format!("disassociate {policy} from {principal_arn} on cluster {cluster}")
            }
        }
    }

    /// The EKS cluster the action changes, if any.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Action::RevokeIngress { .. } => None,
            Action::UpdateEndpointAccess { cluster, .. }
            | Action::EnableLogging { cluster, .. }
            | Action::AssociateEncryptionConfig { cluster, .. }
            | Action::DisassociateAccessPolicy { cluster, .. } => Some(cluster),
        }
    }

    /// Folds `other` into this action when both change the same setting of the same cluster,
    /// so one event yields one UpdateClusterConfig per update type. Returns false otherwise.
    pub fn absorb(&mut self, other: &Action) -> bool {
        match (self, other) {
            (
                Action::UpdateEndpointAccess { cluster, access },
                Action::UpdateEndpointAccess { cluster: other_cluster, access: other_access },
            ) if cluster == other_cluster => {
                // The safer value wins: private on, public off, the restricted CIDR list.
                access.private = match (access.private, other_access.private) {
                    (Some(a), Some(b)) => Some(a || b),
                    (a, b) => a.or(b),
                };
                access.public = match (access.public, other_access.public) {
                    (Some(a), Some(b)) => Some(a && b),
                    (a, b) => a.or(b),
                };
                if access.public_cidrs.is_none() {
                    access.public_cidrs = other_access.public_cidrs.clone();
                }
                true
            }
            (
                Action::EnableLogging { cluster, types },
                Action::EnableLogging { cluster: other_cluster, types: more },
            ) if cluster == other_cluster => {
                for kind in more {
                    if !types.contains(kind) {
                        types.push(kind.clone());
                    }
                }
                true
            }
            _ => false,
        }
    }
}

/// One rule to revoke. One action per rule, so two findings about the same opened rule share
/// the action and the pipeline runs it once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevokeTarget {
    /// A rule AWS created for this event (`securityGroupRuleSet`): the exact revert.
    RuleId(String),
    /// A rule a ModifySecurityGroupRules call changed. The record does not say ingress or egress,
    /// nor the earlier value: the executor confirms it is still a world-open ingress rule.
    ModifiedRuleId(String),
    /// Older records carry no rule ids: revoke by the exact permission sent.
    Permission(Permission),
}

/// An EC2 IpPermission with only the sources to revoke.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Permission {
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_port: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_port: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ipv4_cidrs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ipv6_cidrs: Vec<String>,
}

impl Permission {
    /// The permission that removes exactly this entry, when its source is a CIDR.
    pub fn for_entry(entry: &RuleEntry) -> Option<Permission> {
        let Source::Cidr { text, net } = &entry.source else { return None };
        let (ipv4_cidrs, ipv6_cidrs) = match net {
            ipnet::IpNet::V4(_) => (vec![text.clone()], Vec::new()),
            ipnet::IpNet::V6(_) => (Vec::new(), vec![text.clone()]),
        };
        let all = entry.protocol == Protocol::All;
        Some(Permission {
            protocol: entry.protocol.api_name().to_owned(),
            from_port: if all { None } else { entry.from_port },
            to_port: if all { None } else { entry.to_port },
            ipv4_cidrs,
            ipv6_cidrs,
        })
    }

    pub fn describe(&self) -> String {
        let ports = match (self.from_port, self.to_port) {
            _ if self.protocol == "-1" => "all traffic".to_owned(),
            (Some(from), Some(to)) if from == to => format!("{} {from}", self.protocol),
            (Some(from), Some(to)) => format!("{} {from}-{to}", self.protocol),
            _ => self.protocol.clone(),
        };
        let sources: Vec<&str> = self.ipv4_cidrs.iter().chain(&self.ipv6_cidrs).map(String::as_str).collect();
        format!("{ports} from {}", sources.join(", "))
    }
}
