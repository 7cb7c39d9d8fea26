//! `trail-logging-stopped`: a trail stopped logging, and with it every event snapback judges.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::watchdog::{
    finding, on, TrailCall, WatchdogAction, WatchdogChange, WatchdogState, CLOUDTRAIL_SOURCE, TRAIL,
};

pub static RULE: Rule<WatchdogChange, WatchdogState> = Rule {
    meta: RuleMeta {
        id: "trail-logging-stopped",
        title: "CloudTrail trail stopped logging",
        severity: Severity::Critical,
        default_mode: Mode::Remediate,
        rationale: "A stopped trail records nothing: no event reaches snapback, or anyone's audit, until it starts \
                    again. Stopping the trail first is how a change is made unseen.",
        manual_fix: "aws cloudtrail start-logging --name <trail>",
        events: &[on(CLOUDTRAIL_SOURCE, "StopLogging")],
        // The restore reads the trail's status first.
        iam_actions: &["cloudtrail:GetTrailStatus", "cloudtrail:StartLogging"],
        options: NO_OPTIONS,
        changes_only: Some(
            "a trail that was never started is not a change; whether the trail snapback reads is logging is the \
             heartbeat's to check",
        ),
    },
    check_change,
    check_state: None,
};

fn check_change(meta: &'static RuleMeta, change: &WatchdogChange, _config: &Config) -> Option<Finding> {
    let WatchdogChange::Trail { trail, identifier, call: TrailCall::StopLogging } = change else { return None };
    let action = WatchdogAction::StartLogging { trail: trail.clone(), identifier: identifier.clone() };
    Some(finding(meta, &TRAIL, trail, vec![format!("logging stopped on trail {trail}")], Some(action), None))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::services::watchdog::CLOUDTRAIL_SOURCE;
    use crate::Config;

    #[test]
    fn a_stopped_trail_is_started_again_by_the_name_the_call_used() {
        let arn = "arn:aws:cloudtrail:us-west-2:111122223333:trail/org-trail";
        let found = findings(&record(CLOUDTRAIL_SOURCE, "StopLogging", json!({"name": arn})), &Config::default());
        assert_eq!(plans(&found), ["trail-logging-stopped org-trail: start logging on trail org-trail"]);
        assert_eq!(found[0].changed, ["logging stopped on trail org-trail"]);
        let action = found[0].plan.actions[0].downcast::<crate::services::watchdog::WatchdogAction>().unwrap();
        assert_eq!(
            action,
            &crate::services::watchdog::WatchdogAction::StartLogging {
                trail: "org-trail".into(),
                identifier: arn.into()
            }
        );
    }

    #[test]
    fn starting_a_trail_is_no_finding() {
        assert!(
            findings(&record(CLOUDTRAIL_SOURCE, "StartLogging", json!({"name": "t"})), &Config::default()).is_empty()
        );
    }
}
