//! The node adapter: subnets, node instances, node launch templates, the account's IMDS and EBS
//! encryption defaults, and the account's own snapshots and images, over the EC2 API (and EKS,
//! for the clusters and node groups that make a subnet or a template a cluster's).
//!
//! moto lacks GetInstanceMetadataDefaults and ModifyInstanceMetadataDefaults (it answers a 500
//! HTML page): a sweep leaves the defaults out with a warning when the endpoint does not serve
//! them, and the restore is tested with aws-smithy-mocks (`tests/node_defaults_mocked.rs`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, HttpTokensState, ImageAttributeName, Instance, InstanceMetadataEndpointState,
    LaunchPermission, LaunchPermissionModifications, LaunchTemplateHttpTokensState,
    LaunchTemplateInstanceMetadataEndpointState, LaunchTemplateVersion, MetadataDefaultHttpTokensState, OperationType,
    PermissionGroup, ResourceType, SnapshotAttributeName, Subnet, Tag,
};
use aws_sdk_eks::types::{Cluster, Nodegroup};
use snapback_rules::policy::KUBERNETES_CLUSTER_TAG_PREFIX;
use snapback_rules::services::node::{
    launch_template_cluster_from_tags, node_cluster_from_tags, subnet_cluster_from_tags, BlockDevice, HttpTokens,
    InstanceState, LaunchTemplateState, MetadataDefaults, MetadataOptions, NodeAction, NodeState, NodegroupState,
    SharedKind, SharingState, SubnetState, ACCOUNT_SETTING, EBS_ENCRYPTION_BY_DEFAULT, IMAGE, INSTANCE,
    INSTANCE_METADATA_DEFAULTS, KARPENTER_DISCOVERY_TAG, LAUNCH_TEMPLATE, NODEGROUP, NODE_CLUSTER_TAGS, SERVICE,
    SNAPSHOT, SUBNET,
};
use snapback_rules::{Action, ResourceFacts, ResourceKind};

use crate::adapter::{typed, ActionResult, BoxFuture, Described, Found, LookedUp, ServiceAdapter};
use crate::error::{error_code, is_unserved, AwsError};
use crate::services::eks::cluster_names;
use crate::sweep::{describe_nodegroups, each, sort_found, CallBound, SweepContext, SWEEP_CONCURRENCY};

/// Values in one EC2 filter: AWS takes at most 200.
const FILTER_VALUES: usize = 200;

/// Instance states whose metadata options matter: everything not terminated or being terminated.
const LIVE_STATES: &[&str] = &["pending", "running", "stopping", "stopped"];

/// The node slice over the EC2 and EKS APIs.
#[derive(Clone, Debug)]
pub struct Ec2Nodes {
    client: aws_sdk_ec2::Client,
    eks: aws_sdk_eks::Client,
    /// Calls a sweep (or a look-up across node groups) has in flight at once.
    concurrency: usize,
}

impl Ec2Nodes {
    pub fn new(client: aws_sdk_ec2::Client, eks: aws_sdk_eks::Client) -> Self {
        Ec2Nodes { client, eks, concurrency: SWEEP_CONCURRENCY }
    }

    /// At most `calls` calls in flight during a sweep (default [`SWEEP_CONCURRENCY`]).
    pub fn with_sweep_concurrency(mut self, calls: usize) -> Self {
        self.concurrency = calls.max(1);
        self
    }
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().filter_map(|tag| Some((tag.key()?.to_owned(), tag.value().unwrap_or_default().to_owned()))).collect()
}

fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    Filter::builder().name(name).set_values(Some(values.into_iter().map(Into::into).collect())).build()
}

fn http_tokens(text: &str) -> HttpTokens {
    HttpTokens::parse(text)
}

/// What a restore keeps back before the invocation's deadline: every call is bounded by the SDK's
/// timeouts, and a restore of a few calls must not be cut off halfway.
const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

/// Err (retryable: Lambda's retry starts afresh) when too little time is left to start `operation`.
fn in_time(deadline: Instant, operation: &'static str) -> Result<(), AwsError> {
    if Instant::now() + DEADLINE_MARGIN > deadline {
        return Err(AwsError::Retryable {
            operation,
            message: "too close to the invocation's deadline to start".to_owned(),
            source: None,
        });
    }
    Ok(())
}

/// Codes that mean "no such resource": deleted since, or never there.
fn is_gone(code: Option<&str>) -> bool {
    code.is_some_and(|code| {
        code.ends_with(".NotFound")
            || code.ends_with(".NotFoundException")
            || code.ends_with(".Malformed")
            || matches!(code, "InvalidAMIID.Unavailable" | "InvalidLaunchTemplateName.NotFoundException")
    })
}

fn instance_state(instance: &Instance, instance_id: &str) -> InstanceState {
    let options = instance.metadata_options();
    InstanceState {
        instance_id: instance.instance_id().unwrap_or(instance_id).to_owned(),
        metadata: MetadataOptions {
            http_tokens: options.and_then(|o| o.http_tokens()).map(|t| http_tokens(t.as_str())),
            hop_limit: options.and_then(|o| o.http_put_response_hop_limit()).map(i64::from),
            endpoint_enabled: options
                .and_then(|o| o.http_endpoint())
                .map(|e| *e != InstanceMetadataEndpointState::Disabled),
        },
        tags: tag_map(instance.tags()),
    }
}

fn subnet_state(subnet: &Subnet) -> Option<SubnetState> {
    Some(SubnetState {
        subnet_id: subnet.subnet_id()?.to_owned(),
        vpc_id: subnet.vpc_id().map(str::to_owned),
        map_public_ip_on_launch: subnet.map_public_ip_on_launch().unwrap_or(false),
        tags: tag_map(subnet.tags()),
    })
}

