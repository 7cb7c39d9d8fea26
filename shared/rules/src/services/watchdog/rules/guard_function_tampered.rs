//! `guard-function-tampered`: one of snapback's functions throttled to zero, deleted, rewritten
//! or stripped of the permission EventBridge invokes it with.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::watchdog::{
    finding, is_own_name, on, FunctionCall, WatchdogAction, WatchdogChange, WatchdogState, FUNCTION, LAMBDA_SOURCE,
    REAPPLY,
};

/// CloudTrail names Lambda calls with and without their API version.
const EVENTS: &[crate::registry::EventKey] = &[
    on(LAMBDA_SOURCE, "PutFunctionConcurrency20171031"),
    on(LAMBDA_SOURCE, "PutFunctionConcurrency"),
    on(LAMBDA_SOURCE, "DeleteFunction20150331"),
    on(LAMBDA_SOURCE, "DeleteFunction"),
    on(LAMBDA_SOURCE, "UpdateFunctionConfiguration20150331v2"),
    on(LAMBDA_SOURCE, "UpdateFunctionConfiguration"),
    on(LAMBDA_SOURCE, "UpdateFunctionCode20150331v2"),
    on(LAMBDA_SOURCE, "UpdateFunctionCode"),
    on(LAMBDA_SOURCE, "RemovePermission20150331v2"),
    on(LAMBDA_SOURCE, "RemovePermission"),
];

pub static RULE: Rule<WatchdogChange, WatchdogState> = Rule {
    meta: RuleMeta {
        id: "guard-function-tampered",
        title: "snapback function tampered with",
        severity: Severity::High,
        default_mode: Mode::Remediate,
        rationale: "A function with zero reserved concurrency throttles every event; a deleted or rewritten one, or \
                    one EventBridge may no longer invoke, guards nothing while looking deployed.",
        manual_fix: "aws lambda delete-function-concurrency --function-name <function> for a zero reservation; \
                     otherwise terraform apply on the snapback module",
        events: EVENTS,
        // The restore reads the reservation first: one set since by someone else stays.
        iam_actions: &["lambda:GetFunctionConcurrency", "lambda:DeleteFunctionConcurrency"],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // A zero reservation however it came about.
    check_state: Some(|meta, state, config| {
        let WatchdogState::Function(function) = state else { return None };
        let zero = WatchdogChange::Function { function: function.name.clone(), call: FunctionCall::Concurrency(0) };
        (function.reserved == Some(0)).then(|| check_change(meta, &zero, config)).flatten()
    }),
};

fn check_change(meta: &'static RuleMeta, change: &WatchdogChange, _config: &Config) -> Option<Finding> {
    let WatchdogChange::Function { function, call } = change else { return None };
    if !is_own_name(function) {
        return None;
    }
    let (changed, action) = match call {
        FunctionCall::Concurrency(0) => (
            format!("snapback's function {function} reserved 0 concurrent executions: every event is throttled"),
            Some(WatchdogAction::DeleteFunctionConcurrency { function: function.clone() }),
        ),
        FunctionCall::Concurrency(_) => return None,
        FunctionCall::Delete => (format!("snapback's function {function} deleted"), None),
        FunctionCall::UpdateConfiguration => (format!("snapback's function {function} reconfigured"), None),
        FunctionCall::UpdateCode => (format!("snapback's function {function} given other code"), None),
        FunctionCall::RemovePermission(statement) => (
            format!(
                "permission {} removed from snapback's function {function}",
                statement.as_deref().unwrap_or("(unnamed)")
            ),
            None,
        ),
    };
    let manual = action.is_none().then(|| REAPPLY.to_owned());
    Some(finding(meta, &FUNCTION, function, vec![changed], action, manual))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::services::watchdog::{GuardFunctionState, WatchdogState, LAMBDA_SOURCE};
    use crate::Config;

    #[test]
    fn a_zero_reservation_is_removed_and_any_other_reservation_is_left() {
        let zero = json!({"functionName": "arn:aws:lambda:eu-west-1:111122223333:function:snapback-sg-guard", "reservedConcurrentExecutions": 0});
        let found = findings(&record(LAMBDA_SOURCE, "PutFunctionConcurrency20171031", zero), &Config::default());
        assert_eq!(plans(&found), ["guard-function-tampered snapback-sg-guard: remove the zero concurrency reservation of function snapback-sg-guard"]);
        let some = json!({"functionName": "snapback-sg-guard", "reservedConcurrentExecutions": 5});
        assert!(findings(&record(LAMBDA_SOURCE, "PutFunctionConcurrency20171031", some), &Config::default()).is_empty());
    }

    #[test]
    fn deleted_rewritten_or_unpermitted_functions_are_reported_with_the_reapply() {
        for (name, request, changed) in [
            (
                "DeleteFunction20150331",
                json!({"functionName": "snapback-watchdog"}),
                "snapback's function snapback-watchdog deleted",
            ),
            (
                "UpdateFunctionConfiguration20150331v2",
                json!({"functionName": "snapback-watchdog", "environment": {}}),
                "snapback's function snapback-watchdog reconfigured",
            ),
            (
                "UpdateFunctionCode20150331v2",
                json!({"functionName": "snapback-watchdog"}),
                "snapback's function snapback-watchdog given other code",
            ),
            (
                "RemovePermission20150331v2",
                json!({"functionName": "snapback-watchdog", "statementId": "events"}),
                "permission events removed from snapback's function snapback-watchdog",
            ),
        ] {
            let found = findings(&record(LAMBDA_SOURCE, name, request), &Config::default());
            assert_eq!(found[0].changed, [changed], "{name}");
            assert!(found[0].plan.manual.as_deref().unwrap().contains("terraform apply"), "{name}");
        }
    }

    #[test]
    fn a_sweep_removes_a_zero_reservation_and_leaves_others() {
        let function = |name: &str, reserved: Option<i32>| {
            WatchdogState::Function(GuardFunctionState { name: name.into(), reserved })
        };
        let config = Config::default();
        assert_eq!(
            plans(&state_findings(&function("snapback-sweeper", Some(0)), &config)),
            ["guard-function-tampered snapback-sweeper: remove the zero concurrency reservation of function snapback-sweeper"]
        );
        for (name, reserved) in [("snapback-sweeper", Some(5)), ("snapback-sweeper", None), ("team-app", Some(0))] {
            assert!(state_findings(&function(name, reserved), &config).is_empty(), "{name} {reserved:?}");
        }
    }

    #[test]
    fn other_functions_are_not_snapbacks_business() {
        let other = json!({"functionName": "arn:aws:lambda:eu-west-1:111122223333:function:stratus-red-team-lambda"});
        assert!(findings(&record(LAMBDA_SOURCE, "UpdateFunctionConfiguration20150331v2", other), &Config::default())
            .is_empty());
    }
}
