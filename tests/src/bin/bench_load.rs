//! `make bench-load`: a Terraform apply gone wrong, against several sg-guard processes. A burst
//! of distinct world-open rules (2,000 by default, over 60 s) is delivered to several concurrent
//! release sg-guard bootstraps sharing one Lambda Runtime API, as Lambda scales a function out.
//! Between them and moto, fault proxies play EC2's mutating-call limit as a token bucket (20
//! revokes a second, burst 50) and answer some EC2 calls 500. A failed invocation is retried as
//! Lambda retries an asynchronous one (after 1 minute, then 2 more; then the dead-letter path).
//! Every rule must end revoked or with its event in the dead-letter path; the report gives the
//! p50/p99 time from event to answer of the restored ones and how many invocations retried.
//! Then a process is killed (SIGKILL) between its restore and its alert: Lambda's retry must
//! alert once, and its restore find nothing left to do.

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::Value;
use snapback_tests::fault_proxy::{Fault, FaultProxy, Limit};
use snapback_tests::lambda::{percentile, spawn_release, Running};
use snapback_tests::runtime_api::{RuntimeApi, RuntimeEvent};
use snapback_tests::{authorize_record, envelope, moto_url, tcp_from, World, CONFIG_PARAMETER};

/// From the environment, else the default.
fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn spawn(api: &RuntimeApi, world: &World, env: &[(&str, String)]) -> Running {
    spawn_release("sg-guard", api, world, env)
}

/// The tcp ports the bench's config treats as remote administration: ten world-open rules a
/// group, one per port and address family.
const PORTS: [i32; 5] = [22, 3389, 2222, 5900, 5985];

/// One world-open rule and the event that made it.
struct Opened {
    group: String,
    port: i32,
    cidr: &'static str,
    event: Value,
    event_id: String,
}

/// `count` world-open rules over groups of ten (named after `name`), each with its CloudTrail event.
async fn open_rules(world: &World, name: &str, count: usize) -> Vec<Opened> {
    let mut opened = Vec::with_capacity(count);
    let mut group = String::new();
    for index in 0..count {
        if index % (PORTS.len() * 2) == 0 {
            let tags = [("aws:eks:cluster-name", "load")];
            group = world.group(&format!("{name}-{}-{index}", std::process::id()), &tags).await;
        }
        let port = PORTS[(index / 2) % PORTS.len()];
        let cidr = if index % 2 == 0 { "0.0.0.0/0" } else { "::/0" };
        let permission = tcp_from(port, &[cidr]);
        let created = world.authorize(&group, permission.clone()).await;
        let record = authorize_record(&world.aws.account, &group, &permission, &created);
        let event_id = record["eventID"].as_str().unwrap().to_owned();
        opened.push(Opened { group: group.clone(), port, cidr, event: envelope(&record), event_id });
    }
    opened
}

/// The groups' ingress rules still there: (group, port, cidr).
async fn still_open(world: &World, groups: &[String]) -> Vec<(String, i32, String)> {
    let mut open = Vec::new();
    for group in groups {
        for (_, from, _, cidr) in world.ingress(group).await {
            open.push((group.clone(), from, cidr));
        }
    }
    open
}

/// How many alerts reached the world's queue, which is then emptied (counted, not read: moto
/// slows down reading thousands).
async fn published_alerts(world: &World) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName;
    let attributes = world
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(&world.queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let count = attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    world.aws.sqs.purge_queue().queue_url(&world.queue_url).send().await.unwrap();
    count
}

/// What became of one event.
#[derive(Default)]
struct Delivery {
    first_sent: Option<Instant>,
    attempts: usize,
    /// The answer that finished it: (when, body).
    done: Option<(Instant, String)>,
    dead_letter: bool,
}