/// A template's default version as the rules read it.
fn template_state(
    template_id: &str,
    template_name: Option<&str>,
    tags: BTreeMap<String, String>,
    version: &LaunchTemplateVersion,
) -> LaunchTemplateState {
    let data = version.launch_template_data();
    let options = data.and_then(|data| data.metadata_options());
    LaunchTemplateState {
        template_id: template_id.to_owned(),
        template_name: template_name.map(str::to_owned),
        default_version: version.version_number().map(|n| n.to_string()).unwrap_or_else(|| "1".to_owned()),
        metadata: MetadataOptions {
            http_tokens: options.and_then(|o| o.http_tokens()).map(|t| http_tokens(t.as_str())),
            hop_limit: options.and_then(|o| o.http_put_response_hop_limit()).map(i64::from),
            endpoint_enabled: options
                .and_then(|o| o.http_endpoint())
                .map(|e| *e != LaunchTemplateInstanceMetadataEndpointState::Disabled),
        },
        block_devices: data
            .map(|data| data.block_device_mappings())
            .unwrap_or_default()
            .iter()
            .filter_map(|mapping| {
                let ebs = mapping.ebs()?;
                Some(BlockDevice { device_name: mapping.device_name().map(str::to_owned), encrypted: ebs.encrypted() })
            })
            .collect(),
        tags,
        instance_tags: data
            .map(|data| data.tag_specifications())
            .unwrap_or_default()
            .iter()
            .filter(|spec| spec.resource_type() == Some(&ResourceType::Instance))
            .flat_map(|spec| tag_map(spec.tags()))
            .collect(),
    }
}

/// The subnets a cluster's VPC config lists.
fn cluster_subnets(cluster: &Cluster) -> impl Iterator<Item = &str> {
    cluster.resources_vpc_config().into_iter().flat_map(|vpc| vpc.subnet_ids().iter().map(String::as_str))
}

/// A launch template id is `lt-` and 17 hex digits; anything else a record names it by is its name.
fn is_template_id(template: &str) -> bool {
    template.starts_with("lt-") && template.len() > 3 && template[3..].chars().all(|c| c.is_ascii_hexdigit())
}

/// A described node group: its cluster, its subnets, its template (id or name), its tags.
struct NodegroupFacts {
    cluster: String,
    name: String,
    subnets: Vec<String>,
    template: Option<(Option<String>, Option<String>)>,
    tags: BTreeMap<String, String>,
}

/// A described node group's facts (None without its cluster's or its own name).
fn facts_of(nodegroup: &Nodegroup) -> Option<NodegroupFacts> {
    Some(nodegroup_facts(nodegroup.cluster_name()?, nodegroup.nodegroup_name()?, nodegroup))
}

fn nodegroup_facts(cluster: &str, name: &str, nodegroup: &Nodegroup) -> NodegroupFacts {
    NodegroupFacts {
        cluster: cluster.to_owned(),
        name: name.to_owned(),
        subnets: nodegroup.subnets().to_vec(),
        template: nodegroup
            .launch_template()
            .map(|template| (template.id().map(str::to_owned), template.name().map(str::to_owned))),
        tags: nodegroup
            .tags()
            .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }
}

impl NodegroupFacts {
    fn uses_template(&self, template_id: &str, template_name: Option<&str>) -> bool {
        self.template.as_ref().is_some_and(|(id, name)| {
            id.as_deref() == Some(template_id) || (name.is_some() && name.as_deref() == template_name)
        })
    }

    fn state(&self, public: &HashSet<String>) -> NodegroupState {
        NodegroupState {
            cluster: self.cluster.clone(),
            nodegroup: self.name.clone(),
            subnets: self.subnets.clone(),
            public_subnets: self.subnets.iter().filter(|id| public.contains(*id)).cloned().collect(),
            tags: self.tags.clone(),
        }
    }
}

impl Ec2Nodes {
    async fn describe_subnets(&self, filters: Vec<Filter>, bound: &CallBound) -> Result<Vec<SubnetState>, AwsError> {
        let mut subnets = Vec::new();
        let request = self.client.describe_subnets().set_filters(Some(filters).filter(|f| !f.is_empty()));
        let mut pages = request.max_results(1000).into_paginator().send();
        while let Some(page) = bound.call(pages.next()).await {
            let page = page.map_err(|error| AwsError::from_sdk("ec2:DescribeSubnets", error))?;
            subnets.extend(page.subnets().iter().filter_map(subnet_state));
        }
        Ok(subnets)
    }

    /// These subnets, those that still exist (a filter, so a missing id is no error).
    async fn subnets_by_id(&self, ids: &[String], bound: &CallBound) -> Result<Vec<SubnetState>, AwsError> {
        let chunks =
            ids.chunks(FILTER_VALUES).map(|ids| self.describe_subnets(vec![filter("subnet-id", ids.to_vec())], bound));
        Ok(futures_util::future::try_join_all(chunks).await?.into_iter().flatten().collect())
    }

    pub async fn describe_instance(&self, instance_id: &str) -> Result<Option<InstanceState>, AwsError> {
        let output = match self.client.describe_instances().instance_ids(instance_id).send().await {
            Ok(output) => output,
            Err(error) if is_gone(error_code(&error)) => return Ok(None),
            Err(error) => return Err(AwsError::from_sdk("ec2:DescribeInstances", error)),
        };
        let instance = output.reservations().iter().flat_map(|r| r.instances()).find(|instance| {
            !matches!(instance.state().and_then(|s| s.name()).map(|n| n.as_str()), Some("terminated" | "shutting-down"))
        });
        Ok(instance.map(|instance| instance_state(instance, instance_id)))
    }

