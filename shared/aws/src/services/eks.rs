//! The EKS adapter: cluster tags and state, endpoint posture, logging and encryption restored in
//! one UpdateClusterConfig per update type (waiting for a busy cluster until shortly before the
//! deadline), cluster-admin access policies removed unless that would lock everyone out. A sweep
//! describes every cluster, nodegroup and access-policy association, at most a bounded number of
//! calls at once.

use std::time::{Duration, Instant};

use aws_sdk_eks::types::{
    Cluster, EncryptionConfig, LogSetup, LogType, Logging, Nodegroup, Provider, VpcConfigRequest,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use aws_sdk_eks::operation::associate_encryption_config::AssociateEncryptionConfigError;
use aws_sdk_eks::operation::update_cluster_config::UpdateClusterConfigError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use snapback_rules::policy::same_principal;
use snapback_rules::services::eks::rules::eks_cluster_admin_access_entry::ADMIN_POLICIES;
use snapback_rules::services::eks::{
    AccessPolicyAssociation, ClusterState, EksAction, EksState, EndpointState, NodegroupAccess, CLUSTER, NODEGROUP,
    SERVICE,
};
use snapback_rules::{Action, ResourceFacts, ResourceKind};

use crate::adapter::{typed, ActionResult, BoxFuture, Described, Found, LookedUp, ServiceAdapter};
use crate::error::{is_unserved, AwsError};
use crate::sweep::{each, sort_found, CallBound, SweepContext, SWEEP_CONCURRENCY};

/// What an update call answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    Started,
    /// "No changes needed": the cluster already had it.
    NoChange,
}

/// How long to wait for a busy EKS cluster: doubling waits from `first_wait` up to `max_wait`,
/// giving up (with a retryable error) when the next wait would end within `margin` of the
/// invocation's deadline.
#[derive(Debug, Clone, Copy)]
pub struct BusyPolicy {
    pub first_wait: Duration,
    pub max_wait: Duration,
    pub margin: Duration,
}

impl Default for BusyPolicy {
    fn default() -> Self {
        BusyPolicy {
            first_wait: Duration::from_secs(2),
            max_wait: Duration::from_secs(20),
            margin: Duration::from_secs(5),
        }
    }
}

/// The EKS slice over the EKS API.
#[derive(Clone, Debug)]
pub struct EksApi {
    client: aws_sdk_eks::Client,
    busy: BusyPolicy,
    /// Principals whose access snapback never removes (its own roles).
    protected_principals: Vec<String>,
    /// Calls a sweep (or an access-entry listing) has in flight at once.
    concurrency: usize,
}

impl EksApi {
    pub fn new(client: aws_sdk_eks::Client) -> Self {
        EksApi { client, busy: BusyPolicy::default(), protected_principals: Vec::new(), concurrency: SWEEP_CONCURRENCY }
    }

    /// At most `calls` EKS calls in flight during a sweep (default [`SWEEP_CONCURRENCY`]).
    pub fn with_sweep_concurrency(mut self, calls: usize) -> Self {
        self.concurrency = calls.max(1);
        self
    }

    pub fn with_busy_policy(mut self, busy: BusyPolicy) -> Self {
        self.busy = busy;
        self
    }

    pub fn protecting(mut self, principals: &[String]) -> Self {
        self.protected_principals = principals.to_vec();
        self
    }
}

/// How an update call ended, from the typed error of its operation: EKS answers an update that
/// changes nothing with an InvalidParameterException, a busy cluster with ResourceInUseException.
fn update_result<E>(
    operation: &'static str,
    result: Result<(), SdkError<E, HttpResponse>>,
    in_use: fn(&E) -> bool,
    invalid: fn(&E) -> bool,
) -> Result<UpdateOutcome, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Err(error) = result else { return Ok(UpdateOutcome::Started) };
    if let Some(service) = error.as_service_error() {
        if in_use(service) {
            return Err(AwsError::Busy { operation, message: service.to_string() });
        }
        let text = service.to_string().to_ascii_lowercase();
        if invalid(service) && (text.contains("no changes needed") || text.contains("already")) {
            return Ok(UpdateOutcome::NoChange);
        }
    }
    Err(AwsError::from_sdk(operation, error))
}

