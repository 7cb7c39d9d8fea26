//! The heartbeat: proof that the whole path from the bus to each guard still works. On the sweep
//! schedule the watchdog puts one marked event per guard's EventBridge rule on each bus snapback
//! listens on; the rule's pattern lets it through to the function, which records it (the ledger,
//! a `Heartbeats` metric). An alarm on the metric, missing data breaching, fires when anything on
//! the way is broken: the rule disabled, deleted or without its target, the function throttled
//! to zero, or the watchdog itself no longer running.

use serde_json::{json, Value};

/// The heartbeat's EventBridge `source`: custom events may not use `aws.*`, and no AWS service
/// sends this one.
pub const SOURCE: &str = "snapback.heartbeat";
pub const DETAIL_TYPE: &str = "snapback heartbeat";

/// What sending the heartbeats takes, on the default bus and snapback's own (the module grants
/// exactly those); the function that sweeps itself (the watchdog) sends them, on its schedule.
pub const SENDER_ACTIONS: &[&str] = &["events:PutEvents"];

/// The pattern that lets a heartbeat for `function`'s rule `route` (its index among the
/// function's event patterns) through that rule, and no other.
pub fn pattern(function: &str, route: usize) -> Value {
    json!({
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {"function": [function], "route": [route]},
    })
}

/// The name the default bus goes by.
pub const DEFAULT_BUS: &str = "default";

/// The detail of the heartbeat for `function`'s rule `route` on `bus`, sent at `sent_at` (RFC
/// 3339). The bus is named in it because nothing in the event EventBridge delivers says which bus
/// carried it, and a central deployment has the same rule on two buses.
pub fn detail(function: &str, route: usize, bus: &str, sent_at: &str) -> Value {
    json!({"function": function, "route": route, "bus": bus, "sent_at": sent_at})
}

/// Every guard's rule a heartbeat goes through: (function, route).
pub fn routes() -> Vec<(&'static str, usize)> {
    crate::registry::functions()
        .iter()
        .flat_map(|function| (0..function.events_by_source().len()).map(move |route| (function.name, route)))
        .collect()
}

/// A heartbeat as a guard receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The EventBridge event's id.
    pub id: String,
    /// The account that put it (set by EventBridge, not by the sender).
    pub account: String,
    pub region: Option<String>,
    pub function: String,
    pub route: u64,
    pub bus: String,
    pub sent_at: Option<String>,
}

impl Heartbeat {
    /// The rule it went through, as the Terraform module keys its rules and alarms: `<function>-<route>`.
    pub fn route_key(&self) -> String {
        format!("{}-{}", self.function, self.route)
    }
}

/// Why an event with the heartbeat's source is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a heartbeat: {0}")]
pub struct NotAHeartbeat(&'static str);

/// None when the payload is not from the heartbeat's source; else the heartbeat, or what is
/// missing from it.
pub fn read(payload: &Value) -> Option<Result<Heartbeat, NotAHeartbeat>> {
    if payload.get("source").and_then(Value::as_str) != Some(SOURCE) {
        return None;
    }
    let text = |value: &Value, key: &'static str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let detail = payload.get("detail").filter(|detail| detail.is_object());
    Some((|| {
        if payload.get("detail-type").and_then(Value::as_str) != Some(DETAIL_TYPE) {
            return Err(NotAHeartbeat("detail-type"));
        }
        let detail = detail.ok_or(NotAHeartbeat("detail"))?;
        Ok(Heartbeat {
            id: text(payload, "id").ok_or(NotAHeartbeat("id"))?,
            account: text(payload, "account").ok_or(NotAHeartbeat("account"))?,
            region: text(payload, "region"),
            function: text(detail, "function").ok_or(NotAHeartbeat("detail.function"))?,
            route: detail.get("route").and_then(Value::as_u64).ok_or(NotAHeartbeat("detail.route"))?,
            bus: text(detail, "bus").unwrap_or_else(|| DEFAULT_BUS.to_owned()),
            sent_at: text(detail, "sent_at"),
        })
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(detail: Value) -> Value {
        json!({
            "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "source": SOURCE,
            "detail-type": DETAIL_TYPE, "account": "111122223333", "region": "eu-west-1",
            "time": "2026-12-01T10:00:00Z", "resources": [], "detail": detail,
        })
    }

    #[test]
    fn a_heartbeat_reads_back_as_sent() {
        let heartbeat =
            read(&envelope(detail("sg-guard", 0, "snapback-central", "2026-12-01T10:00:00.120Z"))).unwrap().unwrap();
        assert_eq!(heartbeat.function, "sg-guard");
        assert_eq!(heartbeat.route, 0);
        assert_eq!(heartbeat.route_key(), "sg-guard-0");
        assert_eq!(heartbeat.bus, "snapback-central");
        assert_eq!(heartbeat.account, "111122223333");
        assert_eq!(heartbeat.sent_at.as_deref(), Some("2026-12-01T10:00:00.120Z"));
    }

    #[test]
    fn other_sources_are_not_heartbeats_and_a_broken_one_says_what_is_missing() {
        let mut cloudtrail = envelope(json!({}));
        cloudtrail["source"] = json!("aws.ec2");
        assert!(read(&cloudtrail).is_none());
        assert_eq!(read(&envelope(json!({"route": 0}))).unwrap(), Err(NotAHeartbeat("detail.function")));
        assert_eq!(
            read(&envelope(json!({"function": "x", "route": "0"}))).unwrap(),
            Err(NotAHeartbeat("detail.route"))
        );
        let mut retyped = envelope(detail("x", 0, DEFAULT_BUS, "t"));
        retyped["detail-type"] = json!("AWS API Call via CloudTrail");
        assert_eq!(read(&retyped).unwrap(), Err(NotAHeartbeat("detail-type")));
        assert_eq!(read(&envelope(json!("beat"))).unwrap(), Err(NotAHeartbeat("detail")));
    }

    #[test]
    fn every_generated_pattern_lets_through_its_own_routes_heartbeat() {
        let manifest = crate::manifest::manifest();
        let routes = routes();
        for function in crate::registry::functions() {
            let patterns = manifest["functions"][function.name]["event_patterns"].as_array().unwrap();
            let own: Vec<usize> =
                routes.iter().filter(|(name, _)| *name == function.name).map(|(_, route)| *route).collect();
            assert_eq!(own, (0..patterns.len()).collect::<Vec<_>>(), "{}", function.name);
            for (route, generated) in patterns.iter().enumerate() {
                assert_eq!(generated["$or"][1], pattern(function.name, route), "{} {route}", function.name);
            }
        }
        assert!(routes.contains(&("sg-guard", 0)) && routes.contains(&("watchdog", 0)));
        assert!(!routes.iter().any(|(name, _)| *name == "sweeper" || *name == "slack-notifier"));
    }
}