    /// A template (by id or name) with its default version, or None when it does not exist.
    pub async fn describe_template(&self, template: &str) -> Result<Option<LaunchTemplateState>, AwsError> {
        let request = self.client.describe_launch_templates();
        let request = if is_template_id(template) {
            request.launch_template_ids(template)
        } else {
            request.launch_template_names(template)
        };
        let output = match request.send().await {
            Ok(output) => output,
            Err(error) if is_gone(error_code(&error)) => return Ok(None),
            Err(error) => return Err(AwsError::from_sdk("ec2:DescribeLaunchTemplates", error)),
        };
        let Some(found) = output.launch_templates().first() else { return Ok(None) };
        let Some(template_id) = found.launch_template_id() else { return Ok(None) };
        let Some(version) = self.template_version(template_id, "$Default", None).await? else { return Ok(None) };
        Ok(Some(template_state(template_id, found.launch_template_name(), tag_map(found.tags()), &version)))
    }

    /// One version of a template (`$Default`, `$Latest` or a number).
    async fn template_version(
        &self,
        template_id: &str,
        version: &str,
        bound: Option<&CallBound>,
    ) -> Result<Option<LaunchTemplateVersion>, AwsError> {
        let request = self.client.describe_launch_template_versions().launch_template_id(template_id).versions(version);
        let answer = match bound {
            Some(bound) => bound.call(request.send()).await,
            None => request.send().await,
        };
        match answer {
            Ok(output) => Ok(output.launch_template_versions().first().cloned()),
            Err(error) if is_gone(error_code(&error)) => Ok(None),
            Err(error) => Err(AwsError::from_sdk("ec2:DescribeLaunchTemplateVersions", error)),
        }
    }

    /// Every node group of these clusters, described, at most `bound` calls at once.
    async fn nodegroups_of(&self, clusters: &[String], bound: &CallBound) -> Result<Vec<NodegroupFacts>, AwsError> {
        let names: Vec<&str> = clusters.iter().map(String::as_str).collect();
        let described = describe_nodegroups(&self.eks, &names, bound).await?;
        Ok(described.iter().filter_map(facts_of).collect())
    }

    /// The cluster whose VPC config or one of whose node groups lists the subnet.
    async fn cluster_listing_subnet(&self, subnet_id: &str) -> Result<Option<String>, AwsError> {
        let bound = CallBound::new(self.concurrency);
        let names = cluster_names(&self.eks).await?;
        let bound = &bound;
        let described = each(&names, |name| async move {
            match bound.call(self.eks.describe_cluster().name(name).send()).await {
                Ok(output) => Ok(output.cluster),
                Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(None),
                Err(error) => Err(AwsError::from_sdk("eks:DescribeCluster", error)),
            }
        })
        .await?;
        if let Some(cluster) =
            described.iter().flatten().find(|cluster| cluster_subnets(cluster).any(|id| id == subnet_id))
        {
            return Ok(cluster.name().map(str::to_owned));
        }
        let groups = self.nodegroups_of(&names, bound).await?;
        Ok(groups.into_iter().find(|group| group.subnets.iter().any(|id| id == subnet_id)).map(|group| group.cluster))
    }

    /// The cluster of the first node group that launches from this template.
    async fn cluster_using_template(&self, template_id: &str, name: Option<&str>) -> Result<Option<String>, AwsError> {
        let bound = CallBound::new(self.concurrency);
        let names = cluster_names(&self.eks).await?;
        let groups = self.nodegroups_of(&names, &bound).await?;
        Ok(groups.into_iter().find(|group| group.uses_template(template_id, name)).map(|group| group.cluster))
    }

