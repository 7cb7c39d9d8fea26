//! `trail-events-narrowed`: a trail that no longer logs management write events, no longer logs
//! every region, or no longer validates its log files.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::watchdog::{finding, on, TrailCall, WatchdogChange, WatchdogState, CLOUDTRAIL_SOURCE, TRAIL};

pub static RULE: Rule<WatchdogChange, WatchdogState> = Rule {
    meta: RuleMeta {
        id: "trail-events-narrowed",
        title: "CloudTrail trail narrowed",
        severity: Severity::High,
        default_mode: Mode::Notify,
        rationale: "snapback judges management write events: a trail that drops them, or the regions they happen in, \
                    blinds it as surely as a stopped one; without log file validation, edited logs go unnoticed.",
        manual_fix: "aws cloudtrail put-event-selectors --trail-name <trail> --event-selectors \
                     '[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true}]'; aws cloudtrail update-trail \
                     --name <trail> --is-multi-region-trail --enable-log-file-validation",
        events: &[on(CLOUDTRAIL_SOURCE, "PutEventSelectors"), on(CLOUDTRAIL_SOURCE, "UpdateTrail")],
        iam_actions: &[],
        options: NO_OPTIONS,
        changes_only: Some(
            "an account may keep narrow trails on purpose (data events only); whether the trail snapback reads logs \
             what it needs is the heartbeat's to check",
        ),
    },
    check_change,
    check_state: None,
};

fn check_change(meta: &'static RuleMeta, change: &WatchdogChange, _config: &Config) -> Option<Finding> {
    let WatchdogChange::Trail { trail, call: TrailCall::Narrowed(narrowed), .. } = change else { return None };
    if narrowed.is_empty() {
        return None;
    }
    // The selectors before the call are not in the record: putting them back is for a person.
    let manual = "the trail's earlier settings are not in the record: set them again by hand".to_owned();
    Some(finding(meta, &TRAIL, trail, narrowed.clone(), None, Some(manual)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::services::watchdog::CLOUDTRAIL_SOURCE;
    use crate::Config;

    #[test]
    fn selectors_without_management_writes_are_reported() {
        let request = json!({"trailName": "org-trail", "eventSelectors": [
            {"readWriteType": "ReadOnly", "includeManagementEvents": false, "dataResources": []}]});
        let found = findings(&record(CLOUDTRAIL_SOURCE, "PutEventSelectors", request), &Config::default());
        assert_eq!(rule_ids(&found), ["trail-events-narrowed"]);
        assert_eq!(found[0].changed, ["management write events no longer logged"]);
        let whole = json!({"trailName": "org-trail", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": true}]});
        assert!(findings(&record(CLOUDTRAIL_SOURCE, "PutEventSelectors", whole), &Config::default()).is_empty());
    }

    #[test]
    fn an_update_is_judged_on_what_it_sets_not_on_what_it_leaves_out() {
        let console = json!({"name": "arn:aws:cloudtrail:us-west-2:111122223333:trail/t", "isMultiRegionTrail": true,
                             "enableLogFileValidation": false, "s3BucketName": "b", "kmsKeyId": ""});
        let found = findings(&record(CLOUDTRAIL_SOURCE, "UpdateTrail", console), &Config::default());
        assert_eq!(found[0].resource, "t");
        assert_eq!(found[0].changed.len(), 1);
        assert!(found[0].changed[0].starts_with("log file validation turned off"));
        let single = json!({"name": "t", "isMultiRegionTrail": false});
        assert!(findings(&record(CLOUDTRAIL_SOURCE, "UpdateTrail", single), &Config::default())[0].changed[0]
            .contains("single-region"));
        let bucket_only = json!({"name": "t", "s3BucketName": "other"});
        assert!(findings(&record(CLOUDTRAIL_SOURCE, "UpdateTrail", bucket_only), &Config::default()).is_empty());
    }
}
