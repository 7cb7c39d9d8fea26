//! The security-groups adapter: group tags and owning cluster, ingress revokes by rule id or exact
//! permission, over the EC2 API (and EKS, to find the cluster whose VPC config lists a group,
//! describing the clusters a bounded number at a time).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, Ipv6Range, SecurityGroupRule};
use aws_sdk_eks::types::Cluster;
use futures_util::{StreamExt, TryStreamExt};
use snapback_rules::policy::{eks_cluster_from_tags, EKS_CLUSTER_TAG, KUBERNETES_CLUSTER_TAG_PREFIX};
use snapback_rules::services::security_groups::{
    is_world_cidr, GroupState, Permission, Protocol, RevokeTarget, RuleEntry, SecurityGroupAction, Source,
    SECURITY_GROUP, SERVICE,
};
use snapback_rules::{Action, ResourceFacts, ResourceKind};

use crate::adapter::{typed, ActionResult, BoxFuture, Described, Found, LookedUp, ServiceAdapter};
use crate::error::{error_code, AwsError};
use crate::services::eks::cluster_names;
use crate::sweep::{sort_found, SweepContext, SWEEP_CONCURRENCY};

/// Values in one EC2 filter: AWS takes at most 200.
const FILTER_VALUES: usize = 200;

/// A rule as it stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFacts {
    pub rule_id: String,
    pub is_egress: bool,
    /// The IPv4 or IPv6 CIDR, when the rule's source is one.
    pub cidr: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    /// The rule was already gone: a duplicate delivery, or someone was quicker.
    AlreadyGone,
}

/// The security-groups slice over the EC2 API.
#[derive(Clone, Debug)]
pub struct Ec2SecurityGroups {
    client: aws_sdk_ec2::Client,
    eks: aws_sdk_eks::Client,
    /// Clusters described at once while mapping groups to clusters.
    concurrency: usize,
}

impl Ec2SecurityGroups {
    pub fn new(client: aws_sdk_ec2::Client, eks: aws_sdk_eks::Client) -> Self {
        Ec2SecurityGroups { client, eks, concurrency: SWEEP_CONCURRENCY }
    }

    /// At most `calls` DescribeCluster calls in flight (default [`SWEEP_CONCURRENCY`]).
    pub fn with_sweep_concurrency(mut self, calls: usize) -> Self {
        self.concurrency = calls.max(1);
        self
    }
}

/// Codes that mean "the thing to revoke is not there".
fn is_gone(code: Option<&str>) -> bool {
    matches!(code, Some("InvalidPermission.NotFound" | "InvalidSecurityGroupRuleId.NotFound" | "InvalidGroup.NotFound"))
}

impl Ec2SecurityGroups {
    /// The group, or None when it no longer exists.
    pub async fn describe_group(&self, group_id: &str) -> Result<Option<GroupState>, AwsError> {
        let output = match self.client.describe_security_groups().group_ids(group_id).send().await {
            Ok(output) => output,
            Err(error) if error_code(&error) == Some("InvalidGroup.NotFound") => return Ok(None),
            Err(error) => return Err(AwsError::from_sdk("ec2:DescribeSecurityGroups", error)),
        };
        Ok(output.security_groups().first().and_then(group_state))
    }

    /// The rules of `group_id` among `rule_ids` that still exist.
    pub async fn describe_rules(&self, group_id: &str, rule_ids: &[String]) -> Result<Vec<RuleFacts>, AwsError> {
        let request = self.client.describe_security_group_rules().set_security_group_rule_ids(Some(rule_ids.to_vec()));
        let output = match request.send().await {
            Ok(output) => output,
            Err(error) if is_gone(error_code(&error)) => return Ok(Vec::new()),
            Err(error) => return Err(AwsError::from_sdk("ec2:DescribeSecurityGroupRules", error)),
        };
        Ok(output
            .security_group_rules()
            .iter()
            .filter(|rule| rule.group_id() == Some(group_id))
            .filter_map(|rule| {
                Some(RuleFacts {
                    rule_id: rule.security_group_rule_id()?.to_owned(),
                    is_egress: rule.is_egress().unwrap_or(false),
                    cidr: rule.cidr_ipv4().or(rule.cidr_ipv6()).map(str::to_owned),
                })
            })
            .collect())
    }

