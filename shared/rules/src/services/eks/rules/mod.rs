//! One file per EKS rule: its metadata, its check, its tests.

pub mod eks_cluster_admin_access_entry;
pub mod eks_control_plane_logging_disabled;
pub mod eks_nodegroup_ssh_open;
pub mod eks_private_endpoint_disabled;
pub mod eks_public_endpoint;
pub mod eks_public_endpoint_open_cidr;
pub mod eks_secrets_encryption_missing;
