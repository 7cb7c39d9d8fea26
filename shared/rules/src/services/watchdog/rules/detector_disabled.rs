//! `detector-disabled`: AWS Config's recorder stopped or deleted, a GuardDuty detector deleted or
//! disabled: the account's other watchers switched off, as an intruder does first.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::watchdog::{
    finding, on, DetectorCall, WatchdogAction, WatchdogChange, WatchdogState, CONFIG_SOURCE, DETECTOR,
    GUARDDUTY_SOURCE, RECORDER,
};

pub static RULE: Rule<WatchdogChange, WatchdogState> = Rule {
    meta: RuleMeta {
        id: "detector-disabled",
        title: "AWS Config or GuardDuty switched off",
        severity: Severity::High,
        default_mode: Mode::Remediate,
        rationale:
            "AWS Config's record and GuardDuty's findings are how the rest of the account's changes and threats \
                    are seen; switching them off comes before what is not meant to be seen.",
        manual_fix: "aws configservice start-configuration-recorder --configuration-recorder-name <name>; for \
                     GuardDuty, aws guardduty create-detector --enable (or update-detector --enable)",
        events: &[
            on(CONFIG_SOURCE, "StopConfigurationRecorder"),
            on(CONFIG_SOURCE, "DeleteConfigurationRecorder"),
            on(GUARDDUTY_SOURCE, "DeleteDetector"),
            on(GUARDDUTY_SOURCE, "UpdateDetector"),
        ],
        iam_actions: &["config:StartConfigurationRecorder"],
        options: NO_OPTIONS,
        changes_only: Some(
            "an account may run without AWS Config or GuardDuty on purpose; switching them off is what counts",
        ),
    },
    check_change,
    check_state: None,
};

fn check_change(meta: &'static RuleMeta, change: &WatchdogChange, _config: &Config) -> Option<Finding> {
    let WatchdogChange::Detector { name, call } = change else { return None };
    let recreate = |what: &str| Some(format!("{what} cannot be restored in place: re-create it"));
    let (kind, changed, action, manual) = match call {
        DetectorCall::StopRecorder => (
            &RECORDER,
            format!("AWS Config recorder {name} stopped"),
            Some(WatchdogAction::StartConfigurationRecorder { recorder: name.clone() }),
            None,
        ),
        DetectorCall::DeleteRecorder => {
            (&RECORDER, format!("AWS Config recorder {name} deleted"), None, recreate("a deleted recorder"))
        }
        DetectorCall::DeleteDetector => {
            (&DETECTOR, format!("GuardDuty detector {name} deleted"), None, recreate("a deleted detector"))
        }
        // Enabling GuardDuty again is left to a person: its settings and costs are the account's call.
        DetectorCall::DisableDetector => (
            &DETECTOR,
            format!("GuardDuty detector {name} disabled"),
            None,
            Some("aws guardduty update-detector --detector-id <id> --enable".to_owned()),
        ),
    };
    Some(finding(meta, kind, name, vec![changed], action, manual))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::services::watchdog::{CONFIG_SOURCE, GUARDDUTY_SOURCE};
    use crate::Config;

    #[test]
    fn a_stopped_recorder_is_started_and_guardduty_is_reported() {
        let stopped = json!({"configurationRecorderName": "default"});
        assert_eq!(
            plans(&findings(&record(CONFIG_SOURCE, "StopConfigurationRecorder", stopped), &Config::default())),
            ["detector-disabled default: start AWS Config recorder default"]
        );
        let disabled = json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0", "enable": false});
        let found = findings(&record(GUARDDUTY_SOURCE, "UpdateDetector", disabled), &Config::default());
        assert_eq!(found[0].changed, ["GuardDuty detector 12abc34d567e8fa901bc2d34e56789f0 disabled"]);
        assert!(found[0].plan.actions.is_empty());
        let enabled = json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0", "enable": true});
        assert!(findings(&record(GUARDDUTY_SOURCE, "UpdateDetector", enabled), &Config::default()).is_empty());
        let frequency = json!({"detectorId": "12abc", "findingPublishingFrequency": "SIX_HOURS"});
        assert!(findings(&record(GUARDDUTY_SOURCE, "UpdateDetector", frequency), &Config::default()).is_empty());
    }
}
