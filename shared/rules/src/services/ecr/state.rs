//! An ECR repository as it is now, with what the registry adds: what the adapter describes
//! (DescribeRepositories, GetRepositoryPolicy, ListTagsForResource, and
//! GetRegistryScanningConfiguration once per registry), what sweeps and the look-ups of a
//! change's findings read.

use std::collections::BTreeMap;

use super::change::{EcrChange, Encryption, RegistryScanning, RepositoryPolicy, TagMutability};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryState {
    pub name: String,
    pub scan_on_push: bool,
    pub tag_mutability: TagMutability,
    pub encryption: Encryption,
    /// None: the repository has no policy.
    pub policy: Option<RepositoryPolicy>,
    pub tags: BTreeMap<String, String>,
    /// The registry's scanning configuration, which can make the repository's own
    /// scan-on-push setting irrelevant.
    pub registry_scanning: RegistryScanning,
}

impl RepositoryState {
    /// The repository as the calls that made it so: its creation with these settings, and the
    /// policy set on it.
    pub fn as_change(&self) -> EcrChange {
        EcrChange {
            repository: self.name.clone(),
            created: true,
            scan_on_push: Some(self.scan_on_push),
            tag_mutability: Some(self.tag_mutability.clone()),
            encryption: Some(self.encryption.clone()),
            policy: self.policy.clone(),
            registry_scanning: Some(self.registry_scanning.clone()),
        }
    }
}
