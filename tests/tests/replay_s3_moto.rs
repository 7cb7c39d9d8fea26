//! `snapback replay s3://...` as a user runs it, against moto's S3: an organization trail's
//! gzipped logs in CloudTrail's key layout are replayed with the same findings as the same files
//! from disk, and `--since`/`--until`/`--account`/`--region` prune the listing: objects outside
//! are never downloaded (the summary counts the inputs read). A missing bucket is an unreadable
//! input.

use std::collections::BTreeSet;
use std::io::Write;

use serde_json::{json, Value};
use snapback_testkit::cloudtrail;
use snapback_tests::lambda::function_binary;
use snapback_tests::{moto_url, sdk_config};

const ACCOUNTS: [&str; 2] = ["111122223333", "444455556666"];
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];
const DAYS: [u32; 3] = [26, 27, 28];
const FILES_PER_FOLDER: usize = 3;

/// One gzipped trail log: reads, a failed call, and one world-open SSH rule per file.
fn trail_log(account: &str, region: &str, day: u32, file: usize) -> Vec<u8> {
    let time = format!("2026-11-{day:02}T{:02}:15:00Z", 8 + file);
    let mut records = Vec::new();
    for n in 0..20 {
        let mut read = cloudtrail::ec2("DescribeInstances", account, json!({"instancesSet": {}}), Value::Null);
        read["readOnly"] = true.into();
        read["eventID"] = format!("read-{account}-{region}-{day}-{file}-{n}").into();
        records.push(read);
    }
    let mut denied =
        cloudtrail::authorize_ingress(account, "sg-0denied", vec![cloudtrail::tcp(22, &["0.0.0.0/0"])], vec![]);
    denied["errorCode"] = "Client.UnauthorizedOperation".into();
    records.push(denied);
    let mut open = cloudtrail::authorize_ingress(
        account,
        &format!("sg-0{day}{file}"),
        vec![cloudtrail::tcp(22, &["0.0.0.0/0"])],
        vec![],
    );
    open["eventID"] = format!("open-{account}-{region}-{day}-{file}").into();
    records.push(open);
    for record in &mut records {
        record["eventTime"] = time.clone().into();
        record["awsRegion"] = region.into();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json!({"Records": records}).to_string().as_bytes()).unwrap();
    gz.finish().unwrap()
}

/// Every key of the trail, with its object.
fn trail() -> Vec<(String, Vec<u8>)> {
    let mut objects = Vec::new();
    for account in ACCOUNTS {
        for region in REGIONS {
            for day in DAYS {
                for file in 0..FILES_PER_FOLDER {
                    let key = format!(
                        "AWSLogs/o-exampleorg1/{account}/CloudTrail/{region}/2026/11/{day:02}/{account}_CloudTrail_{region}_202611{day:02}T{:02}15Z_{file}.json.gz",
                        8 + file
                    );
                    objects.push((key, trail_log(account, region, day, file)));
                }
            }
        }
        // Digest files are not records: a listing never reads them.
        let digest = format!("AWSLogs/o-exampleorg1/{account}/CloudTrail-Digest/eu-west-1/2026/11/27/digest.json.gz");
        objects.push((digest, b"not a trail log".to_vec()));
    }
    objects
}

fn replay(args: &[&str]) -> snapback_testkit::cli::Ran {
    let env = vec![
        ("AWS_ENDPOINT_URL", moto_url()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
    ];
    let mut all = vec!["replay", "--format", "json"];
    all.extend(args);
    snapback_testkit::cli::run(&function_binary("snapback"), &all, &env)
}

/// (event id, rule, resource) of each finding line, in the order printed.
fn findings(ran: &snapback_testkit::cli::Ran) -> Vec<(String, String, String)> {
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    ran.stdout
        .lines()
        .map(|line| {
            let finding: Value = serde_json::from_str(line).unwrap();
            let text = |key: &str| finding[key].as_str().unwrap().to_owned();
            (text("event_id"), text("rule"), text("resource"))
        })
        .collect()
}

fn unique(findings: &[(String, String, String)]) -> usize {
    findings.iter().collect::<BTreeSet<_>>().len()
}

fn files_read(ran: &snapback_testkit::cli::Ran) -> usize {
    let line = ran.stderr.lines().find(|line| line.starts_with("read ")).expect("the summary");
    line.split(" from ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap().parse().unwrap()
}

#[tokio::test]
async fn replay_from_s3_finds_what_the_same_files_on_disk_do_and_downloads_only_the_filtered_folders() {
    // The binary works in moto's default account; a bucket of its own keeps other tests apart.
    let bucket = format!("snapback-replay-{}", std::process::id());
    let sdk = sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let dir = std::env::temp_dir().join(format!("snapback-replay-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let objects = trail();
    for (key, body) in &objects {
        s3.put_object().bucket(&bucket).key(key).body(body.clone().into()).send().await.unwrap();
        let path = dir.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap();
    }
    let logs = ACCOUNTS.len() * REGIONS.len() * DAYS.len() * FILES_PER_FOLDER;
    let local_root = dir.join("AWSLogs");
    let local_root = local_root.to_str().unwrap();

    let from_s3 = replay(&[&format!("s3://{bucket}/AWSLogs/")]);
    let from_disk = replay(&[local_root]);

    let found = findings(&from_s3);
    assert_eq!(found.len(), logs, "one open rule per log: {}", from_s3.stderr);
    assert_eq!(unique(&found), logs, "no finding twice");
    assert_eq!(found, findings(&from_disk), "the same findings in the same order");
    assert_eq!(files_read(&from_s3), logs, "digests are not listed: {}", from_s3.stderr);
    assert!(from_s3.stderr.contains("call-failed: "), "{}", from_s3.stderr);

    // One account and region, one day: its folder and the next day's (delivery lag) are read.
    let filters = ["--since", "2026-11-27", "--until", "2026-11-27", "--account", ACCOUNTS[0], "--region", "eu-west-1"];
    let url = format!("s3://{bucket}/AWSLogs/o-exampleorg1/");
    let mut args = vec![url.as_str()];
    args.extend(filters);
    let pruned = replay(&args);
    let mut args = vec![local_root];
    args.extend(filters);
    let pruned_disk = replay(&args);

    let found = findings(&pruned);
    assert_eq!(found.len(), FILES_PER_FOLDER, "{}", pruned.stderr);
    assert!(found.iter().all(|(id, _, _)| id.starts_with(&format!("open-{}-eu-west-1-27-", ACCOUNTS[0]))), "{found:?}");
    assert_eq!(found, findings(&pruned_disk));
    assert_eq!(files_read(&pruned), 2 * FILES_PER_FOLDER, "only the 27th's and 28th's folders: {}", pruned.stderr);
    assert_eq!(files_read(&pruned_disk), logs + ACCOUNTS.len(), "from disk every file is read");

    let missing = replay(&["s3://snapback-no-such-bucket-for-replay/"]);
    assert_eq!(missing.status, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("unreadable input: s3://snapback-no-such-bucket-for-replay/: listing: "),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("NoSuchBucket"), "{}", missing.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}
