//! One CloudWatch embedded-metric-format (EMF) line per decision, written to stdout beside the
//! decision's log line: CloudWatch Logs turns it into metrics with no API call and no extra
//! permission. `Decisions` counts by outcome, and by rule and outcome; `TimeToRestore` is the time
//! from the CloudTrail event to the end of its restore, for a change that was restored.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::outcome::DecisionOutcome;

/// The metrics' namespace, which the Terraform module's dashboard reads.
pub const NAMESPACE: &str = "snapback";

/// The EMF object for one decision of `function` at `now`. `event_time` is the CloudTrail event's
/// (None for what a sweep found: its time is the sweep's, so no time to restore is measured).
pub fn decision_metrics(
    function: &str,
    rule: &str,
    outcome: DecisionOutcome,
    event_time: Option<&str>,
    now: OffsetDateTime,
) -> Value {
    let restored_after = match outcome {
        DecisionOutcome::Remediated => milliseconds_since(event_time, now),
        _ => None,
    };
    let line = json!({"Function": function, "Rule": rule, "Outcome": outcome.as_str()});
    let dimensions = json!([["Outcome"], ["Rule", "Outcome"], ["Function"]]);
    emf(line, "Decisions", restored_after.map(|ms| ("TimeToRestore", ms)), dimensions, now)
}

/// The EMF object for a heartbeat that came through `function`'s rule `route` (`<function>-<index>`)
/// on `bus`: `Heartbeats` by function, and by function, bus and route (what each route's alarm
/// reads, missing data breaching); `HeartbeatDelay`, from its sending to now, when it says when.
pub fn heartbeat_metrics(function: &str, route: &str, bus: &str, sent_at: Option<&str>, now: OffsetDateTime) -> Value {
    let line = json!({"Function": function, "Route": route, "Bus": bus});
    let dimensions = json!([["Function"], ["Function", "Bus", "Route"]]);
    let delay = milliseconds_since(sent_at, now).map(|ms| ("HeartbeatDelay", ms));
    emf(line, "Heartbeats", delay, dimensions, now)
}

/// Milliseconds from an RFC 3339 `time` to `now` (none for a time that does not read).
fn milliseconds_since(time: Option<&str>, now: OffsetDateTime) -> Option<f64> {
    let time = OffsetDateTime::parse(time?, &Rfc3339).ok()?;
    Some((now - time).whole_milliseconds().max(0) as f64)
}

/// An EMF line: `line`'s members (the dimensions' values), a count of one named `count`, and
/// optionally a milliseconds metric, under `dimensions`.
fn emf(
    mut line: Value,
    count: &str,
    milliseconds: Option<(&str, f64)>,
    dimensions: Value,
    now: OffsetDateTime,
) -> Value {
    line[count] = json!(1);
    let mut metrics = vec![json!({"Name": count, "Unit": "Count"})];
    if let Some((name, value)) = milliseconds {
        metrics.push(json!({"Name": name, "Unit": "Milliseconds"}));
        line[name] = json!(value);
    }
    line["_aws"] = json!({
        "Timestamp": (now.unix_timestamp_nanos() / 1_000_000) as i64,
        "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": dimensions, "Metrics": metrics}],
    });
    line
}

/// Writes the line to stdout (Lambda sends it to CloudWatch Logs, which extracts the metrics).
pub fn emit(line: &Value) {
    println!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(time: &str) -> OffsetDateTime {
        OffsetDateTime::parse(time, &Rfc3339).unwrap()
    }

    #[test]
    fn a_restored_change_counts_and_measures_the_time_from_its_event() {
        let now = at("2026-11-27T10:00:02.25Z");
        let line = decision_metrics(
            "sg-guard",
            "sg-open-remote-admin",
            DecisionOutcome::Remediated,
            Some("2026-11-27T10:00:00Z"),
            now,
        );
        assert_eq!(line["Outcome"], "remediated");
        assert_eq!(line["Rule"], "sg-open-remote-admin");
        assert_eq!(line["Decisions"], 1);
        assert_eq!(line["TimeToRestore"], 2250.0);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "snapback");
        assert_eq!(line["_aws"]["Timestamp"], 1_795_773_602_250_i64);
        let names: Vec<&str> =
            directive["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Decisions", "TimeToRestore"]);
        // Every dimension a directive names is a member of the line.
        for set in directive["Dimensions"].as_array().unwrap() {
            for dimension in set.as_array().unwrap() {
                assert!(line[dimension.as_str().unwrap()].is_string(), "{dimension}");
            }
        }
    }

    #[test]
    fn a_heartbeat_counts_by_function_and_by_route_and_measures_its_delay() {
        let now = at("2026-12-01T10:00:00.350Z");
        let line = heartbeat_metrics("sg-guard", "sg-guard-0", "default", Some("2026-12-01T10:00:00Z"), now);
        assert_eq!(line["Heartbeats"], 1);
        assert_eq!(line["HeartbeatDelay"], 350.0);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        for set in directive["Dimensions"].as_array().unwrap() {
            for dimension in set.as_array().unwrap() {
                assert!(line[dimension.as_str().unwrap()].is_string(), "{dimension}");
            }
        }
        assert_eq!(directive["Dimensions"][1], json!(["Function", "Bus", "Route"]));
        let undated = heartbeat_metrics("sg-guard", "sg-guard-0", "default", None, now);
        assert!(undated.get("HeartbeatDelay").is_none());
        assert_eq!(undated["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn only_a_restored_change_with_a_readable_time_measures_time_to_restore() {
        let now = at("2026-11-27T10:00:02Z");
        for (outcome, time) in [
            (DecisionOutcome::WouldRemediate, Some("2026-11-27T10:00:00Z")),
            (DecisionOutcome::Remediated, None),
            (DecisionOutcome::Remediated, Some("2022-10-13 16:35:33")),
        ] {
            let line = decision_metrics("node-guard", "instance-imdsv1", outcome, time, now);
            assert!(line.get("TimeToRestore").is_none(), "{outcome} {time:?}");
            assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len(), 1);
        }
    }
}
