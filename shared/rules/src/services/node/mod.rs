//! Nodes: the subnets nodes launch into, instance metadata (IMDS) of nodes, node launch templates,
//! the account's IMDS and EBS encryption defaults, and public snapshots and images.
//!
//! Scope (`scope: eks`): an instance is a node when its tags name a cluster
//! ([`node_cluster_from_tags`]); a subnet is a cluster's when a cluster's or node group's
//! configuration lists it or its tags name a cluster ([`subnet_cluster_from_tags`]); a launch
//! template is a node template when a node group uses it or its tags (or its instances' tags)
//! name a cluster. The adapter's look-up decides with these and reports the cluster in
//! `ResourceFacts::cluster`. Account defaults, snapshots and images belong to no cluster and are
//! judged in every scope.

pub mod actions;
pub mod change;
pub mod rules;
pub mod state;

pub use actions::NodeAction;
pub use change::{
    BlockDevice, Grantee, HttpTokens, InstanceMetadata, LaunchTemplateVersion, MetadataDefaults, MetadataOptions,
    NodeChange, NodegroupSubnets, SharedKind, SharingChange, SubnetAttribute, EC2_SOURCE,
};
pub use state::{InstanceState, LaunchTemplateState, NodeState, NodegroupState, SharingState, SubnetState};

use std::collections::BTreeMap;

use super::{Example, ServiceRules};
use crate::finding::{Action, Finding, Plan, ResourceKind};
use crate::policy::{EKS_CLUSTER_TAG, KUBERNETES_CLUSTER_TAG_PREFIX};
use crate::registry::{EventKey, RuleMeta};

/// The slice's name, shared with its adapter in `shared/aws`.
pub const SERVICE: &str = "node";

/// The resource a finding about the account's instance metadata defaults names.
pub const INSTANCE_METADATA_DEFAULTS: &str = "instance-metadata-defaults";
/// The resource a finding about the account's EBS encryption by default names.
pub const EBS_ENCRYPTION_BY_DEFAULT: &str = "ebs-encryption-by-default";

pub static SUBNET: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "subnet",
    scoped_by_cluster: true,
    confirmed_by_look_up: false,
    asff_type: "AwsEc2Subnet",
    arn: "arn:{partition}:ec2:{region}:{account}:subnet/{id}",
};
/// A managed node group, `{id}` being `cluster/nodegroup`, as the node slice judges it (its
/// subnets). A CreateNodegroup record does not say whether they auto-assign public IPs: the
/// look-up describes them (DescribeNodegroup, DescribeSubnets) and confirms the finding.
pub static NODEGROUP: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "node-group",
    scoped_by_cluster: true,
    confirmed_by_look_up: true,
    asff_type: "Other",
    arn: "arn:{partition}:eks:{region}:{account}:nodegroup/{id}",
};
pub static INSTANCE: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "instance",
    scoped_by_cluster: true,
    confirmed_by_look_up: false,
    asff_type: "AwsEc2Instance",
    arn: "arn:{partition}:ec2:{region}:{account}:instance/{id}",
};
pub static LAUNCH_TEMPLATE: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "launch-template",
    scoped_by_cluster: true,
    confirmed_by_look_up: false,
    asff_type: "AwsEc2LaunchTemplate",
    arn: "arn:{partition}:ec2:{region}:{account}:launch-template/{id}",
};
/// A setting of the account in a region: [`INSTANCE_METADATA_DEFAULTS`] or
/// [`EBS_ENCRYPTION_BY_DEFAULT`]. No tags, so no exemption tag either.
pub static ACCOUNT_SETTING: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "account-setting",
    scoped_by_cluster: false,
    confirmed_by_look_up: false,
    asff_type: "AwsAccount",
    arn: "AWS::::Account:{account}",
};
pub static SNAPSHOT: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "ebs-snapshot",
    scoped_by_cluster: false,
    confirmed_by_look_up: false,
    asff_type: "Other",
    arn: "arn:{partition}:ec2:{region}::snapshot/{id}",
};
pub static IMAGE: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "ami",
    scoped_by_cluster: false,
    confirmed_by_look_up: false,
    asff_type: "Other",
    arn: "arn:{partition}:ec2:{region}::image/{id}",
};

