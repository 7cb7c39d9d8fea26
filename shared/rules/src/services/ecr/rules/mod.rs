//! One file per ECR rule: its metadata, its checks, its tests.

pub mod ecr_repository_kms_missing;
pub mod ecr_repository_public;
pub mod ecr_scan_on_push_disabled;
pub mod ecr_tags_mutable;
