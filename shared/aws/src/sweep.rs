//! What every sweep shares: what it is looking for (its scope) and the clusters, described once
//! for every slice that needs them; a bound on the calls it has in flight while it fans out per
//! resource; and the retry policy for clients that make that many calls.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_eks::types::{Cluster, Nodegroup};
use futures_util::StreamExt;
use snapback_rules::Scope;
use tokio::sync::{OnceCell, Semaphore};

use crate::error::AwsError;
use crate::services::eks::cluster_names;

/// One sweep of one account and region, handed to every adapter's `sweep`: the scope it judges
/// under, and the account's EKS clusters, listed and described by the first slice that asks and
/// shared with the others (a security-group sweep maps groups to clusters with the same
/// descriptions the EKS sweep judges).
#[derive(Debug)]
pub struct SweepContext {
    scope: Scope,
    account: Option<String>,
    clusters: OnceCell<Arc<[Cluster]>>,
    nodegroups: OnceCell<Arc<[Nodegroup]>>,
}

impl SweepContext {
    pub fn new(scope: Scope) -> SweepContext {
        SweepContext { scope, account: None, clusters: OnceCell::new(), nodegroups: OnceCell::new() }
    }

    /// The account swept, when the caller knows it: listings of what the account owns (its
    /// snapshots) also filter on it.
    pub fn in_account(mut self, account: Option<&str>) -> SweepContext {
        self.account = account.map(str::to_owned);
        self
    }

    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// Only resources of an EKS cluster can be judged (scope eks): a slice whose resources are
    /// scoped by cluster may leave the others out of its listing.
    pub fn clusters_only(&self) -> bool {
        self.scope == Scope::Eks
    }

    /// Every cluster of the account and region, described, in ListClusters' order; at most
    /// `concurrency` DescribeCluster calls at once. A cluster deleted between the list and its
    /// describe is left out. Made once per sweep; a failure is not kept, so a later caller tries again.
    pub(crate) async fn clusters(
        &self,
        client: &aws_sdk_eks::Client,
        concurrency: usize,
    ) -> Result<Arc<[Cluster]>, AwsError> {
        let clusters = self
            .clusters
            .get_or_try_init(|| async {
                let names = cluster_names(client).await?;
                let described: Vec<Result<Option<Cluster>, AwsError>> = futures_util::stream::iter(names)
                    .map(|name| async move {
                        match client.describe_cluster().name(&name).send().await {
                            Ok(output) => Ok(output.cluster),
                            Err(error)
                                if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) =>
                            {
                                Ok(None)
                            }
                            Err(error) => Err(AwsError::from_sdk("eks:DescribeCluster", error)),
                        }
                    })
                    .buffered(concurrency.max(1))
                    .collect()
                    .await;
                let described: Vec<Option<Cluster>> = described.into_iter().collect::<Result<_, _>>()?;
                Ok::<_, AwsError>(described.into_iter().flatten().collect::<Arc<[Cluster]>>())
            })
            .await?;
        Ok(clusters.clone())
    }

    /// Every managed node group of the sweep's clusters, described, in cluster then list order;
    /// at most `concurrency` EKS calls at once. Made once per sweep and shared (the EKS slice
    /// judges their remote access, the node slice their subnets and launch templates). A node
    /// group, or a cluster, deleted since it was listed is left out.
    pub(crate) async fn nodegroups(
        &self,
        client: &aws_sdk_eks::Client,
        concurrency: usize,
    ) -> Result<Arc<[Nodegroup]>, AwsError> {
        let clusters = self.clusters(client, concurrency).await?;
        let nodegroups = self
            .nodegroups
            .get_or_try_init(|| async {
                let names: Vec<&str> = clusters.iter().filter_map(|cluster| cluster.name()).collect();
                let described = describe_nodegroups(client, &names, &CallBound::new(concurrency)).await?;
                Ok::<_, AwsError>(Arc::<[Nodegroup]>::from(described))
            })
            .await?;
        Ok(nodegroups.clone())
    }
}

/// AWS calls one sweep has in flight at once, unless its adapter is built with another bound
/// (`with_sweep_concurrency`).
pub const SWEEP_CONCURRENCY: usize = 8;

/// Attempts per call for a client that sweeps: a throttled call is tried again up to five times.
pub const SWEEP_MAX_ATTEMPTS: u32 = 6;