pub static SLICE: ServiceRules<NodeChange, NodeState> = ServiceRules {
    name: SERVICE,
    parse: NodeChange::from_event,
    rules: &[
        &rules::subnet_auto_public_ip::RULE,
        &rules::nodegroup_public_subnet::RULE,
        &rules::instance_imdsv1::RULE,
        &rules::instance_imds_hop_limit::RULE,
        &rules::launch_template_imdsv1::RULE,
        &rules::launch_template_ebs_unencrypted::RULE,
        &rules::imds_defaults_weakened::RULE,
        &rules::ebs_default_encryption_disabled::RULE,
        &rules::snapshot_public::RULE,
        &rules::ami_public::RULE,
    ],
    example,
    // Subnets, instances, launch templates and their default versions; the clusters and node
    // groups, to know which of them are a cluster's; the account defaults; the account's own
    // snapshots and images with their permissions.
    sweep_actions: &[
        "ec2:DescribeSubnets",
        "ec2:DescribeInstances",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceMetadataDefaults",
        "ec2:GetEbsEncryptionByDefault",
        "ec2:DescribeSnapshots",
        "ec2:DescribeSnapshotAttribute",
        "ec2:DescribeImages",
        "ec2:DescribeImageAttribute",
        "eks:ListClusters",
        "eks:DescribeCluster",
        "eks:ListNodegroups",
        "eks:DescribeNodegroup",
    ],
};

/// A sample finding on a real-shaped resource of the rule's kind.
fn example(meta: &RuleMeta) -> Example {
    let (resource, event_name, changed, restored, failure) = match meta.id {
        "subnet-auto-public-ip" => (
            "subnet-0123456789abcdef0",
            "ModifySubnetAttribute",
            "auto-assign public IPv4 addresses turned on",
            Some("turn off auto-assigned public IPv4 addresses on subnet subnet-0123456789abcdef0"),
            "ec2:ModifySubnetAttribute failed: UnauthorizedOperation",
        ),
        "nodegroup-public-subnet" => (
            "prod/workers",
            "CreateNodegroup",
            "node group workers launches nodes into subnets that auto-assign public IPv4 addresses: subnet-0123456789abcdef0",
            None,
            "eks:DescribeNodegroup failed: AccessDeniedException",
        ),
        "launch-template-imdsv1" => (
            "lt-0123456789abcdef0",
            "CreateLaunchTemplateVersion",
            "version 4 allows IMDSv1 (HttpTokens optional)",
            Some(
                "create a version of launch template lt-0123456789abcdef0 from version 4 with IMDSv2 tokens required \
                 (running nodes change at their node group's next update to it)",
            ),
            "ec2:CreateLaunchTemplateVersion failed: UnauthorizedOperation",
        ),
        "launch-template-ebs-unencrypted" => (
            "lt-0123456789abcdef0",
            "CreateLaunchTemplateVersion",
            "version 4 has an unencrypted EBS volume (/dev/xvda, Encrypted false)",
            None,
            "ec2:DescribeLaunchTemplates failed: UnauthorizedOperation",
        ),
        "imds-defaults-weakened" => (
            INSTANCE_METADATA_DEFAULTS,
            "ModifyInstanceMetadataDefaults",
            "account default HttpTokens set to optional",
            Some("require IMDSv2 tokens in the account's instance metadata defaults"),
            "ec2:ModifyInstanceMetadataDefaults failed: UnauthorizedOperation",
        ),
        "ebs-default-encryption-disabled" => (
            EBS_ENCRYPTION_BY_DEFAULT,
            "DisableEbsEncryptionByDefault",
            "EBS encryption by default turned off",
            Some("turn EBS encryption by default back on"),
            "ec2:EnableEbsEncryptionByDefault failed: UnauthorizedOperation",
        ),
        "snapshot-public" => (
            "snap-0123456789abcdef0",
            "ModifySnapshotAttribute",
            "create-volume permission given to group all (public)",
            Some("remove the public create-volume permission (group all) of snapshot snap-0123456789abcdef0"),
            "ec2:ModifySnapshotAttribute failed: UnauthorizedOperation",
        ),
        "ami-public" => (
            "ami-0123456789abcdef0",
            "ModifyImageAttribute",
            "launch permission given to group all (public)",
            Some("remove the public launch permission (group all) of image ami-0123456789abcdef0"),
            "ec2:ModifyImageAttribute failed: UnauthorizedOperation",
        ),
        // instance-imdsv1, instance-imds-hop-limit
        _ => (
            "i-0123456789abcdef0",
            "RunInstances",
            if meta.id == "instance-imds-hop-limit" {
                "launched with IMDS hop limit 2 (above 1)"
            } else {
                "launched with IMDSv1 allowed (HttpTokens optional)"
            },
            Some(if meta.id == "instance-imds-hop-limit" {
                "set the IMDS hop limit to 1 on instance i-0123456789abcdef0"
            } else {
                "require IMDSv2 tokens on instance i-0123456789abcdef0"
            }),
            "ec2:ModifyInstanceMetadataOptions failed: UnauthorizedOperation",
        ),
    };
    Example {
        resource: resource.to_owned(),
        event_name,
        changed: changed.to_owned(),
        restored: restored.map(str::to_owned),
        failure: failure.to_owned(),
    }
}

