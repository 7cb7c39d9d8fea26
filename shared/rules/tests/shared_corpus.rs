//! The real CloudTrail records of `../shared/cloudtrail` (beside the repository on the project's
//! machines, absent from a user's clone) judged by every registered slice, hosted or not yet, as
//! `snapback replay` judges a record: the guards first (a failed or dry-run call is ignored), then
//! the rules with the default configuration. Stages whose slices exist must report their required
//! findings; anything reported that a verdict neither requires nor allows is a false positive, in
//! every stage. (The CLI's own corpus test replays through the hosted slices only.)

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use snapback_rules::registry::registered_services;
use snapback_rules::services::judge_change;
use snapback_rules::{listens_to, screen, Config, Event};

/// Stages whose required findings the registered slices must report.
const IMPLEMENTED_STAGES: &[&str] = &["sg", "eks", "node", "tamper"];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cloudtrail")
}

/// A file's records: one record or envelope, an array of them, or a trail's `{"Records": [...]}`.
fn records(value: Value) -> Vec<Value> {
    match value {
        Value::Array(list) => list,
        Value::Object(mut map) if map.get("Records").is_some_and(Value::is_array) => {
            map.remove("Records").and_then(|records| records.as_array().cloned()).unwrap_or_default()
        }
        other => vec![other],
    }
}

/// (rule, resource) of every finding of the file's records.
fn reported(file: &str, value: Value, config: &Config) -> BTreeSet<(String, String)> {
    let mut reported = BTreeSet::new();
    for record in records(value) {
        let Ok(event) = Event::from_value(&record) else { continue };
        if screen(&event, config, &[], listens_to).is_some() {
            continue;
        }
        let findings = judge_change(registered_services(), &event, config)
            .unwrap_or_else(|unreadable| panic!("{file}: unreadable: {unreadable}"));
        reported.extend(findings.into_iter().map(|found| (found.rule.id.to_owned(), found.resource)));
    }
    reported
}

#[test]
fn the_shared_corpus_gets_its_expected_verdicts_from_every_registered_slice() {
    let dir = corpus();
    let Ok(expected) = std::fs::read_to_string(dir.join("expected.json")) else {
        eprintln!("SKIPPED: {} is not here (a fresh clone has no ../shared); nothing to replay", dir.display());
        return;
    };
    let expected: Value = serde_json::from_str(&expected).unwrap();
    let config = Config::default();
    let (mut checked, mut node_required) = (0, 0);
    for (file, verdict) in expected.as_object().unwrap() {
        if file.starts_with('_') {
            continue;
        }
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|error| panic!("{file}: {error}"));
        let reported = reported(file, serde_json::from_str(&text).unwrap(), &config);
        let required: Vec<(&str, Option<&str>)> = verdict["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| (pair[0].as_str().unwrap(), pair[1].as_str()))
            .collect();
        let allowed: BTreeSet<&str> = verdict["allowed"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        for (rule, resource) in &reported {
            assert!(
                required.iter().any(|(id, _)| id == rule) || allowed.contains(rule.as_str()),
                "{file}: false positive {rule} on {resource}"
            );
        }
        let stage = verdict["stage"].as_str().unwrap();
        if IMPLEMENTED_STAGES.contains(&stage) {
            for (rule, resource) in &required {
                let found = reported.iter().any(|(id, res)| id == rule && resource.is_none_or(|r| r == res));
                assert!(found, "{file}: missing {rule} on {resource:?}; reported {reported:?}");
                node_required += usize::from(stage == "node");
            }
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} records in the corpus");
    assert!(node_required >= 6, "only {node_required} required node findings checked");
    eprintln!(
        "judged {checked} corpus records; {node_required} required node-stage findings present; no false positives"
    );
}