impl EksApi {
    /// The cluster, or None when it does not exist.
    pub async fn describe_cluster(&self, name: &str) -> Result<Option<ClusterState>, AwsError> {
        let output = match self.client.describe_cluster().name(name).send().await {
            Ok(output) => output,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                return Ok(None)
            }
            Err(error) => return Err(AwsError::from_sdk("eks:DescribeCluster", error)),
        };
        Ok(output.cluster().map(|cluster| cluster_state(name, cluster)))
    }

    /// Endpoint access in one UpdateClusterConfig. A busy cluster is [`AwsError::Busy`].
    pub async fn update_endpoint_access(
        &self,
        name: &str,
        endpoint: &EndpointState,
    ) -> Result<UpdateOutcome, AwsError> {
        let mut vpc = VpcConfigRequest::builder()
            .endpoint_public_access(endpoint.public)
            .endpoint_private_access(endpoint.private);
        if endpoint.public && !endpoint.public_cidrs.is_empty() {
            vpc = vpc.set_public_access_cidrs(Some(endpoint.public_cidrs.clone()));
        }
        let result = self.client.update_cluster_config().name(name).resources_vpc_config(vpc.build()).send().await;
        update_result(
            "eks:UpdateClusterConfig",
            result.map(|_| ()),
            UpdateClusterConfigError::is_resource_in_use_exception,
            UpdateClusterConfigError::is_invalid_parameter_exception,
        )
    }

    /// Turns these log types on, in an UpdateClusterConfig of its own.
    pub async fn enable_logging(&self, name: &str, types: &[String]) -> Result<UpdateOutcome, AwsError> {
        let setup = LogSetup::builder()
            .set_types(Some(types.iter().map(|t| LogType::from(t.as_str())).collect()))
            .enabled(true)
            .build();
        let logging = Logging::builder().cluster_logging(setup).build();
        let result = self.client.update_cluster_config().name(name).logging(logging).send().await;
        update_result(
            "eks:UpdateClusterConfig",
            result.map(|_| ()),
            UpdateClusterConfigError::is_resource_in_use_exception,
            UpdateClusterConfigError::is_invalid_parameter_exception,
        )
    }

    pub async fn associate_encryption_config(&self, name: &str, key_arn: &str) -> Result<UpdateOutcome, AwsError> {
        // `resources` is deprecated in the model but still what the API documents for secrets.
        #[allow(deprecated)]
        let config = EncryptionConfig::builder()
            .resources("secrets")
            .provider(Provider::builder().key_arn(key_arn).build())
            .build();
        let result =
            self.client.associate_encryption_config().cluster_name(name).encryption_config(config).send().await;
        update_result(
            "eks:AssociateEncryptionConfig",
            result.map(|_| ()),
            AssociateEncryptionConfigError::is_resource_in_use_exception,
            AssociateEncryptionConfigError::is_invalid_parameter_exception,
        )
    }
}

impl EksApi {
    /// Principals holding one of `policies` at cluster scope.
    pub async fn principals_with_policies(&self, cluster: &str, policies: &[&str]) -> Result<Vec<String>, AwsError> {
        let bound = CallBound::new(self.concurrency);
        let Some(associations) = self.access_policies(cluster, &bound).await? else {
            return Err(AwsError::permanent("eks:ListAccessEntries", "the endpoint does not serve EKS access entries"));
        };
        let mut holders: Vec<String> = Vec::new();
        for association in associations {
            let name = association.policy_arn.rsplit('/').next().unwrap_or_default();
            if association.scope == "cluster"
                && policies.contains(&name)
                && !holders.contains(&association.principal_arn)
            {
                holders.push(association.principal_arn);
            }
        }
        Ok(holders)
    }

