use std::time::{Duration, Instant};

use snapback_rules::finding::{Action, EndpointTarget, RevokeTarget};
use snapback_rules::guards::same_principal;
use snapback_rules::rules::eks_cluster_admin_access_entry::ADMIN_POLICIES;
use snapback_rules::security_group::is_world_cidr;

use crate::eks::{AccessEntries, ClusterFacts, EksClusters, EndpointState, UpdateOutcome};
use crate::error::AwsError;
use crate::security_groups::{RevokeOutcome, SecurityGroups};

/// What running one action achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionResult {
    Restored,
    /// Already in the safe state: success without a change.
    AlreadySafe,
    /// Nothing to do, for a reason worth logging (a modified rule that is egress, a cluster
    /// that no longer exists).
    NotApplicable(String),
    /// Deliberately left alone although unsafe, for a reason the alert must carry (the
    /// cluster's last admin, snapback's own role).
    Refused(String),
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

/// Runs a plan's actions through the capabilities. Idempotent: running an action twice leaves
/// the same state, and the second run answers [`ActionResult::AlreadySafe`].
pub struct Executor<G, E, A> {
    pub groups: G,
    pub eks: E,
    pub access: A,
    pub busy: BusyPolicy,
    /// Principals whose access snapback never removes (its own roles).
    pub protected_principals: Vec<String>,
}

impl<G: SecurityGroups, E: EksClusters, A: AccessEntries> Executor<G, E, A> {
    pub async fn execute(&self, action: &Action, deadline: Instant) -> Result<ActionResult, AwsError> {
        self.execute_knowing(action, deadline, None).await
    }

    /// As [`Executor::execute`], starting from `described`: the cluster as the caller just
    /// described it, which saves the first DescribeCluster. Later attempts describe afresh.
    pub async fn execute_knowing(
        &self,
        action: &Action,
        deadline: Instant,
        described: Option<ClusterFacts>,
    ) -> Result<ActionResult, AwsError> {
        match action {
            Action::RevokeIngress { group_id, target } => self.revoke(group_id, target).await,
            Action::UpdateEndpointAccess { cluster, access } => {
                self.restore_cluster(cluster, deadline, described, |facts| {
                    let target = endpoint_target(&facts.endpoint, access);
                    (target != facts.endpoint).then_some(ClusterUpdate::Endpoint(target))
                })
                .await
            }
            Action::EnableLogging { cluster, types } => {
                self.restore_cluster(cluster, deadline, described, |facts| {
                    let off: Vec<String> =
                        types.iter().filter(|kind| !facts.logging_enabled.contains(*kind)).cloned().collect();
                    (!off.is_empty()).then_some(ClusterUpdate::Logging(off))
                })
                .await
            }
            Action::AssociateEncryptionConfig { cluster, key_arn } => {
                self.restore_cluster(cluster, deadline, described, |facts| {
                    (!facts.secrets_encrypted).then(|| ClusterUpdate::Encryption(key_arn.clone()))
                })
                .await
            }
            Action::DisassociateAccessPolicy { cluster, principal_arn, policy_arn } => {
                self.remove_admin(cluster, principal_arn, policy_arn).await
            }
        }
    }

    async fn revoke(&self, group_id: &str, target: &RevokeTarget) -> Result<ActionResult, AwsError> {
        let outcome = match target {
            RevokeTarget::RuleId(id) => self.groups.revoke_ingress_rules(group_id, std::slice::from_ref(id)).await?,
            RevokeTarget::Permission(permission) => {
                self.groups.revoke_ingress_permissions(group_id, std::slice::from_ref(permission)).await?
            }
            RevokeTarget::ModifiedRuleId(id) => {
                let current = self.groups.describe_rules(group_id, std::slice::from_ref(id)).await?;
                let Some(rule) = current.into_iter().next() else { return Ok(ActionResult::AlreadySafe) };
                if rule.is_egress {
                    return Ok(ActionResult::NotApplicable(format!("{id} is an egress rule")));
                }
                if !rule.cidr.as_deref().is_some_and(is_world_cidr) {
                    return Ok(ActionResult::AlreadySafe);
                }
                self.groups.revoke_ingress_rules(group_id, std::slice::from_ref(id)).await?
            }
        };
        Ok(match outcome {
            RevokeOutcome::Revoked => ActionResult::Restored,
            RevokeOutcome::AlreadyGone => ActionResult::AlreadySafe,
        })
    }

