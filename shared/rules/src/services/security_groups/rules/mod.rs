//! One file per security-group rule: its metadata, its check, its tests.

pub mod sg_open_all_traffic;
pub mod sg_open_k8s_api;
pub mod sg_open_kubelet;
pub mod sg_open_remote_admin;