/// Tags that name the cluster of a node or of a node launch template: `eks:cluster-name` (EKS
/// managed node groups and the templates EKS makes for them), `eks:eks-cluster-name` (Karpenter
/// v1 tags every instance it launches with it), `karpenter.k8s.aws/cluster` (Karpenter's tag on
/// the launch templates it makes), `aws:eks:cluster-name` (EKS's own resources) and
/// `kubernetes.io/cluster/<name>` (self-managed nodes, Karpenter, eksctl). Not
/// `karpenter.sh/discovery`: a selector users put on subnets and security groups, by convention only.
pub const NODE_CLUSTER_TAGS: &[&str] =
    &["eks:cluster-name", "eks:eks-cluster-name", "karpenter.k8s.aws/cluster", EKS_CLUSTER_TAG];

/// The tag Karpenter's getting-started setup puts on the subnets (and groups) it launches nodes
/// into, valued with the cluster's name.
pub const KARPENTER_DISCOVERY_TAG: &str = "karpenter.sh/discovery";

/// The cluster an instance's or launch template's tags say it belongs to.
pub fn node_cluster_from_tags(tags: &BTreeMap<String, String>) -> Option<String> {
    NODE_CLUSTER_TAGS
        .iter()
        .find_map(|key| tags.get(*key).filter(|name| !name.trim().is_empty()).cloned())
        .or_else(|| kubernetes_cluster(tags))
}

/// The cluster a subnet's tags say it serves: `kubernetes.io/cluster/<name>`, or Karpenter's
/// discovery tag. (A subnet listed by a cluster's or node group's configuration is the
/// cluster's too; the adapter knows those.)
pub fn subnet_cluster_from_tags(tags: &BTreeMap<String, String>) -> Option<String> {
    kubernetes_cluster(tags)
        .or_else(|| tags.get(KARPENTER_DISCOVERY_TAG).filter(|name| !name.trim().is_empty()).cloned())
}

/// The cluster a launch template's own tags, or the tags it gives its instances, name. (A
/// template a node group uses is a node template too; the adapter knows those.)
pub fn launch_template_cluster_from_tags(
    tags: &BTreeMap<String, String>,
    instance_tags: &BTreeMap<String, String>,
) -> Option<String> {
    node_cluster_from_tags(tags).or_else(|| node_cluster_from_tags(instance_tags))
}