    /// A node group and its subnets, those that auto-assign public addresses known.
    async fn describe_nodegroup(&self, resource: &str) -> Result<Option<NodegroupState>, AwsError> {
        let Some((cluster, name)) = resource.split_once('/') else { return Ok(None) };
        let output = match self.eks.describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await {
            Ok(output) => output,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                return Ok(None)
            }
            Err(error) => return Err(AwsError::from_sdk("eks:DescribeNodegroup", error)),
        };
        let Some(group) = output.nodegroup() else { return Ok(None) };
        let facts = nodegroup_facts(cluster, name, group);
        let bound = CallBound::new(self.concurrency);
        let public: HashSet<String> = self
            .subnets_by_id(&facts.subnets, &bound)
            .await?
            .into_iter()
            .filter(|subnet| subnet.map_public_ip_on_launch)
            .map(|subnet| subnet.subnet_id)
            .collect();
        Ok(Some(facts.state(&public)))
    }

    /// The account's IMDS defaults; None when the endpoint does not serve the call (moto). A
    /// first try without the SDK's retries, so that an endpoint lacking the call answers at once;
    /// a retryable failure of that try is tried again with them.
    pub async fn metadata_defaults(&self) -> Result<Option<MetadataDefaults>, AwsError> {
        let once = aws_sdk_ec2::config::Builder::default().retry_config(RetryConfig::disabled());
        let first = self.client.get_instance_metadata_defaults().customize().config_override(once).send().await;
        let output = match first {
            Ok(output) => output,
            Err(error) if is_unserved(&error) => return Ok(None),
            Err(error) => match AwsError::from_sdk("ec2:GetInstanceMetadataDefaults", error) {
                AwsError::Retryable { .. } => self
                    .client
                    .get_instance_metadata_defaults()
                    .send()
                    .await
                    .map_err(|error| AwsError::from_sdk("ec2:GetInstanceMetadataDefaults", error))?,
                other => return Err(other),
            },
        };
        let level = output.account_level();
        Ok(Some(MetadataDefaults {
            http_tokens: level.and_then(|l| l.http_tokens()).map(|t| http_tokens(t.as_str())),
            hop_limit: level.and_then(|l| l.http_put_response_hop_limit()).map(i64::from),
        }))
    }

    pub async fn ebs_encryption_by_default(&self) -> Result<bool, AwsError> {
        let output = self
            .client
            .get_ebs_encryption_by_default()
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("ec2:GetEbsEncryptionByDefault", error))?;
        Ok(output.ebs_encryption_by_default().unwrap_or(false))
    }

    /// Whether the snapshot is public and the accounts it is shared with; None when it is gone.
    async fn snapshot_sharing(&self, snapshot_id: &str) -> Result<Option<(bool, Vec<String>)>, AwsError> {
        let request = self
            .client
            .describe_snapshot_attribute()
            .snapshot_id(snapshot_id)
            .attribute(SnapshotAttributeName::CreateVolumePermission);
        let output = match request.send().await {
            Ok(output) => output,
            Err(error) if is_gone(error_code(&error)) => return Ok(None),
            Err(error) => return Err(AwsError::from_sdk("ec2:DescribeSnapshotAttribute", error)),
        };
        let permissions = output.create_volume_permissions();
        Ok(Some((
            permissions.iter().any(|p| p.group() == Some(&PermissionGroup::All)),
            permissions.iter().filter_map(|p| p.user_id().map(str::to_owned)).collect(),
        )))
    }

    /// Whether the image is public and the accounts it is shared with; None when it is gone.
    async fn image_sharing(&self, image_id: &str) -> Result<Option<(bool, Vec<String>)>, AwsError> {
        let request =
            self.client.describe_image_attribute().image_id(image_id).attribute(ImageAttributeName::LaunchPermission);
        let output = match request.send().await {
            Ok(output) => output,
            Err(error) if is_gone(error_code(&error)) => return Ok(None),
            Err(error) => return Err(AwsError::from_sdk("ec2:DescribeImageAttribute", error)),
        };
        let permissions = output.launch_permissions();
        Ok(Some((
            permissions.iter().any(|p| p.group() == Some(&PermissionGroup::All)),
            permissions.iter().filter_map(|p| p.user_id().map(str::to_owned)).collect(),
        )))
    }

    async fn tags_of_snapshot(&self, snapshot_id: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
        match self.client.describe_snapshots().snapshot_ids(snapshot_id).send().await {
            Ok(output) => Ok(output.snapshots().first().map(|snapshot| tag_map(snapshot.tags()))),
            Err(error) if is_gone(error_code(&error)) => Ok(None),
            Err(error) => Err(AwsError::from_sdk("ec2:DescribeSnapshots", error)),
        }
    }

    async fn tags_of_image(&self, image_id: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
        match self.client.describe_images().image_ids(image_id).send().await {
            Ok(output) => Ok(output.images().first().map(|image| tag_map(image.tags()))),
            Err(error) if is_gone(error_code(&error)) => Ok(None),
            Err(error) => Err(AwsError::from_sdk("ec2:DescribeImages", error)),
        }
    }
}

impl ServiceAdapter for Ec2Nodes {
    fn service(&self) -> &'static str {
        SERVICE
    }

    /// Tags and cluster per kind: an instance's and a template's from their tags (a template also
    /// by the node group that uses it), a subnet's from its tags or the cluster or node group that
    /// lists it, a node group's its own. A node group's look-up describes it with its public
    /// subnets (`NodeState::Nodegroup`), which confirms or drops a CreateNodegroup finding.
    fn look_up<'a>(
        &'a self,
        kind: &'static ResourceKind,
        resource: &'a str,
        find_cluster: bool,
    ) -> BoxFuture<'a, Result<Option<LookedUp>, AwsError>> {
        Box::pin(async move {
            let facts = |tags, cluster| Some(LookedUp { facts: ResourceFacts { tags, cluster }, described: None });
            if *kind == SUBNET {
                let bound = CallBound::new(self.concurrency);
                let Some(subnet) = self.subnets_by_id(&[resource.to_owned()], &bound).await?.pop() else {
                    return Ok(None);
                };
                let mut cluster = subnet_cluster_from_tags(&subnet.tags);
                if cluster.is_none() && find_cluster {
                    cluster = self.cluster_listing_subnet(resource).await?;
                }
                Ok(facts(subnet.tags, cluster))
            } else if *kind == INSTANCE {
                let Some(instance) = self.describe_instance(resource).await? else { return Ok(None) };
                let cluster = node_cluster_from_tags(&instance.tags);
                // The description saves the restore its own DescribeInstances.
                let facts = ResourceFacts { tags: instance.tags.clone(), cluster };
                Ok(Some(LookedUp { facts, described: Some(Box::new(instance)) }))
            } else if *kind == LAUNCH_TEMPLATE {
                let Some(template) = self.describe_template(resource).await? else { return Ok(None) };
                let mut cluster = launch_template_cluster_from_tags(&template.tags, &template.instance_tags);
                if cluster.is_none() && find_cluster {
                    cluster =
                        self.cluster_using_template(&template.template_id, template.template_name.as_deref()).await?;
                }
                Ok(facts(template.tags, cluster))
            } else if *kind == NODEGROUP {
                let Some(group) = self.describe_nodegroup(resource).await? else { return Ok(None) };
                Ok(Some(LookedUp {
                    facts: ResourceFacts { tags: group.tags.clone(), cluster: Some(group.cluster.clone()) },
                    described: Some(Box::new(NodeState::Nodegroup(group))),
                }))
            } else if *kind == SNAPSHOT {
                Ok(self.tags_of_snapshot(resource).await?.and_then(|tags| facts(tags, None)))
            } else if *kind == IMAGE {
                Ok(self.tags_of_image(resource).await?.and_then(|tags| facts(tags, None)))
            } else {
                // An account setting: no tags, no cluster, always there.
                Ok(facts(BTreeMap::new(), None))
            }
        })
    }

    fn run<'a>(
        &'a self,
        action: &'a Action,
        described: Option<Described>,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<ActionResult, AwsError>> {
        Box::pin(async move {
            in_time(deadline, "run a node restore")?;
            let described = described.and_then(|described| described.downcast::<InstanceState>().ok());
            match typed::<NodeAction>(action, SERVICE)? {
                NodeAction::DisableSubnetPublicIp { subnet_id } => self.disable_subnet_public_ip(subnet_id).await,
                NodeAction::UpdateInstanceMetadata { instance_id, require_tokens, hop_limit } => {
                    let described =
                        described.map(|instance| *instance).filter(|instance| instance.instance_id == *instance_id);
                    self.update_instance_metadata(instance_id, *require_tokens, *hop_limit, described).await
                }
                NodeAction::RequireTemplateTokens { template, source_version, make_default } => {
                    self.require_template_tokens(template, source_version, *make_default, deadline).await
                }
                NodeAction::RequireDefaultTokens => self.require_default_tokens().await,
                NodeAction::EnableEbsEncryptionByDefault => self.enable_ebs_encryption_by_default().await,
                NodeAction::UnshareSnapshotPublicly { snapshot_id } => self.unshare_snapshot(snapshot_id).await,
                NodeAction::UnshareImagePublicly { image_id } => self.unshare_image(image_id).await,
            }
        })
    }

    fn sweep<'a>(&'a self, context: &'a SweepContext) -> BoxFuture<'a, Result<Vec<Found>, AwsError>> {
        Box::pin(self.sweep_all(context))
    }
}