    /// Every access policy associated with an access entry of `cluster`, the principals' policies
    /// listed concurrently within `bound`. A cluster that has no access entries (CONFIG_MAP-only
    /// authentication, which EKS answers with InvalidRequestException) or no longer exists has
    /// none; None when the endpoint does not serve the access-entry API at all.
    async fn access_policies(
        &self,
        cluster: &str,
        bound: &CallBound,
    ) -> Result<Option<Vec<AccessPolicyAssociation>>, AwsError> {
        let mut principals = Vec::new();
        let mut pages = self.client.list_access_entries().cluster_name(cluster).into_paginator().send();
        while let Some(page) = bound.call(pages.next()).await {
            match page {
                Ok(page) => principals.extend(page.access_entries().iter().cloned()),
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_invalid_request_exception() || e.is_resource_not_found_exception()) =>
                {
                    return Ok(Some(Vec::new()))
                }
                Err(error) if is_unserved(&error) => return Ok(None),
                Err(error) => return Err(AwsError::from_sdk("eks:ListAccessEntries", error)),
            }
        }
        let per_principal = each(principals, |principal| self.associated_policies(cluster, principal, bound)).await?;
        Ok(Some(per_principal.into_iter().flatten().collect()))
    }

    /// The access policies associated with one principal's access entry (none once it is gone).
    async fn associated_policies(
        &self,
        cluster: &str,
        principal: String,
        bound: &CallBound,
    ) -> Result<Vec<AccessPolicyAssociation>, AwsError> {
        let mut associations = Vec::new();
        let mut pages = self
            .client
            .list_associated_access_policies()
            .cluster_name(cluster)
            .principal_arn(&principal)
            .into_paginator()
            .send();
        while let Some(page) = bound.call(pages.next()).await {
            let page = match page {
                Ok(page) => page,
                // The entry (or its cluster) was deleted after it was listed.
                Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                    return Ok(Vec::new())
                }
                Err(error) => return Err(AwsError::from_sdk("eks:ListAssociatedAccessPolicies", error)),
            };
            associations.extend(page.associated_access_policies().iter().filter_map(|policy| {
                Some(AccessPolicyAssociation {
                    cluster: cluster.to_owned(),
                    principal_arn: principal.clone(),
                    policy_arn: policy.policy_arn()?.to_owned(),
                    // As the change side reads AssociateAccessPolicy: lower case, cluster when unsaid.
                    scope: policy
                        .access_scope()
                        .and_then(|scope| scope.r#type())
                        .map_or_else(|| "cluster".to_owned(), |kind| kind.as_str().to_ascii_lowercase()),
                })
            }));
        }
        Ok(associations)
    }

    /// Removes the policy from the principal; false when it was not associated.
    pub async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy_arn: &str,
    ) -> Result<bool, AwsError> {
        let request = self
            .client
            .disassociate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal_arn)
            .policy_arn(policy_arn);
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(false),
            Err(error) => Err(AwsError::from_sdk("eks:DisassociateAccessPolicy", error)),
        }
    }
}

impl ServiceAdapter for EksApi {
    fn service(&self) -> &'static str {
        SERVICE
    }

    /// Every EKS resource's facts are its cluster's: a cluster by its name, a nodegroup or an
    /// access-policy association by the cluster its id starts with (`cluster/...`). Only a
    /// cluster's own look-up hands its description on to the actions.
    fn look_up<'a>(
        &'a self,
        kind: &'static ResourceKind,
        resource: &'a str,
        _find_cluster: bool,
    ) -> BoxFuture<'a, Result<Option<LookedUp>, AwsError>> {
        Box::pin(async move {
            let cluster = owning_cluster(resource);
            let Some(facts) = self.describe_cluster(cluster).await? else { return Ok(None) };
            let is_cluster = *kind == CLUSTER && cluster == resource;
            Ok(Some(LookedUp {
                facts: ResourceFacts { tags: facts.tags.clone(), cluster: Some(facts.name.clone()) },
                described: is_cluster.then(|| Box::new(facts) as Described),
            }))
        })
    }

    fn run<'a>(
        &'a self,
        action: &'a Action,
        described: Option<Described>,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<ActionResult, AwsError>> {
        Box::pin(async move {
            let described = described.and_then(|any| any.downcast::<ClusterState>().ok()).map(|facts| *facts);
            match typed::<EksAction>(action, SERVICE)? {
                EksAction::UpdateEndpointAccess { cluster, access } => {
                    self.restore_cluster(cluster, deadline, described, |facts| {
                        let target = facts.endpoint.with(access);
                        (target != facts.endpoint).then_some(ClusterUpdate::Endpoint(target))
                    })
                    .await
                }
                EksAction::EnableLogging { cluster, types } => {
                    self.restore_cluster(cluster, deadline, described, |facts| {
                        let off: Vec<String> =
                            types.iter().filter(|kind| !facts.logging_enabled.contains(*kind)).cloned().collect();
                        (!off.is_empty()).then_some(ClusterUpdate::Logging(off))
                    })
                    .await
                }
                EksAction::AssociateEncryptionConfig { cluster, key_arn } => {
                    self.restore_cluster(cluster, deadline, described, |facts| {
                        (!facts.secrets_encrypted).then(|| ClusterUpdate::Encryption(key_arn.clone()))
                    })
                    .await
                }
                EksAction::DisassociateAccessPolicy { cluster, principal_arn, policy_arn } => {
                    self.remove_admin(cluster, principal_arn, policy_arn).await
                }
            }
        })
    }

    fn sweep<'a>(&'a self, context: &'a SweepContext) -> BoxFuture<'a, Result<Vec<Found>, AwsError>> {
        Box::pin(self.sweep_all(context))
    }
}

