//! One file per node rule: its metadata, its checks, its tests.

pub mod ami_public;
pub mod ebs_default_encryption_disabled;
pub mod imds_defaults_weakened;
pub mod instance_imds_hop_limit;
pub mod instance_imdsv1;
pub mod launch_template_ebs_unencrypted;
pub mod launch_template_imdsv1;
pub mod nodegroup_public_subnet;
pub mod snapshot_public;
pub mod subnet_auto_public_ip;
