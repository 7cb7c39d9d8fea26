//! Replays the real CloudTrail records of `../shared/cloudtrail` (beside the repository on the
//! project's machines, absent from a user's clone) and matches `expected.json` for the stages
//! snapback implements. Anything reported that the verdicts do not require or allow is a false
//! positive, in every stage.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use snapback_cli::replay::replay;
use snapback_rules::Config;

/// Stages whose required findings this build must report.
const IMPLEMENTED_STAGES: &[&str] = &["sg", "eks", "node", "tamper"];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/cloudtrail")
}

#[test]
fn replay_of_the_shared_corpus_matches_expected_verdicts() {
    let dir = corpus();
    let Ok(expected) = std::fs::read_to_string(dir.join("expected.json")) else {
        eprintln!("SKIPPED: {} is not here (a fresh clone has no ../shared); nothing to replay", dir.display());
        return;
    };
    let expected: Value = serde_json::from_str(&expected).unwrap();
    let mut checked = 0;
    let mut required_checked = 0;
    for (file, verdict) in expected.as_object().unwrap() {
        if file.starts_with('_') {
            continue;
        }
        let summary = replay(&[dir.join(file)], &Config::default());
        assert!(
            summary.unreadable_inputs.is_empty() && summary.unreadable_records.is_empty(),
            "{file}: {}",
            summary.render()
        );
        let reported: BTreeSet<(String, String)> = summary
            .findings
            .iter()
            .map(|found| (found.finding.rule.id.to_owned(), found.finding.resource.clone()))
            .collect();
        let required: Vec<(String, Option<String>)> = verdict["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| (pair[0].as_str().unwrap().to_owned(), pair[1].as_str().map(str::to_owned)))
            .collect();
        let allowed: BTreeSet<&str> =
            verdict["allowed"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        for (rule, _) in &reported {
            assert!(
                required.iter().any(|(id, _)| id == rule) || allowed.contains(rule.as_str()),
                "{file}: false positive {rule}"
            );
        }
        if IMPLEMENTED_STAGES.contains(&verdict["stage"].as_str().unwrap()) {
            // Stage `node` also holds the registry (ECR) records: a rule whose slice no function
            // hosts yet is not required (replay judges hosted slices only).
            for (rule, resource) in
                required.iter().filter(|(rule, _)| snapback_rules::registry::function_of(rule).is_some())
            {
                let found = reported.iter().any(|(id, res)| id == rule && resource.as_ref().is_none_or(|r| r == res));
                assert!(found, "{file}: missing {rule} on {resource:?}; reported {reported:?}");
                required_checked += 1;
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} records in the corpus");
    assert!(required_checked >= 3, "only {required_checked} required findings checked");
    eprintln!("replayed {checked} corpus records, {required_checked} required findings present, no false positives");
}

/// The cheap look that lets most records go unparsed gives, for every real record it skips, the
/// label the full read gives: it changes how fast a replay is, never what it says.
#[test]
fn the_cheap_look_skips_real_records_exactly_as_the_full_read_does() {
    let dir = corpus();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: {} is not here (a fresh clone has no ../shared)", dir.display());
        return;
    };
    let mut skipped = 0;
    let mut judged = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name == "expected.json" {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        // A record, an envelope, or a trail log of them.
        let records = match value.get("Records").and_then(Value::as_array) {
            Some(records) => records.clone(),
            None => vec![value],
        };
        for record in records {
            let text = serde_json::to_vec(&record).unwrap();
            let full = snapback_rules::Event::from_value(&record).ok().and_then(|event| {
                snapback_rules::screen(&event, &Config::default(), &[], snapback_rules::listens_to)
                    .map(|ignored| ignored.label())
            });
            match snapback_cli::replay::head::skip_reason(&text, snapback_rules::listens_to) {
                Some(label) => {
                    assert_eq!(Some(label), full, "{name}");
                    skipped += 1;
                }
                None => judged += 1,
            }
        }
    }
    assert!(skipped >= 10 && judged >= 10, "{skipped} skipped, {judged} judged");
    eprintln!("{skipped} corpus records skipped by the cheap look with the full read's label; {judged} left to it");
}
