//! `guard-alerts-silenced`: snapback's alert topic deleted, unsubscribed or reconfigured: snapback
//! still acts, but nobody hears of it.

use crate::config::{Config, Mode};
use crate::finding::{Finding, Severity};
use crate::options::NO_OPTIONS;
use crate::registry::{Rule, RuleMeta};
use crate::services::watchdog::{
    finding, is_own_name, on, topic_name, TopicCall, WatchdogChange, WatchdogState, REAPPLY, SNS_SOURCE, TOPIC,
};

pub static RULE: Rule<WatchdogChange, WatchdogState> = Rule {
    meta: RuleMeta {
        id: "guard-alerts-silenced",
        title: "snapback alerts silenced",
        severity: Severity::High,
        default_mode: Mode::Notify,
        rationale: "Without its subscriptions, or with a filter or policy that drops its messages, snapback's alert \
                    topic takes every alert and tells no one: reverts and failures go unread.",
        manual_fix: "terraform apply on the snapback module re-creates the topic and its subscriptions; confirm email \
                     subscriptions again",
        events: &[
            on(SNS_SOURCE, "Unsubscribe"),
            on(SNS_SOURCE, "DeleteTopic"),
            on(SNS_SOURCE, "SetTopicAttributes"),
            on(SNS_SOURCE, "SetSubscriptionAttributes"),
        ],
        iam_actions: &[],
        options: NO_OPTIONS,
        changes_only: None,
    },
    check_change,
    // A topic of snapback's that nobody (no confirmed subscription) reads.
    check_state: Some(|meta, state, _config| {
        let WatchdogState::Topic(topic) = state else { return None };
        let name = topic_name(&topic.arn);
        (is_own_name(name) && topic.subscriptions == 0).then(|| {
            let changed = format!("snapback's alert topic {name} has no confirmed subscription: alerts reach no one");
            finding(meta, &TOPIC, &topic.arn, vec![changed], None, Some(REAPPLY.to_owned()))
        })
    }),
};

fn check_change(meta: &'static RuleMeta, change: &WatchdogChange, _config: &Config) -> Option<Finding> {
    let WatchdogChange::Topic { topic_arn, call } = change else { return None };
    let topic = topic_name(topic_arn);
    if !is_own_name(topic) {
        return None;
    }
    let changed = match call {
        TopicCall::Unsubscribe { subscription } => {
            format!("subscription {subscription} of snapback's alert topic {topic} removed")
        }
        TopicCall::Delete => format!("snapback's alert topic {topic} deleted"),
        TopicCall::SetTopicAttribute(attribute) => {
            format!("attribute {attribute} of snapback's alert topic {topic} changed")
        }
        TopicCall::SetSubscriptionAttribute { subscription, attribute } => {
            format!("attribute {attribute} of subscription {subscription} to snapback's alert topic {topic} changed")
        }
    };
    Some(finding(meta, &TOPIC, topic_arn, vec![changed], None, Some(REAPPLY.to_owned())))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::test_support::*;
    use crate::services::watchdog::{AlertTopicState, WatchdogState, SNS_SOURCE};
    use crate::Config;

    const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:snapback-alerts";

    #[test]
    fn every_way_to_silence_snapbacks_topic_is_reported() {
        let subscription = format!("{TOPIC}:5f1a7c0e-0000");
        for (name, request, changed) in [
            ("Unsubscribe", json!({"subscriptionArn": subscription}), format!("subscription {subscription} of snapback's alert topic snapback-alerts removed")),
            ("DeleteTopic", json!({"topicArn": TOPIC}), "snapback's alert topic snapback-alerts deleted".to_owned()),
            ("SetTopicAttributes", json!({"topicArn": TOPIC, "attributeName": "Policy", "attributeValue": "{}"}), "attribute Policy of snapback's alert topic snapback-alerts changed".to_owned()),
            ("SetSubscriptionAttributes", json!({"subscriptionArn": subscription, "attributeName": "FilterPolicy"}), format!("attribute FilterPolicy of subscription {subscription} to snapback's alert topic snapback-alerts changed")),
        ] {
            let found = findings(&record(SNS_SOURCE, name, request), &Config::default());
            assert_eq!(rule_ids(&found), ["guard-alerts-silenced"], "{name}");
            assert_eq!(found[0].resource, TOPIC);
            assert_eq!(found[0].changed, [changed]);
            assert!(found[0].plan.actions.is_empty());
        }
    }

    #[test]
    fn a_sweep_reports_a_topic_nobody_reads() {
        let topic =
            |arn: &str, subscriptions: usize| WatchdogState::Topic(AlertTopicState { arn: arn.into(), subscriptions });
        let config = Config::default();
        let unread = state_findings(&topic(TOPIC, 0), &config);
        assert_eq!(rule_ids(&unread), ["guard-alerts-silenced"]);
        assert!(unread[0].changed[0].contains("no confirmed subscription"));
        assert!(state_findings(&topic(TOPIC, 2), &config).is_empty());
        assert!(state_findings(&topic("arn:aws:sns:eu-west-1:111122223333:team", 0), &config).is_empty());
    }

    #[test]
    fn other_topics_are_not_snapbacks_business() {
        let other = json!({"subscriptionArn": "arn:aws:sns:us-west-2:025658654491:team-alerts:c3019def"});
        assert!(findings(&record(SNS_SOURCE, "Unsubscribe", other), &Config::default()).is_empty());
    }
}