impl EksApi {
    /// Every cluster with its configuration, every managed nodegroup with its remote access and
    /// every access policy associated with an access entry, sorted by resource. Clusters, their
    /// nodegroups and their principals are looked at concurrently, at most `concurrency` calls at once.
    async fn sweep_all(&self, context: &SweepContext) -> Result<Vec<Found>, AwsError> {
        let bound = CallBound::new(self.concurrency);
        let clusters = context.clusters(&self.client, self.concurrency).await?;
        // The node groups as the sweep described them for every slice, then each cluster's access entries.
        let nodegroups = context.nodegroups(&self.client, self.concurrency).await?;
        let per_cluster = each(clusters.iter(), |cluster| self.sweep_cluster(cluster, &bound)).await?;
        let mut found: Vec<Found> = per_cluster.into_iter().flatten().collect();
        found.extend(nodegroups.iter().filter_map(nodegroup_found));
        sort_found(&mut found);
        Ok(found)
    }

    /// One described cluster, its nodegroups and its access-policy associations.
    async fn sweep_cluster(&self, described: &Cluster, bound: &CallBound) -> Result<Vec<Found>, AwsError> {
        let Some(name) = described.name() else { return Ok(Vec::new()) };
        let cluster = cluster_state(name, described);
        let facts = ResourceFacts { tags: cluster.tags.clone(), cluster: Some(name.to_owned()) };
        let associations = self.access_policies(name, bound).await?.unwrap_or_else(|| {
            tracing::warn!(cluster = name, "the endpoint does not serve EKS access entries; none swept");
            Vec::new()
        });
        let mut found = vec![Found {
            kind: &CLUSTER,
            resource: name.to_owned(),
            facts: Some(facts.clone()),
            state: Box::new(EksState::Cluster(cluster)),
        }];
        // One per association, named after it; its findings are about the cluster, whose facts it carries.
        found.extend(associations.into_iter().map(|association| Found {
            kind: &CLUSTER,
            resource: association_id(&association),
            facts: Some(facts.clone()),
            state: Box::new(EksState::AccessPolicy(association)),
        }));
        Ok(found)
    }

    /// Describe, work out what is still needed, update; a busy cluster (CREATING, UPDATING, a
    /// 409) is waited for until shortly before `deadline`.
    async fn restore_cluster(
        &self,
        cluster: &str,
        deadline: Instant,
        mut described: Option<ClusterState>,
        needed: impl Fn(&ClusterState) -> Option<ClusterUpdate>,
    ) -> Result<ActionResult, AwsError> {
        let mut wait = self.busy.first_wait;
        loop {
            // The caller's description once, then fresh ones.
            let facts = match described.take() {
                Some(facts) => Some(facts),
                None => self.describe_cluster(cluster).await?,
            };
            let Some(facts) = facts else {
                return Ok(ActionResult::NotApplicable(format!("cluster {cluster} no longer exists")));
            };
            let Some(update) = needed(&facts) else { return Ok(ActionResult::AlreadySafe) };
            let attempt = if facts.is_busy() {
                Err(AwsError::Busy {
                    operation: "eks:DescribeCluster",
                    message: format!("cluster {} is {}", facts.name, facts.status),
                })
            } else {
                match &update {
                    ClusterUpdate::Endpoint(target) => self.update_endpoint_access(cluster, target).await,
                    ClusterUpdate::Logging(types) => self.enable_logging(cluster, types).await,
                    ClusterUpdate::Encryption(key_arn) => self.associate_encryption_config(cluster, key_arn).await,
                }
            };
            match attempt {
                Ok(UpdateOutcome::Started) => return Ok(ActionResult::Restored),
                Ok(UpdateOutcome::NoChange) => return Ok(ActionResult::AlreadySafe),
                Err(AwsError::Busy { .. }) => self.wait_for(cluster, &mut wait, deadline).await?,
                Err(error) => return Err(error),
            }
        }
    }

