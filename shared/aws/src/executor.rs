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
        RevokeTarget::RuleId(id) => groups.revoke_ingress_rules(group_id, std::slice::from_ref(id)).await?,
        RevokeTarget::Permission(permission) => {
            groups.revoke_ingress_permissions(group_id, std::slice::from_ref(permission)).await?
        }
        RevokeTarget::ModifiedRuleId(id) => {
            let current = groups.describe_rules(group_id, std::slice::from_ref(id)).await?;
            let Some(rule) = current.into_iter().next() else { return Ok(ActionResult::AlreadySafe) };
            if rule.is_egress {
                return Ok(ActionResult::NotApplicable(format!("{id} is an egress rule")));
            }
            if !rule.cidr.as_deref().is_some_and(is_world_cidr) {
                return Ok(ActionResult::AlreadySafe);
            }
            groups.revoke_ingress_rules(group_id, std::slice::from_ref(id)).await?
        }
    };
    Ok(match outcome {
        RevokeOutcome::Revoked => ActionResult::Restored,
        RevokeOutcome::AlreadyGone => ActionResult::AlreadySafe,
    })
}
