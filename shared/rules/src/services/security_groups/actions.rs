//! Security-group restore actions.

use serde::Serialize;

use super::change::{Protocol, RuleEntry, Source};
use crate::finding::ServiceAction;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum SecurityGroupAction {
    RevokeIngress { group_id: String, target: RevokeTarget },
}

impl ServiceAction for SecurityGroupAction {
    const SERVICE: &'static str = super::SERVICE;

    fn resource(&self) -> &str {
        let SecurityGroupAction::RevokeIngress { group_id, .. } = self;
        group_id
    }

    fn describe(&self) -> String {
        let SecurityGroupAction::RevokeIngress { group_id, target } = self;
        match target {
            RevokeTarget::RuleId(id) => format!("revoke ingress rule {id} on {group_id}"),
            RevokeTarget::ModifiedRuleId(id) => format!("revoke modified ingress rule {id} on {group_id}"),
            RevokeTarget::Permission(permission) => format!("revoke ingress {} on {group_id}", permission.describe()),
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
    /// nor the earlier value: the adapter confirms it is still a world-open ingress rule.
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