    pub async fn revoke_ingress_rules(&self, group_id: &str, rule_ids: &[String]) -> Result<RevokeOutcome, AwsError> {
        let revoke = |ids: Vec<String>| {
            self.client.revoke_security_group_ingress().group_id(group_id).set_security_group_rule_ids(Some(ids)).send()
        };
        match revoke(rule_ids.to_vec()).await {
            Ok(_) => Ok(RevokeOutcome::Revoked),
            // One missing id fails the whole call: revoke the rest one by one.
            Err(error) if is_gone(error_code(&error)) && rule_ids.len() > 1 => {
                let mut outcome = RevokeOutcome::AlreadyGone;
                for id in rule_ids {
                    match revoke(vec![id.clone()]).await {
                        Ok(_) => outcome = RevokeOutcome::Revoked,
                        Err(error) if is_gone(error_code(&error)) => {}
                        Err(error) => return Err(AwsError::from_sdk("ec2:RevokeSecurityGroupIngress", error)),
                    }
                }
                Ok(outcome)
            }
            Err(error) if is_gone(error_code(&error)) => Ok(RevokeOutcome::AlreadyGone),
            Err(error) => Err(AwsError::from_sdk("ec2:RevokeSecurityGroupIngress", error)),
        }
    }

    pub async fn revoke_ingress_permissions(
        &self,
        group_id: &str,
        permissions: &[Permission],
    ) -> Result<RevokeOutcome, AwsError> {
        let ip_permissions: Vec<IpPermission> = permissions.iter().map(ip_permission).collect();
        let request =
            self.client.revoke_security_group_ingress().group_id(group_id).set_ip_permissions(Some(ip_permissions));
        match request.send().await {
            // AWS answers success with the permissions it did not find listed as unknown.
            Ok(output) if output.unknown_ip_permissions().len() == permissions.len() => Ok(RevokeOutcome::AlreadyGone),
            Ok(_) => Ok(RevokeOutcome::Revoked),
            Err(error) if is_gone(error_code(&error)) => Ok(RevokeOutcome::AlreadyGone),
            Err(error) => Err(AwsError::from_sdk("ec2:RevokeSecurityGroupIngress", error)),
        }
    }

    /// The cluster whose VPC config lists this security group, if any.
    pub async fn cluster_using_group(&self, group_id: &str) -> Result<Option<String>, AwsError> {
        Ok(self.clusters_by_group(Some(group_id)).await?.remove(group_id))
    }

    /// The cluster of every security group some cluster's VPC config lists; with `until`, stops
    /// at the first cluster that lists that group. Clusters are described `concurrency` at a
    /// time and read in the order ListClusters gave them, so the first cluster listing a group
    /// owns it, however the calls finish.
    async fn clusters_by_group(&self, until: Option<&str>) -> Result<HashMap<String, String>, AwsError> {
        let names = cluster_names(&self.eks).await?;
        let mut described = futures_util::stream::iter(names)
            .map(|name| async move { (self.eks.describe_cluster().name(&name).send().await, name) })
            .buffered(self.concurrency);
        let mut owners = HashMap::new();
        while let Some((described, name)) = described.next().await {
            let described = match described {
                Ok(described) => described,
                // Deleted between the list and the describe.
                Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => continue,
                Err(error) => return Err(AwsError::from_sdk("eks:DescribeCluster", error)),
            };
            let Some(cluster) = described.cluster() else { continue };
            for group in groups_of(cluster) {
                owners.entry(group.to_owned()).or_insert_with(|| name.clone());
            }
            if until.is_some_and(|group| owners.contains_key(group)) {
                return Ok(owners);
            }
        }
        Ok(owners)
    }