/// The restores: each reads the setting first, so a second run (a duplicate delivery, someone
/// quicker) is "already safe".
impl Ec2Nodes {
    async fn disable_subnet_public_ip(&self, subnet_id: &str) -> Result<ActionResult, AwsError> {
        let bound = CallBound::new(1);
        let Some(subnet) = self.subnets_by_id(&[subnet_id.to_owned()], &bound).await?.pop() else {
            return Ok(ActionResult::NotApplicable(format!("subnet {subnet_id} no longer exists")));
        };
        if !subnet.map_public_ip_on_launch {
            return Ok(ActionResult::AlreadySafe);
        }
        let off = AttributeBooleanValue::builder().value(false).build();
        match self.client.modify_subnet_attribute().subnet_id(subnet_id).map_public_ip_on_launch(off).send().await {
            Ok(_) => Ok(ActionResult::Restored),
            Err(error) if is_gone(error_code(&error)) => {
                Ok(ActionResult::NotApplicable(format!("subnet {subnet_id} no longer exists")))
            }
            Err(error) => Err(AwsError::from_sdk("ec2:ModifySubnetAttribute", error)),
        }
    }

    /// One ModifyInstanceMetadataOptions with tokens and hop limit as they should be; the
    /// endpoint sent as it is (moto replaces the whole options object, AWS keeps what is omitted).
    async fn update_instance_metadata(
        &self,
        instance_id: &str,
        require_tokens: bool,
        hop_limit: Option<i64>,
        described: Option<InstanceState>,
    ) -> Result<ActionResult, AwsError> {
        // The look-up's description when it has one (moments old, in this invocation), else a fresh one.
        let instance = match described {
            Some(instance) => Some(instance),
            None => self.describe_instance(instance_id).await?,
        };
        let Some(instance) = instance else {
            return Ok(ActionResult::NotApplicable(format!("instance {instance_id} no longer exists")));
        };
        let current = &instance.metadata;
        let tokens_needed = require_tokens && current.http_tokens != Some(HttpTokens::Required);
        let hops_needed = hop_limit.filter(|max| current.hop_limit.is_none_or(|hops| hops > *max));
        if !tokens_needed && hops_needed.is_none() {
            return Ok(ActionResult::AlreadySafe);
        }
        let tokens = if require_tokens || current.http_tokens == Some(HttpTokens::Required) {
            HttpTokensState::Required
        } else {
            HttpTokensState::Optional
        };
        let mut request = self.client.modify_instance_metadata_options().instance_id(instance_id).http_tokens(tokens);
        if let Some(hops) = hops_needed.or(current.hop_limit) {
            request = request.http_put_response_hop_limit(i32::try_from(hops).unwrap_or(1));
        }
        if let Some(enabled) = current.endpoint_enabled {
            request = request.http_endpoint(if enabled {
                InstanceMetadataEndpointState::Enabled
            } else {
                InstanceMetadataEndpointState::Disabled
            });
        }
        match request.send().await {
            Ok(_) => Ok(ActionResult::Restored),
            Err(error) if is_gone(error_code(&error)) => {
                Ok(ActionResult::NotApplicable(format!("instance {instance_id} no longer exists")))
            }
            Err(error) => Err(AwsError::from_sdk("ec2:ModifyInstanceMetadataOptions", error)),
        }
    }

