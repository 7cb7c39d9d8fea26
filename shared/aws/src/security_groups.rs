use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range};
use snapback_rules::finding::Permission;

use crate::error::{error_code, AwsError};

/// What the policy needs to know about a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFacts {
    pub group_id: String,
    pub vpc_id: Option<String>,
    pub tags: BTreeMap<String, String>,
}

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

/// Security-group reads and ingress revokes.
pub trait SecurityGroups: Send + Sync {
    /// The group, or None when it no longer exists.
    fn describe_group(&self, group_id: &str) -> impl Future<Output = Result<Option<GroupFacts>, AwsError>> + Send;
    /// The rules of `group_id` among `rule_ids` that still exist.
    fn describe_rules(
        &self,
        group_id: &str,
        rule_ids: &[String],
    ) -> impl Future<Output = Result<Vec<RuleFacts>, AwsError>> + Send;
    fn revoke_ingress_rules(
        &self,
        group_id: &str,
        rule_ids: &[String],
    ) -> impl Future<Output = Result<RevokeOutcome, AwsError>> + Send;
    fn revoke_ingress_permissions(
        &self,
        group_id: &str,
        permissions: &[Permission],
    ) -> impl Future<Output = Result<RevokeOutcome, AwsError>> + Send;
}

/// [`SecurityGroups`] over the EC2 API.
#[derive(Clone, Debug)]
pub struct Ec2SecurityGroups {
    client: aws_sdk_ec2::Client,
}

impl Ec2SecurityGroups {
    pub fn new(client: aws_sdk_ec2::Client) -> Self {
        Ec2SecurityGroups { client }
    }
}

/// Codes that mean "the thing to revoke is not there".
fn is_gone(code: Option<&str>) -> bool {
    matches!(code, Some("InvalidPermission.NotFound" | "InvalidSecurityGroupRuleId.NotFound" | "InvalidGroup.NotFound"))
}

impl SecurityGroups for Ec2SecurityGroups {
    async fn describe_group(&self, group_id: &str) -> Result<Option<GroupFacts>, AwsError> {
        let output = match self.client.describe_security_groups().group_ids(group_id).send().await {
            Ok(output) => output,
            Err(error) if error_code(&error) == Some("InvalidGroup.NotFound") => return Ok(None),
            Err(error) => return Err(AwsError::from_sdk("ec2:DescribeSecurityGroups", error)),
        };
        Ok(output.security_groups().first().map(|group| GroupFacts {
            group_id: group.group_id().unwrap_or(group_id).to_owned(),
            vpc_id: group.vpc_id().map(str::to_owned),
            tags: group
                .tags()
                .iter()
                .filter_map(|tag| Some((tag.key()?.to_owned(), tag.value().unwrap_or_default().to_owned())))
                .collect(),
        }))
    }

    async fn describe_rules(&self, group_id: &str, rule_ids: &[String]) -> Result<Vec<RuleFacts>, AwsError> {
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

    async fn revoke_ingress_rules(&self, group_id: &str, rule_ids: &[String]) -> Result<RevokeOutcome, AwsError> {
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

    async fn revoke_ingress_permissions(
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
