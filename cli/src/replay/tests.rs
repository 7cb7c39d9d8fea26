use super::*;

const SSH_OPEN: &str = r#"{"eventID": "e1", "eventTime": "2026-11-27T10:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress", "awsRegion": "eu-west-1", "recipientAccountId": "111122223333",
    "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}}"#;
const READ: &str = r#"{"eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "readOnly": true}"#;

fn ssh_open(id: &str, time: &str) -> String {
    SSH_OPEN.replace('\n', " ").replace("\"e1\"", &format!("{id:?}")).replace("2026-11-27T10:00:00Z", time)
}

fn replay_bytes(inputs: &[(&str, Vec<u8>)], filters: &Filters) -> Summary {
    let config = Config::default();
    let replay = Replay::new(&config, filters);
    let inputs: Vec<Input> = inputs
        .iter()
        .map(|(name, bytes)| Input {
            name: (*name).to_owned(),
            reader: Ok(Box::new(std::io::Cursor::new(bytes.clone())) as Box<dyn Read + Send>),
        })
        .collect();
    replay.run(inputs.into_iter())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn ids(summary: &Summary) -> Vec<&str> {
    summary.findings.iter().map(|f| f.event.event_id.as_str()).collect()
}

#[test]
fn trail_logs_arrays_single_records_and_json_lines_are_all_read() {
    let trail = format!(r#"{{"Records": [{}, {READ}]}}"#, ssh_open("t", "2026-11-27T10:00:03Z"));
    let array = format!("[{}]", ssh_open("a", "2026-11-27T10:00:02Z"));
    let single = ssh_open("s", "2026-11-27T10:00:01Z");
    let lines = format!("{}\n\nnot json\n{READ}\n", ssh_open("l", "2026-11-27T10:00:00Z"));
    let summary = replay_bytes(
        &[
            ("t.json", trail.into_bytes()),
            ("a.json", array.into_bytes()),
            ("r.json", single.into_bytes()),
            ("l.jsonl", lines.into_bytes()),
        ],
        &Filters::default(),
    );
    assert_eq!(ids(&summary), ["l", "s", "a", "t"], "by event time");
    let origins: Vec<&str> = summary.findings.iter().map(|f| f.origin.as_str()).collect();
    assert_eq!(origins, ["l.jsonl:1", "r.json:1", "a.json#[0]", "t.json#Records[0]"]);
    assert_eq!(summary.records, 7, "{}", summary.render());
    assert_eq!(summary.skipped.get("read-only"), Some(&2));
    assert_eq!(summary.unreadable_records.len(), 1);
    assert!(summary.unreadable_records[0].starts_with("l.jsonl:3: "), "{:?}", summary.unreadable_records);
    assert_eq!(summary.files, 4);
}

#[test]
fn a_bad_record_in_the_middle_is_named_and_the_rest_still_judged() {
    let trail = format!(
        r#"{{"Records": [{}, {{"eventSource": "ec2.amazonaws.com", "eventName": tru}}, {}]}}"#,
        ssh_open("first", "2026-11-27T10:00:00Z"),
        ssh_open("last", "2026-11-27T11:00:00Z")
    );
    let summary = replay_bytes(&[("t.json.gz", gzip(trail.as_bytes()))], &Filters::default());
    assert_eq!(ids(&summary), ["first", "last"]);
    assert_eq!(summary.unreadable_records.len(), 1);
    assert!(
        summary.unreadable_records[0].starts_with("t.json.gz#Records[1]: expected ident"),
        "{:?}",
        summary.unreadable_records
    );
    assert!(summary.raw_bytes < summary.bytes, "gzip: fewer bytes read than judged");
}

#[test]
fn a_truncated_gzip_keeps_what_came_before_and_names_the_input() {
    let records: Vec<String> = (0..2000).map(|n| ssh_open(&format!("e{n:04}"), "2026-11-27T10:00:00Z")).collect();
    let trail = format!(r#"{{"Records": [{}]}}"#, records.join(","));
    let whole = gzip(trail.as_bytes());
    let cut = whole[..whole.len() / 2].to_vec();
    let summary = replay_bytes(&[("cut.json.gz", cut)], &Filters::default());
    assert!(!summary.findings.is_empty() && summary.findings.len() < 2000, "{}", summary.findings.len());
    // The record the stream ends in, and the gzip error itself.
    let inputs = &summary.unreadable_inputs;
    assert_eq!(inputs.len(), 2, "{inputs:?}");
    assert!(
        inputs.iter().any(|bad| bad.starts_with("cut.json.gz#Records[") && bad.ends_with("(truncated)")),
        "{inputs:?}"
    );
    assert!(inputs.iter().any(|bad| bad.starts_with("cut.json.gz: ")), "{inputs:?}");
}

#[test]
fn a_truncated_plain_trail_log_is_an_unreadable_input_named_by_the_record_it_ends_in() {
    let trail = format!(r#"{{"Records": [{}, {}"#, ssh_open("whole", "2026-11-27T10:00:00Z"), &READ[..30]);
    let summary = replay_bytes(&[("cut.json", trail.into_bytes())], &Filters::default());
    assert_eq!(ids(&summary), ["whole"]);
    assert_eq!(summary.unreadable_inputs, ["cut.json#Records[1]: the input ends inside this record (truncated)"]);
    assert!(summary.unreadable_records.is_empty());
}

#[test]
fn filters_leave_other_days_accounts_and_regions_alone() {
    let lines = [
        ssh_open("in", "2026-11-10T00:00:00Z"),
        ssh_open("early", "2026-11-09T23:59:59Z"),
        ssh_open("late", "2026-11-21T00:00:00Z"),
        ssh_open("other-account", "2026-11-15T00:00:00Z").replace("111122223333", "444455556666"),
        ssh_open("other-region", "2026-11-15T00:00:00Z").replace("eu-west-1", "us-east-1"),
        ssh_open("last-day", "2026-11-20T23:59:59Z"),
    ]
    .join("\n");
    let filters = Filters {
        since: Some(parse_day("2026-11-10").unwrap()),
        until: Some(parse_day("2026-11-20").unwrap()),
        accounts: vec!["111122223333".into()],
        regions: vec!["eu-west-1".into()],
    };
    let summary = replay_bytes(&[("l.jsonl", lines.into_bytes())], &filters);
    assert_eq!(ids(&summary), ["in", "last-day"]);
    assert_eq!(summary.skipped.get("outside --since/--until"), Some(&2));
    assert_eq!(summary.skipped.get("another account (--account)"), Some(&1));
    assert_eq!(summary.skipped.get("another region (--region)"), Some(&1));
}

#[test]
fn days_are_checked() {
    assert_eq!(parse_day("2026-02-28").unwrap().day(), 28);
    for bad in ["2026-02-30", "2026-13-01", "26-1-1x", "yesterday", "2026-11-01T00:00:00Z"] {
        assert!(parse_day(bad).is_err(), "{bad}");
    }
}

#[test]
fn records_across_batches_keep_their_input_order_at_the_same_event_time() {
    // About 2.7 MB of JSON Lines: several batches, cut wherever a chunk ends, judged in parallel.
    let lines: Vec<String> = (0..20_000)
        .map(|n| if n % 7 == 0 { ssh_open(&format!("e{n:05}"), "2026-11-27T10:00:00Z") } else { READ.to_owned() })
        .collect();
    let input = lines.join("\n").into_bytes();
    assert!(input.len() > 2 * split::CHUNK, "{}", input.len());
    let summary = replay_bytes(&[("big.jsonl", input)], &Filters::default());
    let expected: Vec<String> = (0..20_000).filter(|n| n % 7 == 0).map(|n| format!("e{n:05}")).collect();
    assert_eq!(ids(&summary), expected, "same time: input order");
    assert_eq!(summary.records, 20_000);
}

#[test]
fn unreadable_records_past_a_thousand_are_counted_not_kept() {
    let lines: String = (0..1500).map(|n| format!("{{not json {n}}}\n")).collect();
    let summary = replay_bytes(&[("junk.jsonl", lines.into_bytes())], &Filters::default());
    assert_eq!(summary.unreadable_records.len(), UNREADABLE_SHOWN + 1);
    assert!(summary.unreadable_records[0].starts_with("junk.jsonl:1: "), "{}", summary.unreadable_records[0]);
    assert!(summary.unreadable_records[999].starts_with("junk.jsonl:1000: "), "the first in input order");
    assert_eq!(summary.unreadable_records[1000], "... and 500 more");
}

/// Hands out its bytes one at a time, as a slow download may.
struct Trickle(std::io::Cursor<Vec<u8>>);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let end = buf.len().min(1);
        self.0.read(&mut buf[..end])
    }
}

#[test]
fn gzip_is_recognised_when_the_input_arrives_a_byte_at_a_time() {
    let trail = format!(r#"{{"Records": [{}]}}"#, ssh_open("slow", "2026-11-27T10:00:00Z"));
    let config = Config::default();
    let filters = Filters::default();
    let input = Input {
        name: "slow.json.gz".into(),
        reader: Ok(Box::new(Trickle(std::io::Cursor::new(gzip(trail.as_bytes()))))),
    };
    let summary = Replay::new(&config, &filters).run(std::iter::once(input));
    assert_eq!(ids(&summary), ["slow"], "{}", summary.render());
    assert!(summary.raw_bytes < summary.bytes);
}