/// Retry policy for clients that sweep: standard mode, in which throttling answers (`Throttling`,
/// `ThrottlingException`, `RequestLimitExceeded`, `TooManyRequestsException`, …), 5xx and
/// transient network errors are retried with exponential backoff and full jitter (from 1 s,
/// doubling up to 20 s), with more attempts than the per-event path makes. The rate itself is
/// kept down by the sweep's bound on calls in flight ([`SWEEP_CONCURRENCY`]); adaptive mode's
/// client-side rate limiting is not used, because after a throttle early in a sweep it limits
/// every further call of the client to a rate measured from the few calls made so far (about one
/// call every two seconds at first). Errors still failing after the last attempt arrive as
/// [`AwsError::Retryable`]. Keep the client's operation timeout long enough for the backoff.
pub fn sweep_retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(SWEEP_MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_secs(1))
        .with_max_backoff(Duration::from_secs(20))
}

/// Every managed node group of these clusters, described, in cluster then list order, each call
/// through `bound`. A node group, or a cluster, deleted since it was listed is left out.
pub(crate) async fn describe_nodegroups(
    client: &aws_sdk_eks::Client,
    clusters: &[&str],
    bound: &CallBound,
) -> Result<Vec<Nodegroup>, AwsError> {
    let per_cluster = each(clusters, |cluster| async move {
        let mut names = Vec::new();
        let mut pages = client.list_nodegroups().cluster_name(*cluster).into_paginator().send();
        while let Some(page) = bound.call(pages.next()).await {
            match page {
                Ok(page) => names.extend(page.nodegroups().iter().cloned()),
                Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                    return Ok(Vec::new())
                }
                Err(error) => return Err(AwsError::from_sdk("eks:ListNodegroups", error)),
            }
        }
        let described = each(names, |name| async move {
            let request = client.describe_nodegroup().cluster_name(*cluster).nodegroup_name(name);
            match bound.call(request.send()).await {
                Ok(output) => Ok(output.nodegroup),
                Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(None),
                Err(error) => Err(AwsError::from_sdk("eks:DescribeNodegroup", error)),
            }
        })
        .await?;
        Ok(described.into_iter().flatten().collect::<Vec<Nodegroup>>())
    })
    .await?;
    Ok(per_cluster.into_iter().flatten().collect())
}

/// At most `limit` calls of one sweep in flight: the sweep fans out over every resource at once,
/// and each call waits here for a free slot. A slot is held for one call (one page), never while
/// waiting on other calls, so nested fan-outs cannot deadlock.
pub(crate) struct CallBound(Semaphore);

impl CallBound {
    pub(crate) fn new(limit: usize) -> CallBound {
        CallBound(Semaphore::new(limit.max(1)))
    }

    /// Runs `call` once a slot is free.
    pub(crate) async fn call<T>(&self, call: impl Future<Output = T>) -> T {
        let _slot = self.0.acquire().await.expect("the sweep's semaphore is never closed");
        call.await
    }
}

/// `look` for every item, all started at once (their calls wait for the [`CallBound`]), results
/// in the items' order; the first error drops the rest.
pub(crate) async fn each<I, T, F, Fut>(items: I, look: F) -> Result<Vec<T>, AwsError>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    futures_util::future::try_join_all(items.into_iter().map(look)).await
}

/// Sweep results in a stable order, by resource, so reports do not change from run to run.
pub(crate) fn sort_found(found: &mut [crate::Found]) {
    found.sort_by(|a, b| a.resource.cmp(&b.resource).then_with(|| a.kind.name.cmp(b.kind.name)));
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn no_more_calls_than_the_bound_run_at_once_and_results_keep_the_items_order() {
        let bound = CallBound::new(3);
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let results = each(0..20u64, |item| {
            let (bound, running, most) = (&bound, running.clone(), most.clone());
            async move {
                bound
                    .call(async {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        // Later items finish first: the order must come from the items, not the finish.
                        tokio::time::sleep(Duration::from_millis(20 - item)).await;
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await;
                Ok(item * 10)
            }
        })
        .await
        .unwrap();

        assert_eq!(most.load(Ordering::SeqCst), 3);
        assert_eq!(results, (0..20).map(|item| item * 10).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn the_first_error_ends_the_fan_out() {
        let result = each(0..5, |item| async move {
            if item == 2 {
                Err(AwsError::permanent("test:Call", "refused"))
            } else {
                Ok(item)
            }
        })
        .await;

        assert!(matches!(result, Err(AwsError::Permanent { operation: "test:Call", .. })), "{result:?}");
    }
}