#[tokio::main]
async fn main() {
    let rules = setting("LOAD_RULES", 2000);
    let seconds = setting("LOAD_SECONDS", 60);
    let processes = setting("LOAD_PROCESSES", 4);
    // Lambda retries a failed asynchronous invocation after about a minute, then two more.
    let retry_after = Duration::from_secs(setting("LOAD_RETRY_DELAY_S", 60) as u64);
    let world = World::in_default_account().await;
    let ports: Vec<String> = PORTS.iter().map(ToString::to_string).collect();
    world.put_config(&format!(r#"{{"rules": {{"sg-open-remote-admin": {{"ports": [{}]}}}}}}"#, ports.join(","))).await;
    let table = world.ledger_table().await;

    eprintln!("opening {rules} world-open rules ...");
    let started = Instant::now();
    let opened = open_rules(&world, "load", rules).await;
    let mut groups: Vec<String> = opened.iter().map(|o| o.group.clone()).collect();
    groups.dedup();
    eprintln!("  {} rules on {} groups in {:.0} s", opened.len(), groups.len(), started.elapsed().as_secs_f64());

    // moto ← token bucket on revokes (503 RequestLimitExceeded) ← every 50th EC2 call a 500.
    let (rate, burst) = (setting("LOAD_REVOKE_RATE", 20), setting("LOAD_REVOKE_BURST", 50));
    let limited = FaultProxy::start(
        &moto_url(),
        Fault::ec2_throttling("Action=RevokeSecurityGroupIngress", usize::MAX)
            .limited(Limit::token_bucket(rate as f64, burst as f64)),
    );
    let flaky =
        FaultProxy::start(&limited.url, Fault::ec2_internal_error("Version=2016-11-15").limited(Limit::every(50)));
    let env = [
        ("AWS_ENDPOINT_URL", moto_url()),
        ("AWS_ENDPOINT_URL_EC2", flaky.url.clone()),
        ("SNAPBACK_LEDGER_TABLE", table.clone()),
        ("SNAPBACK_CONFIG", format!("ssm:{CONFIG_PARAMETER}")),
    ];
    let timeout = Duration::from_secs(u64::from(snapback_rules::function("sg-guard").unwrap().timeout_seconds));
    let api = RuntimeApi::start_with_timeout(timeout);
    let running: Vec<Running> = (0..processes).map(|_| spawn(&api, &world, &env)).collect();

    // The burst: evenly over `seconds`, from a thread of its own; the answers come back on `api.seen`.
    let mut deliveries: HashMap<String, Delivery> =
        opened.iter().map(|o| (o.event_id.clone(), Delivery::default())).collect();
    let events: HashMap<String, Value> = opened.iter().map(|o| (o.event_id.clone(), o.event.clone())).collect();
    let interval = Duration::from_secs_f64(seconds as f64 / rules as f64);
    let burst_started = Instant::now();
    let mut retries: BTreeMap<Instant, Vec<String>> = BTreeMap::new();
    let mut next_send = 0usize;
    let mut retried_invocations = 0usize;
    let mut finished = 0usize;
    eprintln!("burst: {rules} events over {seconds} s to {processes} sg-guard processes ...");
    while finished < rules {
        let now = Instant::now();
        // Due first deliveries.
        while next_send < rules && burst_started + interval * next_send as u32 <= now {
            let id = &opened[next_send].event_id;
            let delivery = deliveries.get_mut(id).unwrap();
            delivery.first_sent = Some(Instant::now());
            delivery.attempts = 1;
            api.send(&events[id]);
            next_send += 1;
        }
        // Due retries.
        let due: Vec<Instant> = retries.range(..=now).map(|(at, _)| *at).collect();
        for at in due {
            for id in retries.remove(&at).unwrap() {
                deliveries.get_mut(&id).unwrap().attempts += 1;
                retried_invocations += 1;
                api.send(&events[&id]);
            }
        }
        match api.seen.recv_timeout(Duration::from_millis(5)) {
            Ok(RuntimeEvent::Answered { at, ok, body, event }) => {
                let Ok(event) = serde_json::from_str::<Value>(&event) else {
                    eprintln!("an answer to no event handed out: {body}");
                    continue;
                };
                let id = event["detail"]["eventID"].as_str().unwrap().to_owned();
                let delivery = deliveries.get_mut(&id).unwrap();
                if ok {
                    delivery.done = Some((at, body));
                    finished += 1;
                } else if delivery.attempts < 3 {
                    let delay = retry_after * delivery.attempts as u32;
                    retries.entry(Instant::now() + delay).or_default().push(id);
                } else {
                    delivery.dead_letter = true;
                    finished += 1;
                }
            }
            Ok(RuntimeEvent::Polled(_)) | Err(_) => {}
        }
    }
    let burst_time = burst_started.elapsed();
    drop(running);

    // Every rule revoked, or its event in the dead-letter path.
    let open = still_open(&world, &groups).await;
    let dead: Vec<&Opened> = opened.iter().filter(|o| deliveries[&o.event_id].dead_letter).collect();
    // Each rule still open must be one whose event is in the dead-letter path.
    let unaccounted: Vec<&(String, i32, String)> = open
        .iter()
        .filter(|(group, port, cidr)| !dead.iter().any(|o| &o.group == group && o.port == *port && o.cidr == cidr))
        .collect();
    let mut restored: Vec<f64> = Vec::new();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for o in &opened {
        let delivery = &deliveries[&o.event_id];
        if let Some((at, body)) = &delivery.done {
            let report: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            let outcome = report["decisions"][0]["outcome"].as_str().unwrap_or("none").to_owned();
            if outcome == "remediated" {
                restored.push((*at - delivery.first_sent.unwrap()).as_secs_f64() * 1000.0);
            }
            *outcomes.entry(outcome).or_default() += 1;
        }
    }
    restored.sort_by(f64::total_cmp);
    let alerts = published_alerts(&world).await;
    let retried_events = deliveries.values().filter(|d| d.attempts > 1).count();

    println!("\n## Burst: {rules} world-open rules in {seconds} s, {processes} sg-guard processes");
    println!(
        "- EC2 revokes limited to {rate}/s (burst {burst}) with 503 RequestLimitExceeded, every 50th EC2 call a 500"
    );
    println!("- events handled: {:.1}/s over the run", rules as f64 / burst_time.as_secs_f64());
    println!(
        "- finished in {:.1} s; throttled revokes answered 503: {}; EC2 500s: {}",
        burst_time.as_secs_f64(),
        limited.failed(),
        flaky.failed()
    );
    println!("- outcomes: {outcomes:?}");
    println!(
        "- event → restored answer: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} restored)",
        percentile(&restored, 0.5),
        percentile(&restored, 0.99),
        restored.last().copied().unwrap_or(f64::NAN),
        restored.len()
    );
    println!(
        "- invocations retried: {retried_invocations} ({retried_events} events); dead-letter path: {} events",
        dead.len()
    );
    println!(
        "- alerts published: {alerts}; rules still open: {}, of which not in the dead-letter path: {}",
        open.len(),
        unaccounted.len()
    );
    let some: Vec<_> = unaccounted.iter().take(5).collect();
    assert!(
        unaccounted.is_empty(),
        "{} rules left open whose event is not in the dead-letter path: {some:?}",
        unaccounted.len()
    );
    assert_eq!(alerts, outcomes.get("remediated").copied().unwrap_or(0), "one alert per restored rule");

    kill_between_restore_and_alert(&world, &table, timeout, retry_after).await;
}

/// A listener that accepts connections and never answers: the moment the process asks SNS to
/// publish, it is known, and the alert never goes out.
fn black_hole() -> (String, std::sync::mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (asked, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let _ = asked.send(());
            held.push(stream);
        }
    });
    (url, heard)
}