    /// A new version from `source_version` whose metadata options require tokens (the source's
    /// other options kept), made the default when the source was. Already safe when the version
    /// that launches nodes (the default, or the latest after the source) requires tokens.
    async fn require_template_tokens(
        &self,
        template: &str,
        source_version: &str,
        make_default: bool,
        deadline: Instant,
    ) -> Result<ActionResult, AwsError> {
        let Some(described) = self.describe_template(template).await? else {
            return Ok(ActionResult::NotApplicable(format!("launch template {template} no longer exists")));
        };
        let template_id = described.template_id.clone();
        let requires = |version: &LaunchTemplateVersion| {
            version
                .launch_template_data()
                .and_then(|data| data.metadata_options())
                .and_then(|options| options.http_tokens())
                == Some(&LaunchTemplateHttpTokensState::Required)
        };
        let checked = if make_default { "$Default" } else { "$Latest" };
        let Some(current) = self.template_version(&template_id, checked, None).await? else {
            return Ok(ActionResult::NotApplicable(format!("launch template {template} no longer exists")));
        };
        let source_number: Option<i64> = source_version.parse().ok();
        let newer = make_default || current.version_number() >= source_number;
        if newer && requires(&current) {
            return Ok(ActionResult::AlreadySafe);
        }
        let Some(source) = self.template_version(&template_id, source_version, None).await? else {
            return Ok(ActionResult::NotApplicable(format!(
                "version {source_version} of launch template {template} no longer exists"
            )));
        };
        let options = source.launch_template_data().and_then(|data| data.metadata_options());
        let mut metadata = aws_sdk_ec2::types::LaunchTemplateInstanceMetadataOptionsRequest::builder()
            .http_tokens(LaunchTemplateHttpTokensState::Required)
            .set_http_put_response_hop_limit(options.and_then(|o| o.http_put_response_hop_limit()));
        if let Some(endpoint) = options.and_then(|o| o.http_endpoint()) {
            metadata = metadata.http_endpoint(endpoint.clone());
        }
        let data = aws_sdk_ec2::types::RequestLaunchTemplateData::builder().metadata_options(metadata.build()).build();
        // Three reads so far: a version made and not yet made the default would be made again
        // by the retry, so stop here rather than between the two writes.
        in_time(deadline, "ec2:CreateLaunchTemplateVersion")?;
        let created = self
            .client
            .create_launch_template_version()
            .launch_template_id(&template_id)
            .source_version(source_version)
            .version_description(format!("snapback: version {source_version} with IMDSv2 tokens required"))
            .launch_template_data(data)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("ec2:CreateLaunchTemplateVersion", error))?;
        if make_default {
            let Some(number) = created.launch_template_version().and_then(|v| v.version_number()) else {
                return Err(AwsError::permanent(
                    "ec2:CreateLaunchTemplateVersion",
                    format!("no version number for the new version of {template}"),
                ));
            };
            self.client
                .modify_launch_template()
                .launch_template_id(&template_id)
                .default_version(number.to_string())
                .send()
                .await
                .map_err(|error| AwsError::from_sdk("ec2:ModifyLaunchTemplate", error))?;
        }
        Ok(ActionResult::Restored)
    }

    async fn require_default_tokens(&self) -> Result<ActionResult, AwsError> {
        let Some(defaults) = self.metadata_defaults().await? else {
            return Err(AwsError::permanent(
                "ec2:GetInstanceMetadataDefaults",
                "the endpoint does not serve the account's instance metadata defaults",
            ));
        };
        if defaults.http_tokens == Some(HttpTokens::Required) {
            return Ok(ActionResult::AlreadySafe);
        }
        self.client
            .modify_instance_metadata_defaults()
            .http_tokens(MetadataDefaultHttpTokensState::Required)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("ec2:ModifyInstanceMetadataDefaults", error))?;
        Ok(ActionResult::Restored)
    }

    async fn enable_ebs_encryption_by_default(&self) -> Result<ActionResult, AwsError> {
        if self.ebs_encryption_by_default().await? {
            return Ok(ActionResult::AlreadySafe);
        }
        self.client
            .enable_ebs_encryption_by_default()
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("ec2:EnableEbsEncryptionByDefault", error))?;
        Ok(ActionResult::Restored)
    }

    /// Removes group `all` and nothing else: the account shares stay.
    async fn unshare_snapshot(&self, snapshot_id: &str) -> Result<ActionResult, AwsError> {
        match self.snapshot_sharing(snapshot_id).await? {
            None => return Ok(ActionResult::NotApplicable(format!("snapshot {snapshot_id} no longer exists"))),
            Some((false, _)) => return Ok(ActionResult::AlreadySafe),
            Some((true, _)) => {}
        }
        // The operation-type form (as the CLI's --group-names all), which moto also reads.
        self.client
            .modify_snapshot_attribute()
            .snapshot_id(snapshot_id)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .operation_type(OperationType::Remove)
            .group_names("all")
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("ec2:ModifySnapshotAttribute", error))?;
        Ok(ActionResult::Restored)
    }

    /// Removes group `all` and nothing else: the account shares stay.
    async fn unshare_image(&self, image_id: &str) -> Result<ActionResult, AwsError> {
        match self.image_sharing(image_id).await? {
            None => return Ok(ActionResult::NotApplicable(format!("image {image_id} no longer exists"))),
            Some((false, _)) => return Ok(ActionResult::AlreadySafe),
            Some((true, _)) => {}
        }
        let remove = LaunchPermissionModifications::builder()
            .remove(LaunchPermission::builder().group(PermissionGroup::All).build())
            .build();
        self.client
            .modify_image_attribute()
            .image_id(image_id)
            .launch_permission(remove)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("ec2:ModifyImageAttribute", error))?;
        Ok(ActionResult::Restored)
    }
}

