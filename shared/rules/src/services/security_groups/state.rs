//! A security group as it is now: what the adapter describes and policy reads.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupState {
    pub group_id: String,
    pub vpc_id: Option<String>,
    pub tags: BTreeMap<String, String>,
}