    /// The groups `filters` select (all of them with none), each with its ingress as
    /// DescribeSecurityGroups lists it: without rule ids.
    async fn list_groups(&self, filters: Vec<Filter>) -> Result<Vec<GroupState>, AwsError> {
        let mut groups = Vec::new();
        // Pages of at most 1,000: one answer with every group of a large account can outlast a call's timeout.
        let request = self.client.describe_security_groups().set_filters(Some(filters).filter(|f| !f.is_empty()));
        let mut pages = request.max_results(1000).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| AwsError::from_sdk("ec2:DescribeSecurityGroups", error))?;
            groups.extend(page.security_groups().iter().filter_map(group_state));
        }
        Ok(groups)
    }

    /// The groups that can belong to a cluster: those tagged with a cluster's name (found with
    /// DescribeTags while the clusters are described) and those a cluster's VPC config lists,
    /// then described by id, `FILTER_VALUES` a call. Other groups are out of scope under scope eks.
    async fn cluster_groups(&self, context: &SweepContext) -> Result<(Vec<GroupState>, Arc<[Cluster]>), AwsError> {
        let (tagged, clusters) =
            tokio::try_join!(self.tagged_group_ids(), context.clusters(&self.eks, self.concurrency))?;
        let mut ids: Vec<String> =
            tagged.into_iter().chain(clusters.iter().flat_map(groups_of).map(str::to_owned)).collect();
        ids.sort_unstable();
        ids.dedup();
        let chunks: Vec<Vec<String>> = ids.chunks(FILTER_VALUES).map(<[String]>::to_vec).collect();
        let groups = futures_util::stream::iter(chunks)
            .map(|ids| self.groups_by_id(ids))
            .buffered(self.concurrency)
            .try_concat()
            .await?;
        Ok((groups, clusters))
    }

    /// Ids of the groups tagged `aws:eks:cluster-name` or `kubernetes.io/cluster/*`, every page.
    async fn tagged_group_ids(&self) -> Result<Vec<String>, AwsError> {
        let keys =
            Filter::builder().name("key").values(EKS_CLUSTER_TAG).values(format!("{KUBERNETES_CLUSTER_TAG_PREFIX}*"));
        let kind = Filter::builder().name("resource-type").values("security-group");
        let mut pages = self
            .client
            .describe_tags()
            .filters(kind.build())
            .filters(keys.build())
            .max_results(1000)
            .into_paginator()
            .send();
        let mut ids = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| AwsError::from_sdk("ec2:DescribeTags", error))?;
            ids.extend(page.tags().iter().filter_map(|tag| tag.resource_id().map(str::to_owned)));
        }
        Ok(ids)
    }

    /// These groups, by id. A group deleted since it was named fails a call by id: the chunk is
    /// then listed with a `group-id` filter, which leaves missing ids out.
    async fn groups_by_id(&self, ids: Vec<String>) -> Result<Vec<GroupState>, AwsError> {
        match self.client.describe_security_groups().set_group_ids(Some(ids.clone())).send().await {
            Ok(output) => Ok(output.security_groups().iter().filter_map(group_state).collect()),
            Err(error) if error_code(&error) == Some("InvalidGroup.NotFound") => {
                self.list_groups(vec![Filter::builder().name("group-id").set_values(Some(ids)).build()]).await
            }
            Err(error) => Err(AwsError::from_sdk("ec2:DescribeSecurityGroups", error)),
        }
    }

    /// The ingress rules of `group_ids`, every page.
    async fn ingress_rules_of(&self, group_ids: Vec<String>) -> Result<Vec<SecurityGroupRule>, AwsError> {
        let filter = Filter::builder().name("group-id").set_values(Some(group_ids)).build();
        let mut rules = Vec::new();
        let mut pages =
            self.client.describe_security_group_rules().filters(filter).max_results(1000).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| AwsError::from_sdk("ec2:DescribeSecurityGroupRules", error))?;
            rules.extend(page.security_group_rules().iter().filter(|rule| rule.is_egress() == Some(false)).cloned());
        }
        Ok(rules)
    }

    /// Gives the world-open ingress of `groups` the rule ids AWS gave it, from
    /// DescribeSecurityGroupRules filtered on those groups (`FILTER_VALUES` a call): the ids only
    /// feed the restore, and this slice's rules only flag world-open sources. Other entries keep
    /// no id (were a rule to flag one, its plan would revoke it by the exact permission).
    async fn with_rule_ids(&self, groups: &mut [GroupState]) -> Result<(), AwsError> {
        let open: Vec<String> = groups
            .iter()
            .filter(|group| group.ingress.iter().any(|entry| entry.source.is_world()))
            .map(|group| group.group_id.clone())
            .collect();
        let chunks: Vec<Vec<String>> = open.chunks(FILTER_VALUES).map(<[String]>::to_vec).collect();
        let rules = futures_util::stream::iter(chunks)
            .map(|ids| self.ingress_rules_of(ids))
            .buffered(self.concurrency)
            .try_concat()
            .await?;
        let index: HashMap<&str, usize> =
            groups.iter().enumerate().map(|(at, group)| (group.group_id.as_str(), at)).collect();
        let mut ingress: HashMap<usize, Vec<RuleEntry>> =
            open.iter().filter_map(|id| index.get(id.as_str())).map(|at| (*at, Vec::new())).collect();
        for rule in &rules {
            // What the rules listing says replaces what the groups listing said: a rule revoked
            // between the two is gone, one added between them is judged.
            let Some(at) = rule.group_id().and_then(|id| index.get(id)) else { continue };
            ingress.entry(*at).or_default().extend(rule_entry(rule));
        }
        for (at, entries) in ingress {
            groups[at].ingress = entries;
        }
        Ok(())
    }

    async fn revoke(&self, group_id: &str, target: &RevokeTarget) -> Result<ActionResult, AwsError> {
        let outcome = match target {
            RevokeTarget::RuleId(id) => self.revoke_ingress_rules(group_id, std::slice::from_ref(id)).await?,
            RevokeTarget::Permission(permission) => {
                self.revoke_ingress_permissions(group_id, std::slice::from_ref(permission)).await?
            }
            RevokeTarget::ModifiedRuleId(id) => {
                let current = self.describe_rules(group_id, std::slice::from_ref(id)).await?;
                let Some(rule) = current.into_iter().next() else { return Ok(ActionResult::AlreadySafe) };
                if rule.is_egress {
                    return Ok(ActionResult::NotApplicable(format!("{id} is an egress rule")));
                }
                if !rule.cidr.as_deref().is_some_and(is_world_cidr) {
                    return Ok(ActionResult::AlreadySafe);
                }
                self.revoke_ingress_rules(group_id, std::slice::from_ref(id)).await?
            }
        };
        Ok(match outcome {
            RevokeOutcome::Revoked => ActionResult::Restored,
            RevokeOutcome::AlreadyGone => ActionResult::AlreadySafe,
        })
    }
}

