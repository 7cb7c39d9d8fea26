//! An EKS cluster as it is now: what the adapter describes, what a restore compares against.

use std::collections::{BTreeMap, BTreeSet};

use super::EndpointAccess;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterState {
    pub name: String,
    /// ACTIVE, CREATING, UPDATING, ...
    pub status: String,
    pub tags: BTreeMap<String, String>,
    pub endpoint: EndpointState,
    pub logging_enabled: BTreeSet<String>,
    /// Secrets envelope-encrypted with a KMS key of the account's own.
    pub secrets_encrypted: bool,
}

impl ClusterState {
    /// Another update (or the creation) is running: a new update would get a 409.
    pub fn is_busy(&self) -> bool {
        matches!(self.status.as_str(), "CREATING" | "UPDATING" | "PENDING")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointState {
    pub public: bool,
    pub private: bool,
    pub public_cidrs: Vec<String>,
}

impl EndpointState {
    /// This state with `access`'s fields applied, never with both endpoints off (the API refuses
    /// it, and it would cut everyone off).
    pub fn with(&self, access: &EndpointAccess) -> EndpointState {
        let mut target = self.clone();
        if let Some(private) = access.private {
            target.private = private;
        }
        if let Some(public) = access.public {
            target.public = public;
        }
        if let Some(cidrs) = &access.public_cidrs {
            target.public_cidrs = cidrs.clone();
        }
        if !target.public && !target.private {
            target.private = true;
        }
        target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applying_access_never_turns_both_endpoints_off() {
        let public_only = EndpointState { public: true, private: false, public_cidrs: vec!["0.0.0.0/0".into()] };
        let off = EndpointAccess { public: Some(false), ..EndpointAccess::default() };
        assert_eq!(
            public_only.with(&off),
            EndpointState { public: false, private: true, public_cidrs: vec!["0.0.0.0/0".into()] }
        );
        let limited = EndpointAccess { public_cidrs: Some(vec!["203.0.113.0/24".into()]), ..EndpointAccess::default() };
        assert_eq!(public_only.with(&limited).public_cidrs, ["203.0.113.0/24"]);
    }
}