/// The sweep.
impl Ec2Nodes {
    /// Subnets, node groups, instances, launch templates (default versions), the account
    /// defaults, and the account's own public snapshots and images; under scope eks only the
    /// subnets, instances and templates of a cluster. Every page of every list, at most
    /// `concurrency` calls at once, sorted by resource.
    async fn sweep_all(&self, context: &SweepContext) -> Result<Vec<Found>, AwsError> {
        let bound = CallBound::new(self.concurrency);
        let clusters = context.clusters(&self.eks, self.concurrency).await?;
        // The node groups as the sweep described them for every slice.
        let groups: Vec<NodegroupFacts> =
            context.nodegroups(&self.eks, self.concurrency).await?.iter().filter_map(facts_of).collect();

        let (subnets, instances, templates, account, shared) = tokio::try_join!(
            self.sweep_subnets(context, &clusters, &groups, &bound),
            self.sweep_instances(context, &bound),
            self.sweep_templates(context, &groups, &bound),
            self.sweep_account_settings(),
            self.sweep_shared(context, &bound),
        )?;
        let public: HashSet<String> =
            subnets.iter().filter(|subnet| subnet.map_public_ip_on_launch).map(|s| s.subnet_id.clone()).collect();

        // The first cluster (in ListClusters' order), then the first node group, that lists a subnet owns it.
        let mut owners: HashMap<&str, &str> = HashMap::new();
        for cluster in clusters.iter() {
            let Some(name) = cluster.name() else { continue };
            for subnet in cluster_subnets(cluster) {
                owners.entry(subnet).or_insert(name);
            }
        }
        for group in &groups {
            for subnet in &group.subnets {
                owners.entry(subnet.as_str()).or_insert(group.cluster.as_str());
            }
        }

        let mut found = Vec::new();
        for subnet in subnets {
            let cluster = subnet_cluster_from_tags(&subnet.tags)
                .or_else(|| owners.get(subnet.subnet_id.as_str()).map(|name| (*name).to_owned()));
            if context.clusters_only() && cluster.is_none() {
                continue;
            }
            found.push(Found {
                kind: &SUBNET,
                resource: subnet.subnet_id.clone(),
                facts: Some(ResourceFacts { tags: subnet.tags.clone(), cluster }),
                state: Box::new(NodeState::Subnet(subnet)),
            });
        }
        for group in &groups {
            found.push(Found {
                kind: &NODEGROUP,
                resource: format!("{}/{}", group.cluster, group.name),
                facts: Some(ResourceFacts { tags: group.tags.clone(), cluster: Some(group.cluster.clone()) }),
                state: Box::new(NodeState::Nodegroup(group.state(&public))),
            });
        }
        for instance in instances {
            let cluster = node_cluster_from_tags(&instance.tags);
            found.push(Found {
                kind: &INSTANCE,
                resource: instance.instance_id.clone(),
                facts: Some(ResourceFacts { tags: instance.tags.clone(), cluster }),
                state: Box::new(NodeState::Instance(instance)),
            });
        }
        for (template, cluster) in templates {
            found.push(Found {
                kind: &LAUNCH_TEMPLATE,
                resource: template.template_id.clone(),
                facts: Some(ResourceFacts { tags: template.tags.clone(), cluster }),
                state: Box::new(NodeState::LaunchTemplate(template)),
            });
        }
        found.extend(account);
        found.extend(shared);
        sort_found(&mut found);
        Ok(found)
    }

    /// Every subnet; under scope eks those tagged for a cluster or listed by a cluster or node group.
    async fn sweep_subnets(
        &self,
        context: &SweepContext,
        clusters: &[Cluster],
        groups: &[NodegroupFacts],
        bound: &CallBound,
    ) -> Result<Vec<SubnetState>, AwsError> {
        if !context.clusters_only() {
            return self.describe_subnets(Vec::new(), bound).await;
        }
        let tagged =
            filter("tag-key", [format!("{KUBERNETES_CLUSTER_TAG_PREFIX}*"), KARPENTER_DISCOVERY_TAG.to_owned()]);
        let mut listed: Vec<String> = clusters
            .iter()
            .flat_map(cluster_subnets)
            .map(str::to_owned)
            .chain(groups.iter().flat_map(|group| group.subnets.iter().cloned()))
            .collect();
        listed.sort_unstable();
        listed.dedup();
        let (mut subnets, by_id) =
            tokio::try_join!(self.describe_subnets(vec![tagged], bound), self.subnets_by_id(&listed, bound))?;
        let seen: HashSet<String> = subnets.iter().map(|subnet| subnet.subnet_id.clone()).collect();
        subnets.extend(by_id.into_iter().filter(|subnet| !seen.contains(&subnet.subnet_id)));
        Ok(subnets)
    }

    /// Instances not terminated; under scope eks only those whose tags name a cluster.
    async fn sweep_instances(&self, context: &SweepContext, bound: &CallBound) -> Result<Vec<InstanceState>, AwsError> {
        let mut filters = vec![filter("instance-state-name", LIVE_STATES.iter().copied())];
        if context.clusters_only() {
            let keys = NODE_CLUSTER_TAGS.iter().map(|key| (*key).to_owned());
            filters.push(filter("tag-key", keys.chain([format!("{KUBERNETES_CLUSTER_TAG_PREFIX}*")])));
        }
        let mut instances = Vec::new();
        let mut pages =
            self.client.describe_instances().set_filters(Some(filters)).max_results(1000).into_paginator().send();
        while let Some(page) = bound.call(pages.next()).await {
            let page = page.map_err(|error| AwsError::from_sdk("ec2:DescribeInstances", error))?;
            for instance in page.reservations().iter().flat_map(|r| r.instances()) {
                let Some(id) = instance.instance_id() else { continue };
                let state = instance_state(instance, id);
                if context.clusters_only() && node_cluster_from_tags(&state.tags).is_none() {
                    continue;
                }
                instances.push(state);
            }
        }
        Ok(instances)
    }

    /// Every launch template with its default version and its cluster (tags, or a node group
    /// using it); under scope eks only those of a cluster.
    async fn sweep_templates(
        &self,
        context: &SweepContext,
        groups: &[NodegroupFacts],
        bound: &CallBound,
    ) -> Result<Vec<(LaunchTemplateState, Option<String>)>, AwsError> {
        let mut listed = Vec::new();
        let mut pages = self.client.describe_launch_templates().max_results(200).into_paginator().send();
        while let Some(page) = bound.call(pages.next()).await {
            let page = page.map_err(|error| AwsError::from_sdk("ec2:DescribeLaunchTemplates", error))?;
            listed.extend(page.launch_templates().iter().cloned());
        }
        let described = each(listed, |template| async move {
            let Some(id) = template.launch_template_id() else { return Ok(None) };
            let Some(version) = self.template_version(id, "$Default", Some(bound)).await? else { return Ok(None) };
            let state = template_state(id, template.launch_template_name(), tag_map(template.tags()), &version);
            let cluster = launch_template_cluster_from_tags(&state.tags, &state.instance_tags).or_else(|| {
                groups
                    .iter()
                    .find(|group| group.uses_template(id, template.launch_template_name()))
                    .map(|group| group.cluster.clone())
            });
            Ok(Some((state, cluster)))
        })
        .await?;
        Ok(described
            .into_iter()
            .flatten()
            .filter(|(_, cluster)| !context.clusters_only() || cluster.is_some())
            .collect())
    }