/// An ingress permission as DescribeSecurityGroups lists it, one entry per source; the listing
/// carries no rule ids (DescribeSecurityGroupRules does).
fn entries(permission: &IpPermission) -> Vec<RuleEntry> {
    let protocol = Protocol::parse(permission.ip_protocol().unwrap_or("-1"));
    let port = |port: Option<i32>| if protocol == Protocol::All { None } else { port.map(i64::from) };
    let (from_port, to_port) = (port(permission.from_port()), port(permission.to_port()));
    let sources = permission
        .ip_ranges()
        .iter()
        .filter_map(|range| range.cidr_ip().map(Source::cidr))
        .chain(permission.ipv6_ranges().iter().filter_map(|range| range.cidr_ipv6().map(Source::cidr)))
        .chain(
            permission
                .user_id_group_pairs()
                .iter()
                .filter_map(|pair| pair.group_id().map(|id| Source::Group(id.to_owned()))),
        )
        .chain(
            permission
                .prefix_list_ids()
                .iter()
                .filter_map(|list| list.prefix_list_id().map(|id| Source::PrefixList(id.to_owned()))),
        );
    sources.map(|source| RuleEntry { protocol: protocol.clone(), from_port, to_port, source, rule_id: None }).collect()
}

fn ip_permission(permission: &Permission) -> IpPermission {
    IpPermission::builder()
        .ip_protocol(&permission.protocol)
        .set_from_port(permission.from_port.and_then(|port| i32::try_from(port).ok()))
        .set_to_port(permission.to_port.and_then(|port| i32::try_from(port).ok()))
        .set_ip_ranges(Some(
            permission.ipv4_cidrs.iter().map(|cidr| IpRange::builder().cidr_ip(cidr).build()).collect(),
        ))
        .set_ipv6_ranges(Some(
            permission.ipv6_cidrs.iter().map(|cidr| Ipv6Range::builder().cidr_ipv6(cidr).build()).collect(),
        ))
        .build()
}

