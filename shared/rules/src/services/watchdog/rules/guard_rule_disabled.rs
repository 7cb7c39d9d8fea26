//! `guard-rule-disabled`: one of snapback's EventBridge rules disabled, deleted, stripped of its
//! targets or rewritten: its function stops hearing the events it guards.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::watchdog::{
    deployed::DeployedRule, finding, is_own_name, on, RuleCall, WatchdogAction, WatchdogChange, WatchdogState,
    EVENTS_SOURCE, EVENT_RULE, REAPPLY,
};

pub static RULE: Rule<WatchdogChange, WatchdogState> = Rule {
    meta: RuleMeta {
        id: "guard-rule-disabled",
        title: "snapback EventBridge rule disabled",
        severity: Severity::Critical,
        default_mode: Mode::Remediate,
        rationale: "A guard whose rule is disabled, deleted or without its target hears nothing: every change it \
                    guards goes through unjudged, silently.",
        manual_fix: "aws events enable-rule --name <rule>, or terraform apply on the snapback module (which also \
                     re-creates a deleted rule or target)",
        events: &[
            on(EVENTS_SOURCE, "DisableRule"),
            on(EVENTS_SOURCE, "DeleteRule"),
            on(EVENTS_SOURCE, "RemoveTargets"),
            on(EVENTS_SOURCE, "PutRule"),
        ],
        // The restores read the rule (and its targets, and the function they deliver to) first.
        iam_actions: &[
            "events:DescribeRule",
            "events:EnableRule",
            "events:ListTargetsByRule",
            "events:PutRule",
            "events:PutTargets",
            "lambda:GetFunction",
        ],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // A rule disabled or left without a target however it happened (the watchdog's own rule,
    // whose disabling reaches no function).
    check_state: Some(check_state),
};

fn check_state(meta: &'static RuleMeta, state: &WatchdogState, _config: &Config) -> Option<Finding> {
    let WatchdogState::Rule(rule) = state else { return None };
    if !is_own_name(&rule.name) {
        return None;
    }
    let name = &rule.name;
    if !rule.enabled {
        let action = WatchdogAction::EnableRule { rule: name.clone(), bus: rule.bus.clone() };
        let changed = format!("snapback's EventBridge rule {name} is disabled");
        return Some(finding(meta, &EVENT_RULE, name, vec![changed], Some(action), None));
    }
    (rule.targets == 0).then(|| {
        let changed = format!("snapback's EventBridge rule {name} has no target");
        finding(meta, &EVENT_RULE, name, vec![changed], None, Some(REAPPLY.to_owned()))
    })
}

fn check_change(meta: &'static RuleMeta, change: &WatchdogChange, _config: &Config) -> Option<Finding> {
    let WatchdogChange::Rule { rule, bus, call } = change else { return None };
    if !is_own_name(rule) {
        return None;
    }
    let enable = || Some(WatchdogAction::EnableRule { rule: rule.clone(), bus: bus.clone() });
    // A rule the module deploys is put back as deployed; another `snapback-*` rule is reported.
    let restore = |recreate: bool| {
        DeployedRule::named(rule).map(|_| WatchdogAction::RestoreRule { rule: rule.clone(), recreate })
    };
    let (changed, action) = match call {
        RuleCall::Disable => (format!("snapback's EventBridge rule {rule} disabled"), enable()),
        RuleCall::Put { disabled: true } => {
            (format!("snapback's EventBridge rule {rule} rewritten disabled"), enable())
        }
        RuleCall::Put { disabled: false } => {
            (format!("snapback's EventBridge rule {rule} rewritten (its pattern may differ)"), None)
        }
        RuleCall::Delete => (format!("snapback's EventBridge rule {rule} deleted"), restore(true)),
        RuleCall::RemoveTargets(ids) => {
            (format!("targets {} removed from snapback's EventBridge rule {rule}", ids.join(", ")), restore(false))
        }
    };
    let manual = action.is_none().then(|| REAPPLY.to_owned());
    Some(finding(meta, &EVENT_RULE, rule, vec![changed], action, manual))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::services::watchdog::{GuardRuleState, WatchdogState, EVENTS_SOURCE};
    use crate::Config;

    #[test]
    fn a_disabled_snapback_rule_is_enabled_again_on_its_bus() {
        let found = findings(
            &record(
                EVENTS_SOURCE,
                "DisableRule",
                json!({"name": "snapback-sg-guard-0", "eventBusName": "snapback-central"}),
            ),
            &Config::default(),
        );
        assert_eq!(plans(&found), ["guard-rule-disabled snapback-sg-guard-0: enable EventBridge rule snapback-sg-guard-0 on bus snapback-central"]);
        let put = json!({"name": "snapback-sg-guard-0", "state": "DISABLED", "eventPattern": "{}"});
        assert_eq!(
            plans(&findings(&record(EVENTS_SOURCE, "PutRule", put), &Config::default())),
            ["guard-rule-disabled snapback-sg-guard-0: enable EventBridge rule snapback-sg-guard-0"]
        );
    }

    #[test]
    fn a_deployed_rule_deleted_or_stripped_of_its_target_is_put_back_and_another_is_reported() {
        let removed = json!({"rule": "snapback-watchdog-0", "ids": ["snapback"]});
        let found = findings(&record(EVENTS_SOURCE, "RemoveTargets", removed), &Config::default());
        assert_eq!(found[0].changed, ["targets snapback removed from snapback's EventBridge rule snapback-watchdog-0"]);
        assert_eq!(
            plans(&found),
            ["guard-rule-disabled snapback-watchdog-0: put back the target of EventBridge rule snapback-watchdog-0 as deployed"]
        );
        let deleted =
            json!({"name": "snapback-central-sg-guard-0", "eventBusName": "snapback-central", "force": false});
        assert_eq!(
            plans(&findings(&record(EVENTS_SOURCE, "DeleteRule", deleted), &Config::default())),
            ["guard-rule-disabled snapback-central-sg-guard-0: re-create EventBridge rule snapback-central-sg-guard-0 and its target as deployed"]
        );
        // A snapback-* rule the module does not make: reported, with the reapply.
        let unknown = json!({"name": "snapback-nightly-report", "force": false});
        let found = findings(&record(EVENTS_SOURCE, "DeleteRule", unknown), &Config::default());
        assert!(found[0].plan.actions.is_empty());
        assert!(found[0].plan.manual.as_deref().unwrap().contains("terraform apply"));
    }

    #[test]
    fn a_sweep_enables_a_disabled_rule_and_reports_one_without_targets() {
        let rule = |name: &str, enabled: bool, targets: usize| {
            WatchdogState::Rule(GuardRuleState { name: name.into(), bus: None, enabled, targets })
        };
        let config = Config::default();
        assert_eq!(
            plans(&state_findings(&rule("snapback-watchdog-0", false, 1), &config)),
            ["guard-rule-disabled snapback-watchdog-0: enable EventBridge rule snapback-watchdog-0"]
        );
        let untargeted = state_findings(&rule("snapback-watchdog-0", true, 0), &config);
        assert_eq!(untargeted[0].changed, ["snapback's EventBridge rule snapback-watchdog-0 has no target"]);
        assert!(state_findings(&rule("snapback-watchdog-0", true, 1), &config).is_empty());
        assert!(state_findings(&rule("team-nightly", false, 0), &config).is_empty());
    }

    #[test]
    fn other_rules_are_not_snapbacks_business() {
        for (name, request) in [
            ("DisableRule", json!({"name": "DailyLambdaFunction"})),
            ("PutRule", json!({"name": "cttest2", "state": "DISABLED"})),
            ("EnableRule", json!({"name": "snapback-sg-guard-0"})),
        ] {
            assert!(findings(&record(EVENTS_SOURCE, name, request), &Config::default()).is_empty(), "{name}");
        }
    }
}
