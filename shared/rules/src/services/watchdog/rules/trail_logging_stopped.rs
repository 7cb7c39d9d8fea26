//! `trail-logging-stopped`: a trail stopped logging, and with it every event snapback judges. A
//! sweep also finds a region no logging trail covers, however that came about.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::watchdog::{
    finding, on, TrailCall, TrailCoverage, WatchdogAction, WatchdogChange, WatchdogState, CLOUDTRAIL_SOURCE,
    REGION_TRAILS, TRAIL,
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
        changes_only: None,
    },
    check_change,
    // However it came about (a trail never started, or stopped before snapback was deployed):
    // no logging trail records this region's management writes, so no guard hears anything.
    check_state: Some(check_state),
};

/// How to make a region's management write events reach snapback again.
const CREATE_TRAIL: &str = "create a multi-region trail that logs management events (read and write), or deploy \
                            the snapback module with create_trail = true";

fn check_state(meta: &'static RuleMeta, state: &WatchdogState, _config: &Config) -> Option<Finding> {
    let WatchdogState::Trails(TrailCoverage { region, trails }) = state else { return None };
    if trails.iter().any(|trail| !trail.readable || (trail.logging && trail.management_writes)) {
        return None;
    }
    // A trail that would record them, stopped: starting it is the restore, from its home region,
    // unless it is an organization's (whose management account starts it).
    let stopped: Vec<_> = trails.iter().filter(|trail| trail.management_writes).collect();
    let startable = stopped.iter().find(|trail| &trail.home_region == region && !trail.organization);
    if let Some(trail) = startable.or(stopped.first()) {
        let name = &trail.name;
        let changed = format!("trail {name} is not logging: no trail records the management write events of {region}");
        if startable.is_none() {
            let manual = format!(
                "aws cloudtrail start-logging --name {} --region {} (from the account that owns it)",
                trail.arn, trail.home_region
            );
            return Some(finding(meta, &TRAIL, name, vec![changed], None, Some(manual)));
        }
        let action = WatchdogAction::StartLogging { trail: name.clone(), identifier: trail.arn.clone() };
        return Some(finding(meta, &TRAIL, name, vec![changed], Some(action), None));
    }
    let changed = match trails.is_empty() {
        true => format!("no trail logs {region}: snapback hears no change made there"),
        false => {
            format!("no trail records the management write events of {region}: snapback hears no change made there")
        }
    };
    Some(finding(meta, &REGION_TRAILS, region, vec![changed], None, Some(CREATE_TRAIL.to_owned())))
}

fn check_change(meta: &'static RuleMeta, change: &WatchdogChange, _config: &Config) -> Option<Finding> {
    let WatchdogChange::Trail { trail, identifier, call: TrailCall::StopLogging } = change else { return None };
    let action = WatchdogAction::StartLogging { trail: trail.clone(), identifier: identifier.clone() };
    Some(finding(meta, &TRAIL, trail, vec![format!("logging stopped on trail {trail}")], Some(action), None))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::services::watchdog::{TrailCoverage, TrailState, WatchdogState, CLOUDTRAIL_SOURCE};
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

    fn trail(name: &str, logging: bool, management_writes: bool) -> TrailState {
        TrailState {
            name: name.into(),
            arn: format!("arn:aws:cloudtrail:eu-west-1:111122223333:trail/{name}"),
            home_region: "eu-west-1".into(),
            organization: false,
            readable: true,
            logging,
            management_writes,
        }
    }

    fn coverage(trails: Vec<TrailState>) -> WatchdogState {
        WatchdogState::Trails(TrailCoverage { region: "eu-west-1".into(), trails })
    }

    #[test]
    fn a_sweep_starts_a_stopped_trail_when_no_other_logs_management_writes() {
        let config = Config::default();
        let found =
            state_findings(&coverage(vec![trail("data-only", true, false), trail("org", false, true)]), &config);
        assert_eq!(plans(&found), ["trail-logging-stopped org: start logging on trail org"]);
        assert_eq!(
            found[0].changed,
            ["trail org is not logging: no trail records the management write events of eu-west-1"]
        );
        // Another trail records them: the stopped one is somebody's own business.
        assert!(
            state_findings(&coverage(vec![trail("org", false, true), trail("audit", true, true)]), &config).is_empty()
        );
    }

    #[test]
    fn a_trail_started_elsewhere_or_by_the_organization_is_reported_and_an_unreadable_one_is_not_held_against_the_region(
    ) {
        let config = Config::default();
        let shadow = TrailState { home_region: "us-east-1".into(), ..trail("everywhere", false, true) };
        let found = state_findings(&coverage(vec![shadow]), &config);
        assert!(found[0].plan.actions.is_empty());
        assert!(found[0].plan.manual.as_deref().unwrap().contains("--region us-east-1"), "{:?}", found[0].plan);
        let organization = TrailState { organization: true, ..trail("org", false, true) };
        assert!(state_findings(&coverage(vec![organization]), &config)[0].plan.actions.is_empty());
        let unreadable = TrailState { readable: false, ..trail("theirs", false, false) };
        assert!(state_findings(&coverage(vec![unreadable]), &config).is_empty());
    }

    #[test]
    fn a_region_no_trail_covers_is_reported_with_how_to_cover_it() {
        let config = Config::default();
        for (trails, changed) in [
            (vec![], "no trail logs eu-west-1: snapback hears no change made there"),
            (
                vec![trail("data-only", true, false)],
                "no trail records the management write events of eu-west-1: snapback hears no change made there",
            ),
        ] {
            let found = state_findings(&coverage(trails), &config);
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].resource, "eu-west-1");
            assert_eq!(found[0].kind.name, "cloudtrail-region");
            assert_eq!(found[0].changed, [changed]);
            assert!(found[0].plan.actions.is_empty());
            assert!(found[0].plan.manual.as_deref().unwrap().contains("multi-region trail"));
        }
    }

    #[test]
    fn starting_a_trail_is_no_finding() {
        assert!(
            findings(&record(CLOUDTRAIL_SOURCE, "StartLogging", json!({"name": "t"})), &Config::default()).is_empty()
        );
    }
}
