//! EKS restore actions.

use serde::Serialize;

use super::EndpointAccess;
use crate::finding::ServiceAction;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum EksAction {
    /// Endpoint access, in one UpdateClusterConfig; None leaves a field as it is.
    UpdateEndpointAccess {
        cluster: String,
        access: EndpointAccess,
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

impl ServiceAction for EksAction {
    const SERVICE: &'static str = super::SERVICE;

    /// The cluster the action changes.
    fn resource(&self) -> &str {
        match self {
            EksAction::UpdateEndpointAccess { cluster, .. }
            | EksAction::EnableLogging { cluster, .. }
            | EksAction::AssociateEncryptionConfig { cluster, .. }
            | EksAction::DisassociateAccessPolicy { cluster, .. } => cluster,
        }
    }

    fn describe(&self) -> String {
        match self {
            EksAction::UpdateEndpointAccess { cluster, access } => {
                format!("set {} for cluster {cluster}", access.describe())
            }
            EksAction::EnableLogging { cluster, types } => {
                format!("enable control-plane logging {} on cluster {cluster}", types.join(", "))
            }
            EksAction::AssociateEncryptionConfig { cluster, key_arn } => {
                format!("encrypt secrets of cluster {cluster} with {key_arn}")
            }
            EksAction::DisassociateAccessPolicy { cluster, principal_arn, policy_arn } => {
                let policy = policy_arn.rsplit('/').next().unwrap_or(policy_arn);
                format!("disassociate {policy} from {principal_arn} on cluster {cluster}")
            }
        }
    }

    /// Same setting of the same cluster: one UpdateClusterConfig per update type.
    fn absorb(&mut self, other: &EksAction) -> bool {
        match (self, other) {
            (
                EksAction::UpdateEndpointAccess { cluster, access },
                EksAction::UpdateEndpointAccess { cluster: other_cluster, access: other_access },
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
                EksAction::EnableLogging { cluster, types },
                EksAction::EnableLogging { cluster: other_cluster, types: more },
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
