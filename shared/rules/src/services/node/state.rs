//! Node-side resources as they are now: what the node adapter describes, what sweeps and the
//! look-ups of candidate findings read. Each reads as the change that made it so
//! ([`NodeState::as_change`]), so a state and that change get the same verdict.

use std::collections::BTreeMap;

use super::change::{
    Grantee, HttpTokens, InstanceMetadata, LaunchTemplateVersion, MetadataDefaults, MetadataOptions, NodeChange,
    NodegroupSubnets, SharedKind, SharingChange, SubnetAttribute,
};

/// A subnet (DescribeSubnets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubnetState {
    pub subnet_id: String,
    pub vpc_id: Option<String>,
    pub map_public_ip_on_launch: bool,
    pub tags: BTreeMap<String, String>,
}

/// A managed node group and its subnets (DescribeNodegroup, then DescribeSubnets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodegroupState {
    pub cluster: String,
    pub nodegroup: String,
    pub subnets: Vec<String>,
    /// Those of `subnets` with `MapPublicIpOnLaunch`.
    pub public_subnets: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// An instance (DescribeInstances): its tags say whether it is a node
/// ([`super::node_cluster_from_tags`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceState {
    pub instance_id: String,
    pub metadata: MetadataOptions,
    pub tags: BTreeMap<String, String>,
}

/// A launch template with its default version's data (DescribeLaunchTemplates,
/// DescribeLaunchTemplateVersions `$Default`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchTemplateState {
    pub template_id: String,
    pub template_name: Option<String>,
    pub default_version: String,
    /// The default version's metadata options, as its data sets them (unset fields None).
    pub metadata: MetadataOptions,
    pub block_devices: Vec<super::change::BlockDevice>,
    pub tags: BTreeMap<String, String>,
    /// The tags the default version gives its instances.
    pub instance_tags: BTreeMap<String, String>,
}

/// A snapshot's `createVolumePermission` or an image's `launchPermission`
/// (DescribeSnapshotAttribute, DescribeImageAttribute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingState {
    pub kind: SharedKind,
    pub id: String,
    /// Shared with group `all`.
    pub public: bool,
    /// The accounts it is shared with.
    pub accounts: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// A node-side resource as described, for the rules' state checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeState {
    Subnet(SubnetState),
    Nodegroup(NodegroupState),
    Instance(InstanceState),
    LaunchTemplate(LaunchTemplateState),
    /// GetInstanceMetadataDefaults' account level; a field that is not set is None
    /// (`no-preference`).
    MetadataDefaults(MetadataDefaults),
    /// GetEbsEncryptionByDefault.
    EbsEncryptionByDefault {
        enabled: bool,
    },
    Sharing(SharingState),
}

impl NodeState {
    /// The resource as the change that made it so: a subnet as the attribute call that set its
    /// flag, a node group as its creation with its subnets known, an instance as its launch, a
    /// template's default version as its creation, the account defaults as the calls that set
    /// them, a shared resource as the call that shared it with all it is shared with.
    pub fn as_change(&self) -> NodeChange {
        match self {
            NodeState::Subnet(subnet) => NodeChange::Subnet(SubnetAttribute {
                subnet_id: subnet.subnet_id.clone(),
                map_public_ip_on_launch: Some(subnet.map_public_ip_on_launch),
            }),
            NodeState::Nodegroup(group) => NodeChange::Nodegroup(NodegroupSubnets {
                cluster: group.cluster.clone(),
                nodegroup: group.nodegroup.clone(),
                subnets: group.subnets.clone(),
                public_subnets: Some(group.public_subnets.clone()),
            }),
            NodeState::Instance(instance) => NodeChange::Instance(InstanceMetadata {
                instance_id: instance.instance_id.clone(),
                options: instance.metadata.clone(),
                launched: true,
            }),
            NodeState::LaunchTemplate(template) => NodeChange::LaunchTemplate(LaunchTemplateVersion {
                template_id: Some(template.template_id.clone()),
                template_name: template.template_name.clone(),
                version: Some(template.default_version.clone()),
                is_default: true,
                inherits_from: None,
                metadata: template.metadata.clone(),
                block_devices: template.block_devices.clone(),
                tags: template.tags.clone(),
                instance_tags: template.instance_tags.clone(),
            }),
            NodeState::MetadataDefaults(defaults) => NodeChange::MetadataDefaults(MetadataDefaults {
                http_tokens: Some(defaults.http_tokens.clone().unwrap_or(HttpTokens::NoPreference)),
                hop_limit: defaults.hop_limit,
            }),
            NodeState::EbsEncryptionByDefault { enabled } => NodeChange::EbsEncryptionByDefault { enabled: *enabled },
            NodeState::Sharing(shared) => NodeChange::Sharing(SharingChange {
                kind: shared.kind,
                id: shared.id.clone(),
                added: shared
                    .public
                    .then(|| Grantee::Group("all".to_owned()))
                    .into_iter()
                    .chain(shared.accounts.iter().cloned().map(Grantee::Account))
                    .collect(),
                removed: Vec::new(),
            }),
        }
    }
}
