//! An EKS cluster as it is now: what the adapter describes, what a restore compares against.

use std::collections::{BTreeMap, BTreeSet};

use super::{AccessPolicyAssociation, EksChange, EndpointAccess, LoggingChange, NodegroupAccess};

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

/// An EKS resource as described, for the rules' state checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EksState {
    Cluster(ClusterState),
    Nodegroup(NodegroupAccess),
    /// One access policy associated with one principal's access entry.
    AccessPolicy(AccessPolicyAssociation),
}

impl EksState {
    /// The resource as the change that made it so: a cluster as its creation with this
    /// configuration, a nodegroup as its creation, an association as its AssociateAccessPolicy.
    pub fn as_change(&self) -> EksChange {
        match self {
            EksState::Cluster(cluster) => EksChange::Cluster {
                cluster: cluster.name.clone(),
                created: true,
                endpoint: Some(EndpointAccess {
                    public: Some(cluster.endpoint.public),
                    private: Some(cluster.endpoint.private),
                    public_cidrs: Some(cluster.endpoint.public_cidrs.clone()),
                }),
                logging: Some(LoggingChange {
                    enabled: cluster.logging_enabled.clone(),
                    disabled: Default::default(),
                    complete: true,
                }),
                secrets_encrypted: Some(cluster.secrets_encrypted),
            },
            EksState::Nodegroup(access) => EksChange::Nodegroup(access.clone()),
            EksState::AccessPolicy(association) => EksChange::AccessPolicy(association.clone()),
        }
    }
}
