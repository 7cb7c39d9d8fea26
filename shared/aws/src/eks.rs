use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use aws_sdk_eks::types::{EncryptionConfig, LogSetup, LogType, Logging, Provider, VpcConfigRequest};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use aws_sdk_eks::operation::associate_encryption_config::AssociateEncryptionConfigError;
use aws_sdk_eks::operation::update_cluster_config::UpdateClusterConfigError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::error::AwsError;

/// A cluster as snapback needs to see it before changing it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterFacts {
    pub name: String,
    /// ACTIVE, CREATING, UPDATING, ...
    pub status: String,
    pub tags: BTreeMap<String, String>,
    pub endpoint: EndpointState,
    pub logging_enabled: BTreeSet<String>,
    pub secrets_encrypted: bool,
}

impl ClusterFacts {
    /// Another update (or the creation) is running: a new update would get a 409.
    pub fn is_busy(&self) -> bool {
        matches!(self.status.as_str(), "CREATING" | "UPDATING" | "PENDING")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointState {
    pub public: bool,
    pub private: bool,
    pub public_cidrs: Vec<String>,
}

/// What an update call answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    Started,
    /// "No changes needed": the cluster already had it.
    NoChange,
}

/// EKS cluster configuration.
pub trait EksClusters: Send + Sync {
    /// The cluster, or None when it does not exist.
    fn describe_cluster(&self, name: &str) -> impl Future<Output = Result<Option<ClusterFacts>, AwsError>> + Send;
    /// Endpoint access in one UpdateClusterConfig. A busy cluster is [`AwsError::Busy`].
    fn update_endpoint_access(
        &self,
        name: &str,
        endpoint: &EndpointState,
    ) -> impl Future<Output = Result<UpdateOutcome, AwsError>> + Send;
    /// Turns these log types on, in an UpdateClusterConfig of its own.
    fn enable_logging(
        &self,
        name: &str,
        types: &[String],
    ) -> impl Future<Output = Result<UpdateOutcome, AwsError>> + Send;
    fn associate_encryption_config(
        &self,
        name: &str,
        key_arn: &str,
    ) -> impl Future<Output = Result<UpdateOutcome, AwsError>> + Send;
    /// The cluster whose VPC config lists this security group, if any.
    fn cluster_using_group(&self, group_id: &str) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
}

/// EKS access entries and their policies.
pub trait AccessEntries: Send + Sync {
    /// Principals holding one of `policies` at cluster scope.
    fn principals_with_policies(
        &self,
        cluster: &str,
        policies: &[&str],
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// Removes the policy from the principal; false when it was not associated.
    fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal_arn: &str,
        policy_arn: &str,
    ) -> impl Future<Output = Result<bool, AwsError>> + Send;
}

/// [`EksClusters`] and [`AccessEntries`] over the EKS API.
#[derive(Clone, Debug)]
pub struct EksApi {
    client: aws_sdk_eks::Client,
}

impl EksApi {
    pub fn new(client: aws_sdk_eks::Client) -> Self {
        EksApi { client }
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

impl EksClusters for EksApi {
    async fn describe_cluster(&self, name: &str) -> Result<Option<ClusterFacts>, AwsError> {
        let output = match self.client.describe_cluster().name(name).send().await {
            Ok(output) => output,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                return Ok(None)
            }
            Err(error) => return Err(AwsError::from_sdk("eks:DescribeCluster", error)),
        };
        let Some(cluster) = output.cluster() else { return Ok(None) };
        let vpc = cluster.resources_vpc_config();
        Ok(Some(ClusterFacts {
            name: name.to_owned(),
            status: cluster.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            tags: cluster
                .tags()
                .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
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
        }))
    }

    async fn update_endpoint_access(&self, name: &str, endpoint: &EndpointState) -> Result<UpdateOutcome, AwsError> {
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

    async fn enable_logging(&self, name: &str, types: &[String]) -> Result<UpdateOutcome, AwsError> {
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

    async fn associate_encryption_config(&self, name: &str, key_arn: &str) -> Result<UpdateOutcome, AwsError> {
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

    async fn cluster_using_group(&self, group_id: &str) -> Result<Option<String>, AwsError> {
        let mut pages = self.client.list_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| AwsError::from_sdk("eks:ListClusters", error))?;
            for name in page.clusters() {
                let described = match self.client.describe_cluster().name(name).send().await {
                    Ok(described) => described,
                    // Deleted between the list and the describe.
                    Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                        continue
                    }
                    Err(error) => return Err(AwsError::from_sdk("eks:DescribeCluster", error)),
                };
                let Some(vpc) = described.cluster().and_then(|cluster| cluster.resources_vpc_config()) else {
                    continue;
                };
                if vpc.security_group_ids().iter().any(|id| id == group_id)
                    || vpc.cluster_security_group_id() == Some(group_id)
                {
                    return Ok(Some(name.clone()));
                }
            }
        }
        Ok(None)
    }
}

impl AccessEntries for EksApi {
    async fn principals_with_policies(&self, cluster: &str, policies: &[&str]) -> Result<Vec<String>, AwsError> {
        let mut holders = Vec::new();
        let mut entries = self.client.list_access_entries().cluster_name(cluster).into_paginator().send();
        while let Some(page) = entries.next().await {
            let page = page.map_err(|error| AwsError::from_sdk("eks:ListAccessEntries", error))?;
            for principal in page.access_entries() {
                let mut associated = self
                    .client
                    .list_associated_access_policies()
                    .cluster_name(cluster)
                    .principal_arn(principal)
                    .into_paginator()
                    .send();
                while let Some(page) = associated.next().await {
                    let page = page.map_err(|error| AwsError::from_sdk("eks:ListAssociatedAccessPolicies", error))?;
                    let holds = page.associated_access_policies().iter().any(|policy| {
                        let name = policy.policy_arn().unwrap_or_default().rsplit('/').next().unwrap_or_default();
                        let cluster_scope =
                            policy.access_scope().and_then(|s| s.r#type()).is_some_and(|t| t.as_str() == "cluster");
                        cluster_scope && policies.contains(&name)
                    });
                    if holds && !holders.contains(principal) {
                        holders.push(principal.clone());
                    }
                }
            }
        }
        Ok(holders)
    }

    async fn disassociate_access_policy(
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
