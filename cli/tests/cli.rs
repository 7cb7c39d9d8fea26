//! The `snapback` binary as a user runs it.

use snapback_testkit::cli;
use snapback_testkit::cloudtrail::{self, ACCOUNT};
use std::io::Write;

/// SSH opened to the world on sg-0abc (no rule ids: a legacy-era record), as one line of JSON.
fn ssh_open() -> String {
    let mut record =
        cloudtrail::authorize_ingress(ACCOUNT, "sg-0abc", vec![cloudtrail::tcp(22, &["0.0.0.0/0"])], vec![]);
    record["eventID"] = "evt-ssh".into();
    record.to_string()
}

fn snapback(args: &[&str]) -> (i32, String, String) {
    let ran = cli::run(std::path::Path::new(env!("CARGO_BIN_EXE_snapback")), args, &[]);
    (ran.status, ran.stdout, ran.stderr)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("snapback-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("2026/11/27")).unwrap();
    dir
}

#[test]
fn replays_a_trail_directory_of_gzip_logs_as_json_lines() {
    let dir = scratch("trail");
    let trail = format!(
        r#"{{"Records": [{}, {{"eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "readOnly": true}}]}}"#,
        ssh_open()
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(trail.as_bytes()).unwrap();
    std::fs::write(
        dir.join("2026/11/27/111122223333_CloudTrail_eu-west-1_20261127T1000Z_abc.json.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a log").unwrap();

    let (status, stdout, stderr) = snapback(&["replay", "--json", dir.to_str().unwrap()]);

    assert_eq!(status, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0]["event_id"], "evt-ssh");
    assert_eq!(lines[0]["event_name"], "AuthorizeSecurityGroupIngress");
    assert_eq!(lines[0]["rule"], "sg-open-remote-admin");
    assert_eq!(lines[0]["resource"], "sg-0abc");
    assert_eq!(lines[0]["mode"], "remediate");
    assert_eq!(lines[0]["plan"]["actions"][0]["action"], "revoke-ingress");
    assert!(stderr.contains("read 2 record(s) from 1 file(s); 1 finding(s)"), "{stderr}");
    assert!(stderr.contains("read-only: 1"), "{stderr}");
}

#[test]
fn a_config_changes_the_mode_and_fail_on_findings_sets_the_status() {
    let dir = scratch("config");
    std::fs::write(dir.join("event.json"), ssh_open()).unwrap();
    std::fs::write(dir.join("config.json"), r#"{"rules": {"sg-open-remote-admin": {"mode": "notify"}}}"#).unwrap();
    let event = dir.join("event.json");
    let config = dir.join("config.json");

    let (status, stdout, _) =
        snapback(&["replay", "--config", config.to_str().unwrap(), "--fail-on-findings", event.to_str().unwrap()]);

    assert_eq!(status, 1);
    let row = stdout.lines().nth(1).unwrap();
    assert!(row.contains("sg-open-remote-admin") && row.contains("notify") && row.contains("sg-0abc"), "{stdout}");
}

#[test]
fn bad_inputs_are_named_and_bad_lines_skipped_with_their_position() {
    let dir = scratch("bad");
    let lines = format!("{}\n{{oops\n", ssh_open());
    std::fs::write(dir.join("events.jsonl"), lines).unwrap();
    let jsonl = dir.join("events.jsonl");

    let (status, stdout, stderr) = snapback(&["replay", jsonl.to_str().unwrap(), "does-not-exist.json"]);

    assert_eq!(status, 2, "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "header and one finding: {stdout}");
    assert!(stderr.contains(&format!("unreadable record: {}:2:", jsonl.display())), "{stderr}");
    assert!(stderr.contains("unreadable input: does-not-exist.json"), "{stderr}");

    let (status, _, stderr) = snapback(&["replay", "--config", jsonl.to_str().unwrap(), jsonl.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(stderr.contains("config field `(document)`"), "{stderr}");
}

#[test]
fn rules_lists_every_rule() {
    let (status, stdout, _) = snapback(&["rules"]);
    assert_eq!(status, 0);
    let listed: Vec<&str> = stdout.lines().skip(1).filter_map(|line| line.split_whitespace().next()).collect();
    let registered: Vec<&str> = snapback_rules::registry().iter().map(|meta| meta.id).collect();
    assert_eq!(listed, registered, "one row per registered rule, in registry order");
}

#[test]
fn alert_preview_prints_the_slack_payload_and_the_email_text() {
    let (status, stdout, _) = snapback(&["alert", "preview", "eks-public-endpoint", "--outcome", "would-remediate"]);
    assert_eq!(status, 0);
    let (slack, email) = stdout.split_once("== Email").unwrap();
    let payload: serde_json::Value =
        serde_json::from_str(slack.trim_start_matches("== Slack (incoming webhook payload) ==")).unwrap();
    assert_eq!(payload["text"], "[HIGH] Detected (notify mode): EKS API endpoint public");
    assert!(email.contains("Outcome:   Detected (notify mode) (would-remediate)"), "{email}");

    let (status, _, stderr) = snapback(&["alert", "preview", "sg-open-ssh"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("unknown rule \"sg-open-ssh\""), "{stderr}");
    let (status, _, stderr) = snapback(&["alert", "preview", "sg-open-kubelet", "--outcome", "fixed"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("--outcome \"fixed\""), "{stderr}");
}

#[test]
fn config_check_validates_a_file_naming_the_bad_field() {
    let dir = scratch("check");
    let good = dir.join("good.json");
    let bad = dir.join("bad.json");
    std::fs::write(&good, r#"{"rules": {"eks-public-endpoint": {"public_access_cidrs": ["203.0.113.0/24"]}}}"#)
        .unwrap();
    std::fs::write(&bad, r#"{"rules": {"eks-public-endpoint": {"public_access_cidrs": ["0.0.0.0/0"]}}}"#).unwrap();
    let (status, stdout, _) = snapback(&["config", "check", good.to_str().unwrap()]);
    assert_eq!(status, 0);
    assert!(stdout.contains("valid"));
    let (status, _, stderr) = snapback(&["config", "check", bad.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(
        stderr.contains("rules.eks-public-endpoint.public_access_cidrs[0]") && stderr.contains("whole internet"),
        "{stderr}"
    );
}

#[test]
fn a_record_with_ports_that_are_not_ports_is_reported_unreadable_not_found() {
    let dir = scratch("ports");
    let mut record =
        cloudtrail::authorize_ingress(ACCOUNT, "sg-0abc", vec![cloudtrail::tcp(22, &["0.0.0.0/0"])], vec![]);
    record["requestParameters"]["ipPermissions"]["items"][0]["fromPort"] = "-22".into();
    std::fs::write(dir.join("event.json"), record.to_string()).unwrap();

    let (status, stdout, stderr) = snapback(&["replay", "--json", dir.join("event.json").to_str().unwrap()]);

    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.is_empty(), "no finding: {stdout}");
    assert!(stderr.contains("unreadable record:") && stderr.contains("is not a port 0-65535"), "{stderr}");
}

#[test]
fn scan_refuses_remediate_without_a_terminal_or_yes_and_yes_without_remediate() {
    // No endpoint, no credentials: the refusal must come before anything reaches AWS.
    let (status, stdout, stderr) = snapback(&["scan", "--remediate"]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stdout.is_empty(), "no report: {stdout}");
    assert!(stderr.contains("stdin is not a terminal") && stderr.contains("--yes"), "{stderr}");

    let (status, _, stderr) = snapback(&["scan", "--yes"]);
    assert_eq!(status, 2, "--yes means nothing without --remediate: {stderr}");
    assert!(stderr.contains("--remediate"), "{stderr}");

    let (status, _, stderr) = snapback(&["scan", "--format", "pdf"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("'pdf'") && stderr.contains("html"), "the formats are listed: {stderr}");
}