    async fn remove_admin(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy_arn: &str,
    ) -> Result<ActionResult, AwsError> {
        if self.protected_principals.iter().any(|own| same_principal(own, principal_arn)) {
            return Ok(ActionResult::Refused(format!("{principal_arn} is snapback's own role")));
        }
        let admins = self.principals_with_policies(cluster, ADMIN_POLICIES).await?;
        if !admins.iter().any(|admin| admin != principal_arn) {
            return Ok(ActionResult::Refused(format!(
                "{principal_arn} is the last cluster admin of {cluster}; removing it would lock everyone out"
            )));
        }
        Ok(match self.disassociate_access_policy(cluster, principal_arn, policy_arn).await? {
            true => ActionResult::Restored,
            false => ActionResult::AlreadySafe,
        })
    }

    /// Sleeps before the next attempt, or gives up with a retryable error when the deadline is near.
    async fn wait_for(&self, cluster: &str, wait: &mut Duration, deadline: Instant) -> Result<(), AwsError> {
        if Instant::now() + *wait + self.busy.margin > deadline {
            return Err(AwsError::Busy {
                operation: "eks:UpdateClusterConfig",
                message: format!("cluster {cluster} stayed busy until shortly before the invocation's deadline"),
            });
        }
        tracing::info!(cluster, wait_ms = wait.as_millis() as u64, "cluster busy, waiting before the next attempt");
        tokio::time::sleep(*wait).await;
        *wait = (*wait * 2).min(self.busy.max_wait);
        Ok(())
    }
}

/// Every cluster's name in the account and region, every page.
pub(crate) async fn cluster_names(client: &aws_sdk_eks::Client) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut pages = client.list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| AwsError::from_sdk("eks:ListClusters", error))?;
        names.extend(page.clusters().iter().cloned());
    }
    Ok(names)
}

/// A node group as the sweep described it, with its remote access. Its findings are about the
/// cluster: its facts come from the cluster's (the same sweep describes the cluster).
fn nodegroup_found(nodegroup: &Nodegroup) -> Option<Found> {
    let (cluster, name) = (nodegroup.cluster_name()?, nodegroup.nodegroup_name()?);
    let remote = nodegroup.remote_access();
    let state = EksState::Nodegroup(NodegroupAccess {
        cluster: cluster.to_owned(),
        nodegroup: name.to_owned(),
        ssh_key: remote.and_then(|remote| remote.ec2_ssh_key()).filter(|key| !key.is_empty()).map(str::to_owned),
        source_security_groups: remote.map(|remote| remote.source_security_groups().to_vec()).unwrap_or_default(),
    });
    Some(Found { kind: &NODEGROUP, resource: format!("{cluster}/{name}"), state: Box::new(state), facts: None })
}

/// What the rules read of a described cluster.
fn cluster_state(name: &str, cluster: &Cluster) -> ClusterState {
    let vpc = cluster.resources_vpc_config();
    ClusterState {
        name: name.to_owned(),
        status: cluster.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        tags: cluster.tags().map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        endpoint: EndpointState {
            public: vpc.map(|v| v.endpoint_public_access()).unwrap_or(true),
            private: vpc.map(|v| v.endpoint_private_access()).unwrap_or(false),
            public_cidrs: vpc.map(|v| v.public_access_cidrs().to_vec()).unwrap_or_default(),
        },
        logging_enabled: cluster
            .logging()
            .map(|logging| {
                logging
                    .cluster_logging()
                    .iter()
                    .filter(|setup| setup.enabled() == Some(true))
                    .flat_map(|setup| setup.types().iter().map(|t| t.as_str().to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        // EKS now encrypts API data with an AWS-owned key by default; what matters is
        // envelope encryption with a KMS key of the account's own.
        secrets_encrypted: cluster
            .encryption_config()
            .iter()
            .any(|config| config.provider().and_then(|p| p.key_arn()).is_some_and(|arn| !arn.is_empty())),
    }
}

/// The cluster an EKS resource id belongs to: the id itself for a cluster, the part before the
/// first `/` for a nodegroup (`cluster/nodegroup`) or an association (cluster names have no `/`).
fn owning_cluster(resource: &str) -> &str {
    resource.split_once('/').map_or(resource, |(cluster, _)| cluster)
}

/// A swept association's id: `cluster/principal-arn/policy-name`, one per principal and policy.
fn association_id(association: &AccessPolicyAssociation) -> String {
    let policy = association.policy_arn.rsplit('/').next().unwrap_or_default();
    format!("{}/{}/{policy}", association.cluster, association.principal_arn)
}

/// What a cluster still needs, worked out from the cluster as it is now.
enum ClusterUpdate {
    Endpoint(EndpointState),
    /// The log types still off.
    Logging(Vec<String>),
    Encryption(String),
}