    /// The account's IMDS defaults (left out, with a warning, where the endpoint lacks them) and
    /// its EBS encryption by default.
    async fn sweep_account_settings(&self) -> Result<Vec<Found>, AwsError> {
        let (defaults, encrypted) = tokio::try_join!(self.metadata_defaults(), self.ebs_encryption_by_default())?;
        let setting = |resource: &str, state: NodeState| Found {
            kind: &ACCOUNT_SETTING,
            resource: resource.to_owned(),
            facts: Some(ResourceFacts { tags: BTreeMap::new(), cluster: None }),
            state: Box::new(state),
        };
        let mut found =
            vec![setting(EBS_ENCRYPTION_BY_DEFAULT, NodeState::EbsEncryptionByDefault { enabled: encrypted })];
        match defaults {
            Some(defaults) => found.push(setting(INSTANCE_METADATA_DEFAULTS, NodeState::MetadataDefaults(defaults))),
            None => tracing::warn!(
                "the endpoint does not serve GetInstanceMetadataDefaults; the IMDS defaults are not swept"
            ),
        }
        Ok(found)
    }

    /// The account's own snapshots that anyone may restore and images that anyone may launch,
    /// each with its permissions. DescribeSnapshots lists only those restorable by `all` (AWS);
    /// the attribute decides, so a listing that ignores the filter (moto) still judges right.
    /// The owner-id filter, when the sweep knows its account, keeps out what moto wrongly
    /// returns for `self` (its AMIs' snapshots).
    async fn sweep_shared(&self, context: &SweepContext, bound: &CallBound) -> Result<Vec<Found>, AwsError> {
        let mut snapshots = Vec::new();
        let request = self
            .client
            .describe_snapshots()
            .owner_ids("self")
            .restorable_by_user_ids("all")
            .set_filters(context.account().map(|account| vec![filter("owner-id", [account])]))
            .max_results(1000);
        let mut pages = request.into_paginator().send();
        while let Some(page) = bound.call(pages.next()).await {
            let page = page.map_err(|error| AwsError::from_sdk("ec2:DescribeSnapshots", error))?;
            snapshots
                .extend(page.snapshots().iter().filter_map(|s| Some((s.snapshot_id()?.to_owned(), tag_map(s.tags())))));
        }
        let mut images = Vec::new();
        let mut pages = self.client.describe_images().owners("self").max_results(1000).into_paginator().send();
        while let Some(page) = bound.call(pages.next()).await {
            let page = page.map_err(|error| AwsError::from_sdk("ec2:DescribeImages", error))?;
            images.extend(
                page.images()
                    .iter()
                    .filter(|image| image.public() == Some(true))
                    .filter_map(|i| Some((i.image_id()?.to_owned(), tag_map(i.tags())))),
            );
        }
        let shared =
            |kind: SharedKind, id: String, tags: BTreeMap<String, String>, (public, accounts): (bool, Vec<String>)| {
                let resource = if kind == SharedKind::Snapshot { &SNAPSHOT } else { &IMAGE };
                public.then(|| Found {
                    kind: resource,
                    resource: id.clone(),
                    facts: Some(ResourceFacts { tags: tags.clone(), cluster: None }),
                    state: Box::new(NodeState::Sharing(SharingState { kind, id, public, accounts, tags })),
                })
            };
        let (snapshots, images) = tokio::try_join!(
            each(snapshots, |(id, tags)| async move {
                let sharing = bound.call(self.snapshot_sharing(&id)).await?;
                Ok(sharing.and_then(|sharing| shared(SharedKind::Snapshot, id, tags, sharing)))
            }),
            each(images, |(id, tags)| async move {
                let sharing = bound.call(self.image_sharing(&id)).await?;
                Ok(sharing.and_then(|sharing| shared(SharedKind::Image, id, tags, sharing)))
            }),
        )?;
        Ok(snapshots.into_iter().chain(images).flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_too_close_to_the_deadline_is_left_to_the_retry() {
        assert!(in_time(Instant::now() + Duration::from_secs(1), "test").is_err_and(|e| e.is_retryable()));
        assert!(in_time(Instant::now() + Duration::from_secs(30), "test").is_ok());
    }

    #[test]
    fn templates_are_named_by_id_or_by_name() {
        assert!(is_template_id("lt-0123456789abcdef0"));
        assert!(!is_template_id("lt-web"));
        assert!(!is_template_id("nodes"));
    }

    #[test]
    fn not_found_codes_of_every_kind_mean_gone() {
        for code in [
            "InvalidInstanceID.NotFound",
            "InvalidSubnetID.NotFound",
            "InvalidSnapshot.NotFound",
            "InvalidAMIID.NotFound",
            "InvalidAMIID.Unavailable",
            "InvalidLaunchTemplateId.NotFound",
            "InvalidLaunchTemplateName.NotFoundException",
            "InvalidLaunchTemplateId.Malformed",
        ] {
            assert!(is_gone(Some(code)), "{code}");
        }
        assert!(!is_gone(Some("UnauthorizedOperation")));
        assert!(!is_gone(None));
    }
}