async fn kill_between_restore_and_alert(world: &World, table: &str, timeout: Duration, retry_after: Duration) {
    println!("\n## SIGKILL between the restore and the alert");
    let opened = open_rules(world, "killed", 1).await.remove(0);
    let (sns, publishing) = black_hole();
    let counting = FaultProxy::start(&moto_url(), Fault::count("Action=RevokeSecurityGroupIngress", None));
    let env = |sns: &str| {
        vec![
            ("AWS_ENDPOINT_URL", moto_url()),
            ("AWS_ENDPOINT_URL_EC2", counting.url.clone()),
            ("AWS_ENDPOINT_URL_SNS", sns.to_owned()),
            ("SNAPBACK_LEDGER_TABLE", table.to_owned()),
            ("SNAPBACK_CONFIG", format!("ssm:{CONFIG_PARAMETER}")),
        ]
    };
    let api = RuntimeApi::start_with_timeout(timeout);
    let mut doomed = spawn(&api, world, &env(&sns));
    let sent = Instant::now();
    api.send(&opened.event);
    publishing.recv_timeout(Duration::from_secs(30)).expect("the process asks SNS to publish");
    doomed.0.kill().unwrap();
    let _ = doomed.0.wait();
    let killed_after = sent.elapsed();
    assert!(world.ingress(&opened.group).await.is_empty(), "restored before it died");
    assert!(world.alerts().await.is_empty(), "and never alerted");

    // Lambda's retries, as for an invocation whose runtime exited: a fresh process each time.
    let api = RuntimeApi::start_with_timeout(timeout);
    let _retrier = spawn(&api, world, &env(&moto_url()));
    let mut attempts = Vec::new();
    let answer = loop {
        tokio::time::sleep(retry_after * (attempts.len() as u32 + 1).min(2)).await;
        api.send(&opened.event);
        let (ok, body) = loop {
            match api.seen.recv_timeout(timeout + Duration::from_secs(5)).expect("an answer") {
                RuntimeEvent::Answered { ok, body, .. } => break (ok, body),
                RuntimeEvent::Polled(_) => {}
            }
        };
        attempts.push(if ok { "answered".to_owned() } else { body.chars().take(120).collect() });
        if ok || attempts.len() >= 2 {
            break body;
        }
    };
    let alerts = world.alerts().await;
    println!(
        "- killed {:.0} ms after the event, at its publish; Lambda's retries: {attempts:?}",
        killed_after.as_secs_f64() * 1000.0
    );
    println!("- the retry answered: {answer}");
    println!(
        "- alerts: {} ({}); revoke calls: {} (the retry's found the rule gone)",
        alerts.len(),
        alerts.first().map(|a| a.message["outcome"].to_string()).unwrap_or_default(),
        counting.matched()
    );
    assert_eq!(alerts.len(), 1, "exactly one alert");
    assert_eq!(alerts[0].message["outcome"], "remediated");
    assert!(answer.contains("earlier attempt"), "{answer}");
}
