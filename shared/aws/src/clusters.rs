use std::future::Future;

use crate::error::AwsError;

/// Which EKS cluster, if any, uses a security group.
pub trait ClusterDirectory: Send + Sync {
    fn cluster_using_group(&self, group_id: &str) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
}

/// [`ClusterDirectory`] over the EKS API: the clusters' `resourcesVpcConfig` security groups and
/// cluster security group. Asked only when a group's tags do not already name its cluster.
#[derive(Clone, Debug)]
pub struct EksClusterDirectory {
    client: aws_sdk_eks::Client,
}

impl EksClusterDirectory {
    pub fn new(client: aws_sdk_eks::Client) -> Self {
        EksClusterDirectory { client }
    }
}

impl ClusterDirectory for EksClusterDirectory {
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
                let listed = vpc.security_group_ids().iter().any(|id| id == group_id)
                    || vpc.cluster_security_group_id() == Some(group_id);
                if listed {
                    return Ok(Some(name.clone()));
                }
            }
        }
        Ok(None)
    }
}
