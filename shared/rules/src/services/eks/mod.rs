//! EKS: endpoint posture, control-plane logging, secrets encryption, nodegroup SSH, cluster-admin
//! access policies.

pub mod actions;
pub mod change;
pub mod rules;
pub mod state;

pub use actions::EksAction;
pub use change::{
    AccessPolicyAssociation, EksChange, EndpointAccess, LoggingChange, NodegroupAccess, EKS_SOURCE, WORLD_IPV4,
};
pub use state::{ClusterState, EksState, EndpointState};

use super::{Example, ServiceRules};
use crate::config::Config;
use crate::finding::{Finding, Plan, ResourceKind};
use crate::registry::{EventKey, RuleMeta};

/// The slice's name, shared with its adapter in `shared/aws`.
pub const SERVICE: &str = "eks";

pub static CLUSTER: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "eks-cluster",
    scoped_by_cluster: false,
    confirmed_by_look_up: false,
    asff_type: "AwsEksCluster",
    arn: "arn:{partition}:eks:{region}:{account}:cluster/{id}",
};
/// A managed nodegroup, `{id}` being `cluster/nodegroup` (ASFF has no type of its own for one).
pub static NODEGROUP: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "eks-nodegroup",
    scoped_by_cluster: false,
    confirmed_by_look_up: false,
    asff_type: "Other",
    arn: "arn:{partition}:eks:{region}:{account}:nodegroup/{id}",
};

pub static SLICE: ServiceRules<EksChange, EksState> = ServiceRules {
    name: SERVICE,
    parse: EksChange::from_event,
    rules: &[
        &rules::eks_public_endpoint::RULE,
        &rules::eks_public_endpoint_open_cidr::RULE,
        &rules::eks_private_endpoint_disabled::RULE,
        &rules::eks_control_plane_logging_disabled::RULE,
        &rules::eks_secrets_encryption_missing::RULE,
        &rules::eks_nodegroup_ssh_open::RULE,
        &rules::eks_cluster_admin_access_entry::RULE,
    ],
    example,
    // Clusters, their node groups, and their access entries with the policies associated.
    sweep_actions: &[
        "eks:ListClusters",
        "eks:DescribeCluster",
        "eks:ListNodegroups",
        "eks:DescribeNodegroup",
        "eks:ListAccessEntries",
        "eks:ListAssociatedAccessPolicies",
    ],
};

/// A sample change to cluster `prod`, restored to the private-only posture where the rule can be.
fn example(meta: &RuleMeta) -> Example {
    let one_way = [rules::eks_nodegroup_ssh_open::RULE.id, rules::eks_secrets_encryption_missing::RULE.id];
    Example {
        resource: "prod".to_owned(),
        event_name: "UpdateClusterConfig",
        changed: format!("(sample) {}", meta.title.to_lowercase()),
        restored: (!one_way.contains(&meta.id))
            .then(|| "set private endpoint on, public endpoint off for cluster prod".to_owned()),
        failure: "eks:UpdateClusterConfig failed: AccessDeniedException".to_owned(),
    }
}

/// EKS cluster configuration events.
pub(crate) const CLUSTER_CONFIG_EVENTS: &[EventKey] = &[
    EventKey { source: EKS_SOURCE, name: "CreateCluster" },
    EventKey { source: EKS_SOURCE, name: "UpdateClusterConfig" },
];

/// Describe first (already safe = no call; tags for exemptions), then one update per type.
pub(crate) const UPDATE_CONFIG_ACTIONS: &[&str] = &["eks:DescribeCluster", "eks:UpdateClusterConfig"];

/// The cluster and endpoint state a cluster event leaves, when it says.
pub(crate) fn cluster_endpoint(change: &EksChange) -> Option<(&str, &EndpointAccess)> {
    match change {
        EksChange::Cluster { cluster, endpoint: Some(endpoint), .. } => Some((cluster, endpoint)),
        _ => None,
    }
}

/// The configured endpoint posture as a restore: private on; public off, or, when
/// `eks-public-endpoint` lists `public_access_cidrs`, public limited to them.
pub(crate) fn endpoint_posture(cluster: &str, config: &Config) -> EksAction {
    let rule = &rules::eks_public_endpoint::RULE;
    let allowed = &config.options::<rules::eks_public_endpoint::PublicEndpointOptions>(rule).public_access_cidrs;
    let access = if allowed.is_empty() {
        EndpointAccess { private: Some(true), public: Some(false), public_cidrs: None }
    } else {
        let cidrs = allowed.iter().map(|cidr| cidr.as_str().to_owned()).collect();
        EndpointAccess { private: Some(true), public: Some(true), public_cidrs: Some(cidrs) }
    };
    EksAction::UpdateEndpointAccess { cluster: cluster.to_owned(), access }
}

/// A finding about a cluster whose plan is this one action.
pub(crate) fn cluster_finding(meta: &'static RuleMeta, cluster: &str, changed: String, action: EksAction) -> Finding {
    Finding {
        rule: meta,
        kind: &CLUSTER,
        resource: cluster.to_owned(),
        changed: vec![changed],
        plan: Plan { actions: vec![action.into()], manual: None },
    }
}

/// A finding that cannot be restored in place: `manual` says what a person must do.
pub(crate) fn manual_finding(meta: &'static RuleMeta, resource: &str, changed: String, manual: String) -> Finding {
    Finding {
        rule: meta,
        kind: &CLUSTER,
        resource: resource.to_owned(),
        changed: vec![changed],
        plan: Plan { actions: Vec::new(), manual: Some(manual) },
    }
}
