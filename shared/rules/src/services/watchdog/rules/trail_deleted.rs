//! `trail-deleted`: a trail deleted. Nothing can bring its configuration back in place.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::watchdog::{finding, on, TrailCall, WatchdogChange, WatchdogState, CLOUDTRAIL_SOURCE, TRAIL};

pub static RULE: Rule<WatchdogChange, WatchdogState> = Rule {
    meta: RuleMeta {
        id: "trail-deleted",
        title: "CloudTrail trail deleted",
        severity: Severity::Critical,
        default_mode: Mode::Notify,
        rationale: "Without the trail no event reaches snapback, and the account's audit record ends here.",
        manual_fix: "re-create the trail (terraform apply where Terraform owns it), then check what happened while it \
                     was gone in the CloudTrail event history (90 days of management events)",
        events: &[on(CLOUDTRAIL_SOURCE, "DeleteTrail")],
        iam_actions: &[],
        options: NO_OPTIONS,
        changes_only: Some("a deleted trail cannot be described; a missing trail is the heartbeat's to find"),
    },
    check_change,
    check_state: None,
};

fn check_change(meta: &'static RuleMeta, change: &WatchdogChange, _config: &Config) -> Option<Finding> {
    let WatchdogChange::Trail { trail, call: TrailCall::Delete, .. } = change else { return None };
    let manual = "a trail's configuration cannot be restored in place: re-create it".to_owned();
    Some(finding(meta, &TRAIL, trail, vec![format!("trail {trail} deleted")], None, Some(manual)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::services::watchdog::CLOUDTRAIL_SOURCE;
    use crate::Config;

    #[test]
    fn a_deleted_trail_is_reported_with_no_restore() {
        let found =
            findings(&record(CLOUDTRAIL_SOURCE, "DeleteTrail", json!({"name": "org-trail"})), &Config::default());
        assert_eq!(
            plans(&found),
            ["trail-deleted org-trail: manual: a trail's configuration cannot be restored in place: re-create it"]
        );
    }
}