fn kubernetes_cluster(tags: &BTreeMap<String, String>) -> Option<String> {
    tags.keys()
        .find_map(|key| key.strip_prefix(KUBERNETES_CLUSTER_TAG_PREFIX))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// Node-side EC2 events.
pub(crate) const fn ec2(name: &'static str) -> EventKey {
    EventKey { source: EC2_SOURCE, name }
}

/// RunInstances and ModifyInstanceMetadataOptions: the instance metadata rules' events.
pub(crate) const INSTANCE_METADATA_EVENTS: &[EventKey] = &[ec2("RunInstances"), ec2("ModifyInstanceMetadataOptions")];

/// CreateLaunchTemplate and CreateLaunchTemplateVersion.
pub(crate) const LAUNCH_TEMPLATE_EVENTS: &[EventKey] =
    &[ec2("CreateLaunchTemplate"), ec2("CreateLaunchTemplateVersion")];

/// Look a launch template up (tags, default version, the node groups that use it) to decide it
/// is a node template.
pub(crate) const LAUNCH_TEMPLATE_LOOK_UP: &[&str] = &[
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeLaunchTemplateVersions",
    "eks:ListClusters",
    "eks:ListNodegroups",
    "eks:DescribeNodegroup",
];

/// A finding of `kind` on `resource` restored by `actions`.
pub(crate) fn restore_finding(
    meta: &'static RuleMeta,
    kind: &'static ResourceKind,
    resource: &str,
    changed: Vec<String>,
    actions: Vec<NodeAction>,
) -> Finding {
    Finding {
        rule: meta,
        kind,
        resource: resource.to_owned(),
        changed,
        plan: Plan { actions: actions.into_iter().map(Action::from).collect(), manual: None },
    }
}

/// A finding that cannot be restored in place: `manual` says what a person must do.
pub(crate) fn manual_finding(
    meta: &'static RuleMeta,
    kind: &'static ResourceKind,
    resource: &str,
    changed: Vec<String>,
    manual: String,
) -> Finding {
    Finding {
        rule: meta,
        kind,
        resource: resource.to_owned(),
        changed,
        plan: Plan { actions: Vec::new(), manual: Some(manual) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect()
    }

    #[test]
    fn nodes_are_known_by_managed_node_group_karpenter_and_kubernetes_tags() {
        for (key, value) in [
            ("eks:cluster-name", "prod"),
            ("eks:eks-cluster-name", "prod"),
            ("karpenter.k8s.aws/cluster", "prod"),
            ("aws:eks:cluster-name", "prod"),
            ("kubernetes.io/cluster/prod", "owned"),
        ] {
            assert_eq!(node_cluster_from_tags(&tags(&[(key, value)])).as_deref(), Some("prod"), "{key}");
        }
        assert_eq!(node_cluster_from_tags(&tags(&[("karpenter.sh/discovery", "prod")])), None);
        assert_eq!(node_cluster_from_tags(&tags(&[("eks:cluster-name", " "), ("Name", "web")])), None);
    }

    #[test]
    fn subnets_are_known_by_kubernetes_and_karpenter_discovery_tags() {
        assert_eq!(
            subnet_cluster_from_tags(&tags(&[("kubernetes.io/cluster/prod", "shared")])).as_deref(),
            Some("prod")
        );
        assert_eq!(subnet_cluster_from_tags(&tags(&[("karpenter.sh/discovery", "prod")])).as_deref(), Some("prod"));
        assert_eq!(subnet_cluster_from_tags(&tags(&[("kubernetes.io/role/elb", "1")])), None);
    }

    #[test]
    fn a_template_is_a_node_template_by_its_own_tags_or_its_instances() {
        let none = BTreeMap::new();
        let instances = tags(&[("kubernetes.io/cluster/prod", "owned")]);
        assert_eq!(launch_template_cluster_from_tags(&none, &instances).as_deref(), Some("prod"));
        assert_eq!(launch_template_cluster_from_tags(&none, &none), None);
    }

    #[test]
    fn every_rule_has_an_example_of_its_own_kind() {
        for rule in SLICE.rules {
            let example = example(&rule.meta);
            assert!(!example.resource.is_empty() && !example.changed.is_empty(), "{}", rule.id);
            assert_eq!(
                example.restored.is_none(),
                rule.id.contains("nodegroup") || rule.id.contains("ebs-unencrypted"),
                "{}",
                rule.id
            );
        }
    }
}
