use snapback_rules::finding::{Action, RevokeTarget};
use snapback_rules::security_group::is_world_cidr;

use crate::error::AwsError;
use crate::security_groups::{RevokeOutcome, SecurityGroups};

/// What running one action achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionResult {
    Restored,
    /// Already in the safe state: success without a change.
    AlreadySafe,
    /// Nothing to do for a reason worth logging (a modified rule that turned out to be egress).
    NotApplicable(String),
}

/// Runs one action. Idempotent: running it twice leaves the same state and the second run
/// answers [`ActionResult::AlreadySafe`].
pub async fn execute<G: SecurityGroups>(groups: &G, action: &Action) -> Result<ActionResult, AwsError> {
    let Action::RevokeIngress { group_id, target } = action;
    let outcome = match target {
        RevokeTarget::RuleIds(ids) => groups.revoke_ingress_rules(group_id, ids).await?,
        RevokeTarget::Permissions(permissions) => groups.revoke_ingress_permissions(group_id, permissions).await?,
        RevokeTarget::ModifiedRuleIds(ids) => {
            let current = groups.describe_rules(group_id, ids).await?;
            if current.is_empty() {
                return Ok(ActionResult::AlreadySafe);
            }
            if current.iter().all(|rule| rule.is_egress) {
                return Ok(ActionResult::NotApplicable("the modified rule is an egress rule".into()));
            }
            let still_open: Vec<String> = current
                .into_iter()
                .filter(|rule| !rule.is_egress && rule.cidr.as_deref().is_some_and(is_world_cidr))
                .map(|rule| rule.rule_id)
                .collect();
            if still_open.is_empty() {
                return Ok(ActionResult::AlreadySafe);
            }
            groups.revoke_ingress_rules(group_id, &still_open).await?
        }
    };
    Ok(match outcome {
        RevokeOutcome::Revoked => ActionResult::Restored,
        RevokeOutcome::AlreadyGone => ActionResult::AlreadySafe,
    })
}