    /// Describe, work out what is still needed, update; a busy cluster (CREATING, UPDATING, a
    /// 409) is waited for until shortly before `deadline`.
    async fn restore_cluster(
        &self,
        cluster: &str,
        deadline: Instant,
        mut described: Option<ClusterFacts>,
        needed: impl Fn(&ClusterFacts) -> Option<ClusterUpdate>,
    ) -> Result<ActionResult, AwsError> {
        let mut wait = self.busy.first_wait;
        loop {
            let Some(facts) = self.describe(cluster, &mut described).await? else { return Ok(gone(cluster)) };
            let Some(update) = needed(&facts) else { return Ok(ActionResult::AlreadySafe) };
            let attempt = if facts.is_busy() {
                Err(busy(&facts))
            } else {
                match &update {
                    ClusterUpdate::Endpoint(target) => self.eks.update_endpoint_access(cluster, target).await,
                    ClusterUpdate::Logging(types) => self.eks.enable_logging(cluster, types).await,
                    ClusterUpdate::Encryption(key_arn) => self.eks.associate_encryption_config(cluster, key_arn).await,
                }
            };
            match settle(attempt)? {
                Some(result) => return Ok(result),
                None => self.wait_for(cluster, &mut wait, deadline).await?,
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
        let admins = self.access.principals_with_policies(cluster, ADMIN_POLICIES).await?;
        if !admins.iter().any(|admin| admin != principal_arn) {
            return Ok(ActionResult::Refused(format!(
                "{principal_arn} is the last cluster admin of {cluster}; removing it would lock everyone out"
            )));
        }
        Ok(match self.access.disassociate_access_policy(cluster, principal_arn, policy_arn).await? {
            true => ActionResult::Restored,
            false => ActionResult::AlreadySafe,
        })
    }

    /// The caller's description once, then fresh ones.
    async fn describe(
        &self,
        cluster: &str,
        described: &mut Option<ClusterFacts>,
    ) -> Result<Option<ClusterFacts>, AwsError> {
        match described.take() {
            Some(facts) => Ok(Some(facts)),
            None => self.eks.describe_cluster(cluster).await,
        }
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

/// What a cluster still needs, worked out from the cluster as it is now.
enum ClusterUpdate {
    Endpoint(EndpointState),
    /// The log types still off.
    Logging(Vec<String>),
    Encryption(String),
}

/// The endpoint state to ask for: the current one with the target's fields applied, never with
/// both endpoints off (the API refuses it, and it would cut everyone off).
fn endpoint_target(current: &EndpointState, access: &EndpointTarget) -> EndpointState {
    let mut target = current.clone();
    if let Some(private) = access.private {
        target.private = private;
    }
    if let Some(public) = access.public {
        target.public = public;
    }
    if let Some(cidrs) = &access.public_cidrs {
        target.public_cidrs = cidrs.clone();
    }
    if !target.public && !target.private {
        target.private = true;
    }
    target
}

/// Ok(Some(result)) when the attempt settled, Ok(None) when the cluster was busy.
fn settle(attempt: Result<UpdateOutcome, AwsError>) -> Result<Option<ActionResult>, AwsError> {
    match attempt {
        Ok(UpdateOutcome::Started) => Ok(Some(ActionResult::Restored)),
        Ok(UpdateOutcome::NoChange) => Ok(Some(ActionResult::AlreadySafe)),
        Err(AwsError::Busy { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

fn busy(facts: &ClusterFacts) -> AwsError {
    AwsError::Busy { operation: "eks:DescribeCluster", message: format!("cluster {} is {}", facts.name, facts.status) }
}

fn gone(cluster: &str) -> ActionResult {
    ActionResult::NotApplicable(format!("cluster {cluster} no longer exists"))
}