impl ServiceAdapter for Ec2SecurityGroups {
    fn service(&self) -> &'static str {
        SERVICE
    }

    /// Tags first; the clusters' VPC configuration only when the tags do not say and scope needs it.
    fn look_up<'a>(
        &'a self,
        _kind: &'static ResourceKind,
        resource: &'a str,
        find_cluster: bool,
    ) -> BoxFuture<'a, Result<Option<LookedUp>, AwsError>> {
        Box::pin(async move {
            let Some(group) = self.describe_group(resource).await? else { return Ok(None) };
            let mut cluster = eks_cluster_from_tags(&group.tags);
            if cluster.is_none() && find_cluster {
                cluster = self.cluster_using_group(&group.group_id).await?;
            }
            Ok(Some(LookedUp { facts: ResourceFacts { tags: group.tags, cluster }, described: None }))
        })
    }

    fn run<'a>(
        &'a self,
        action: &'a Action,
        _described: Option<Described>,
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<ActionResult, AwsError>> {
        Box::pin(async move {
            let SecurityGroupAction::RevokeIngress { group_id, target } = typed(action, SERVICE)?;
            self.revoke(group_id, target).await
        })
    }

    /// Every group the scope can judge (under scope eks, only the groups that can belong to a
    /// cluster), with its ingress rules, the world-open ones with their rule ids, and the owning
    /// cluster of each, from the sweep's one description of every cluster. Sorted by group id.
    fn sweep<'a>(&'a self, context: &'a SweepContext) -> BoxFuture<'a, Result<Vec<Found>, AwsError>> {
        Box::pin(async move {
            let (mut groups, clusters) = if context.clusters_only() {
                self.cluster_groups(context).await?
            } else {
                tokio::try_join!(self.list_groups(Vec::new()), context.clusters(&self.eks, self.concurrency))?
            };
            self.with_rule_ids(&mut groups).await?;
            // The first cluster (in ListClusters' order) that lists a group owns it.
            let mut owners: HashMap<&str, &str> = HashMap::new();
            for cluster in clusters.iter() {
                let Some(name) = cluster.name() else { continue };
                for group in groups_of(cluster) {
                    owners.entry(group).or_insert(name);
                }
            }
            let mut found: Vec<Found> = groups
                .into_iter()
                .map(|group| {
                    let cluster = eks_cluster_from_tags(&group.tags)
                        .or_else(|| owners.get(group.group_id.as_str()).map(|name| (*name).to_owned()));
                    Found {
                        kind: &SECURITY_GROUP,
                        resource: group.group_id.clone(),
                        facts: Some(ResourceFacts { tags: group.tags.clone(), cluster }),
                        state: Box::new(group),
                    }
                })
                .collect();
            sort_found(&mut found);
            Ok(found)
        })
    }
}

/// The security groups a cluster's VPC config lists: its additional groups and the cluster
/// security group EKS made.
fn groups_of(cluster: &Cluster) -> impl Iterator<Item = &str> {
    let vpc = cluster.resources_vpc_config();
    vpc.into_iter()
        .flat_map(|vpc| vpc.security_group_ids().iter().map(String::as_str).chain(vpc.cluster_security_group_id()))
}

/// A group as DescribeSecurityGroups lists it: id, VPC, tags, and its ingress without rule ids.
fn group_state(group: &aws_sdk_ec2::types::SecurityGroup) -> Option<GroupState> {
    Some(GroupState {
        group_id: group.group_id()?.to_owned(),
        vpc_id: group.vpc_id().map(str::to_owned),
        tags: group
            .tags()
            .iter()
            .filter_map(|tag| Some((tag.key()?.to_owned(), tag.value().unwrap_or_default().to_owned())))
            .collect(),
        ingress: group.ip_permissions().iter().flat_map(entries).collect(),
    })
}

/// A rule as DescribeSecurityGroupRules lists it, with its id.
fn rule_entry(rule: &aws_sdk_ec2::types::SecurityGroupRule) -> Option<RuleEntry> {
    let protocol = Protocol::parse(rule.ip_protocol().unwrap_or("-1"));
    let port = |port: Option<i32>| if protocol == Protocol::All { None } else { port.map(i64::from) };
    let source = if let Some(cidr) = rule.cidr_ipv4().or(rule.cidr_ipv6()) {
        Source::cidr(cidr)
    } else if let Some(group) = rule.referenced_group_info().and_then(|info| info.group_id()) {
        Source::Group(group.to_owned())
    } else {
        Source::PrefixList(rule.prefix_list_id()?.to_owned())
    };
    Some(RuleEntry {
        from_port: port(rule.from_port()),
        to_port: port(rule.to_port()),
        protocol,
        source,
        rule_id: rule.security_group_rule_id().map(str::to_owned),
    })
}
