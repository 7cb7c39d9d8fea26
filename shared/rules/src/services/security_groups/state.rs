//! A security group as it is now: what the adapter describes, what policy and sweeps read.

use std::collections::BTreeMap;

use super::{Direction, RuleEntry, SecurityGroupChange};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupState {
    pub group_id: String,
    pub vpc_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Its ingress rules, each with the `sgr-` id AWS gave it.
    pub ingress: Vec<RuleEntry>,
}

impl GroupState {
    /// The group as the change that opened every ingress rule it has: what the rules judge, so
    /// that a state and the change that made it get the same verdict and the same restore (by rule id).
    pub fn as_change(&self) -> SecurityGroupChange {
        SecurityGroupChange {
            group_id: Some(self.group_id.clone()),
            group_name: None,
            direction: Direction::Ingress,
            entries: self.ingress.clone(),
        }
    }
}
