//! `make bench`, the parts that need processes and moto: cold start of the release guards
//! (spawn → the first `GET …/invocation/next`), warm handling of one event against moto
//! (sg-guard: describe, revoke, SNS publish; eks-guard: describe, UpdateClusterConfig, publish;
//! node-guard: describe, ModifyInstanceMetadataOptions, publish; ecr-guard: describe the
//! repository and the registry's scanning, PutImageScanningConfiguration, publish), median and
//! p95, and peak RSS; sg-guard as a central deployment (warm events of a member account, and a
//! burst over 20 members, counting AssumeRole); the sweeper's cold start, a warm sweep of the
//! bench account with a ledger table, and its peak RSS.

use std::time::{Duration, Instant};

use aws_sdk_ec2::types::HttpTokensState;
use serde_json::{json, Value};
use snapback_tests::fault_proxy::{Fault, FaultProxy};
use snapback_tests::lambda::{percentile, release_binary, spawn_release, Running};
use snapback_tests::runtime_api::{RuntimeApi, RuntimeEvent};
use snapback_tests::{
    authorize_record, ecr_record, eks_record, envelope, fresh_account, moto_url, tcp_from, tokens_made_optional_record,
    World, DEFAULT_ACCOUNT,
};

const COLD_RUNS: usize = 25;
const WARM_EVENTS: usize = 60;
const WARM_SWEEPS: usize = 20;
const ORG_MEMBERS: usize = 20;
const ORG_BURST: usize = 1000;

fn spawn(name: &str, api: &RuntimeApi, world: &World) -> Running {
    spawn_release(name, api, world, &[])
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Cold starts of `name` (spawn → first poll of the Runtime API: config, SDK clients, runtime
/// ready), sorted, and the highest peak RSS of a started process.
fn cold_starts(name: &str, world: &World, env: &[(&str, String)]) -> (Vec<f64>, u64) {
    let (mut cold, mut idle_rss) = (Vec::new(), 0);
    for _ in 0..COLD_RUNS {
        let api = RuntimeApi::start();
        let spawned = Instant::now();
        let function = spawn_release(name, &api, world, env);
        match api.seen.recv_timeout(Duration::from_secs(10)).expect("the bootstrap polls") {
            RuntimeEvent::Polled(at) => cold.push(millis(at - spawned)),
            other => panic!("unexpected {other:?}"),
        }
        idle_rss = idle_rss.max(peak_rss_kib(function.0.id()));
    }
    cold.sort_by(f64::total_cmp);
    (cold, idle_rss)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Hands `event` to the warm function and waits for its answer; returns the time it took.
fn handle(api: &RuntimeApi, event: &Value, expect: &str) -> f64 {
    let sent = Instant::now();
    api.send(event);
    loop {
        match api.seen.recv_timeout(Duration::from_secs(30)).expect("an answer") {
            RuntimeEvent::Answered { at, ok, body, .. } => {
                assert!(ok && body.contains(expect), "{body}");
                return millis(at - sent);
            }
            RuntimeEvent::Polled(_) => {}
        }
    }
}

/// CPU time (user + system) the process has used so far, from `/proc/<pid>/stat` (clock ticks
/// of 10 ms: read it over many events).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name: state is the 3rd field, utime the 14th, stime the 15th.
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

/// The function's own CPU per warm event, over the events after the first.
fn cpu_per_event(pid: u32, after_first: Duration) -> f64 {
    millis(cpu_time(pid).saturating_sub(after_first)) / (WARM_EVENTS - 1) as f64
}

/// (median, p95, first) of warm timings; the first pays for the SDK's first connections.
fn summary(timings: &[f64]) -> (f64, f64, f64) {
    let mut steady = timings[1..].to_vec();
    steady.sort_by(f64::total_cmp);
    (percentile(&steady, 0.5), percentile(&steady, 0.95), timings[0])
}

#[tokio::main]
async fn main() {
    let world = World::in_default_account().await;

    let (cold, idle_rss) = cold_starts("sg-guard", &world, &[]);

    // Warm sg-guard: one process, one event after another; each opens a fresh world rule first.
    let group = world.group(&format!("bench-nodes-{}", std::process::id()), &[("aws:eks:cluster-name", "bench")]).await;
    let api = RuntimeApi::start();
    let function = spawn("sg-guard", &api, &world);
    let _ = api.seen.recv_timeout(Duration::from_secs(10)).expect("first poll");
    let mut warm = Vec::new();
    let mut cpu_after_first = Duration::ZERO;
    for _ in 0..WARM_EVENTS {
        let opened = tcp_from(22, &["0.0.0.0/0"]);
        let created = world.authorize(&group, opened.clone()).await;
        let event = envelope(&authorize_record(DEFAULT_ACCOUNT, &group, &opened, &created));
        warm.push(handle(&api, &event, "\"remediated\""));
        if warm.len() == 1 {
            cpu_after_first = cpu_time(function.0.id());
        }
    }
    let warm_rss = peak_rss_kib(function.0.id());
    let sg_cpu = cpu_per_event(function.0.id(), cpu_after_first);
    drop(function);
    assert!(world.ingress(&group).await.is_empty(), "every opened rule was revoked");
    assert_eq!(world.alerts().await.len(), WARM_EVENTS, "one alert per event");

    // Warm eks-guard: audit logging switched off, then the event; one finding, one update.
    let cluster = format!("bench-{}", std::process::id());
    world
        .cluster(&cluster, false, true, &[], &["api", "audit", "authenticator", "controllerManager", "scheduler"], &[])
        .await;
    let api = RuntimeApi::start();
    let function = spawn("eks-guard", &api, &world);
    let _ = api.seen.recv_timeout(Duration::from_secs(10)).expect("first poll");
    let mut warm_eks = Vec::new();
    let mut cpu_after_first = Duration::ZERO;
    for _ in 0..WARM_EVENTS {
        world.disable_logging(&cluster, &["audit"]).await;
        let event = envelope(&eks_record(
            DEFAULT_ACCOUNT,
            "UpdateClusterConfig",
            json!({"name": cluster, "logging": {"clusterLogging": [{"types": ["audit"], "enabled": false}]}}),
            json!({"update": {"id": "bench", "status": "InProgress", "type": "LoggingUpdate", "params": [], "errors": []}}),
        ));
        warm_eks.push(handle(&api, &event, "\"remediated\""));
        if warm_eks.len() == 1 {
            cpu_after_first = cpu_time(function.0.id());
        }
    }
    let eks_rss = peak_rss_kib(function.0.id());
    let eks_cpu = cpu_per_event(function.0.id(), cpu_after_first);
    drop(function);
    assert_eq!(world.alerts().await.len(), WARM_EVENTS, "one alert per EKS event");

    // node-guard: a node whose IMDS someone set back to optional, then the event; one finding,
    // one ModifyInstanceMetadataOptions.
    let (node_cold, node_idle_rss) = cold_starts("node-guard", &world, &[]);
    let instance = world.node("bench", HttpTokensState::Required).await;
    let api = RuntimeApi::start();
    let function = spawn("node-guard", &api, &world);
    let _ = api.seen.recv_timeout(Duration::from_secs(10)).expect("first poll");
    let mut warm_node = Vec::new();
    let mut cpu_after_first = Duration::ZERO;
    for _ in 0..WARM_EVENTS {
        world.set_tokens(&instance, HttpTokensState::Optional).await;
        let event = envelope(&tokens_made_optional_record(DEFAULT_ACCOUNT, &instance));
        warm_node.push(handle(&api, &event, "\"remediated\""));
        if warm_node.len() == 1 {
            cpu_after_first = cpu_time(function.0.id());
        }
    }
    let node_rss = peak_rss_kib(function.0.id());
    let node_cpu = cpu_per_event(function.0.id(), cpu_after_first);
    drop(function);

    // ecr-guard: a fresh repository created without scan on push each time (moto cannot switch it
    // off again), then the event turning it off; one finding, one PutImageScanningConfiguration.
    let (ecr_cold, ecr_idle_rss) = cold_starts("ecr-guard", &world, &[]);
    let api = RuntimeApi::start();
    let function = spawn("ecr-guard", &api, &world);
    let _ = api.seen.recv_timeout(Duration::from_secs(10)).expect("first poll");
    let mut warm_ecr = Vec::new();
    let mut cpu_after_first = Duration::ZERO;
    for at in 0..WARM_EVENTS {
        let repository = format!("bench-{}/app-{at}", std::process::id());
        world.repository(&repository, false, "IMMUTABLE", &[]).await;
        let event = envelope(&ecr_record(
            DEFAULT_ACCOUNT,
            "PutImageScanningConfiguration",
            json!({"repositoryName": repository, "imageScanningConfiguration": {"scanOnPush": false}}),
            json!({"registryId": DEFAULT_ACCOUNT, "repositoryName": repository,
                   "imageScanningConfiguration": {"scanOnPush": false}}),
        ));
        warm_ecr.push(handle(&api, &event, "\"remediated\""));
        if warm_ecr.len() == 1 {
            cpu_after_first = cpu_time(function.0.id());
        }
    }
    let ecr_rss = peak_rss_kib(function.0.id());
    let ecr_cpu = cpu_per_event(function.0.id(), cpu_after_first);
    drop(function);

    // watchdog: a trail someone stopped, then the event; one finding, GetTrailStatus, StartLogging.
    let (watchdog_cold, watchdog_idle_rss) = cold_starts("watchdog", &world, &[]);
    let trail = format!("bench-trail-{}", std::process::id());
    world.aws.s3.create_bucket().bucket(format!("{trail}-logs")).send().await.unwrap();
    world.aws.cloudtrail.create_trail().name(&trail).s3_bucket_name(format!("{trail}-logs")).send().await.unwrap();
    let api = RuntimeApi::start();
    let function = spawn("watchdog", &api, &world);
    let _ = api.seen.recv_timeout(Duration::from_secs(10)).expect("first poll");
    let mut warm_watchdog = Vec::new();
    let mut cpu_after_first = Duration::ZERO;
    let stopped = envelope(&snapback_testkit::cloudtrail::record(
        snapback_rules::services::watchdog::CLOUDTRAIL_SOURCE,
        "StopLogging",
        DEFAULT_ACCOUNT,
        json!({"name": trail}),
        Value::Null,
    ));
    for _ in 0..WARM_EVENTS {
        world.aws.cloudtrail.stop_logging().name(&trail).send().await.unwrap();
        warm_watchdog.push(handle(&api, &stopped, "\"remediated\""));
        if warm_watchdog.len() == 1 {
            cpu_after_first = cpu_time(function.0.id());
        }
    }
    let watchdog_rss = peak_rss_kib(function.0.id());
    let watchdog_cpu = cpu_per_event(function.0.id(), cpu_after_first);
    drop(function);

    // A central deployment: sg-guard in this account judging events of member accounts, acting
    // through the member role (moto's AssumeRole maps the credentials to the role's account). STS
    // is reached through a counting proxy (AWS_ENDPOINT_URL_STS); everything else directly.
    let mut members = Vec::new();
    for _ in 0..ORG_MEMBERS {
        let member = World::in_account(&fresh_account()).await;
        let group = member.group("bench-org-nodes", &[("aws:eks:cluster-name", "bench")]).await;
        members.push((member, group));
    }
    let sts = FaultProxy::start(&moto_url(), Fault::count("Action=AssumeRole", Some("POST")));
    let api = RuntimeApi::start();
    let function = spawn_release("sg-guard", &api, &world, &[("AWS_ENDPOINT_URL_STS", sts.url.clone())]);
    let _ = api.seen.recv_timeout(Duration::from_secs(10)).expect("first poll");
    let member_event = |index: usize| {
        let (member, group) = &members[index % ORG_MEMBERS];
        async move {
            let opened = tcp_from(22, &["0.0.0.0/0"]);
            let created = member.authorize(group, opened.clone()).await;
            envelope(&authorize_record(&member.aws.account, group, &opened, &created))
        }
    };
    let mut cross_account = Vec::new();
    let mut cpu_after_first = Duration::ZERO;
    for _ in 0..WARM_EVENTS {
        let event = member_event(0).await;
        cross_account.push(handle(&api, &event, "\"remediated\""));
        if cross_account.len() == 1 {
            cpu_after_first = cpu_time(function.0.id());
        }
    }
    let cross_cpu = cpu_per_event(function.0.id(), cpu_after_first);
    let started = Instant::now();
    let mut burst = Vec::new();
    for index in 0..ORG_BURST {
        let event = member_event(index).await;
        burst.push(handle(&api, &event, "\"remediated\""));
    }
    let burst_took = started.elapsed();
    let org_rss = peak_rss_kib(function.0.id());
    drop(function);
    for (member, group) in &members {
        assert!(member.ingress(group).await.is_empty(), "every member's opened rule was revoked");
    }
    world.alerts().await;
    let assumed = sts.matched();

    // The sweeper: cold start as above, then whole sweeps of the bench account (the group, the
    // cluster and their neighbours), remembering in a ledger table as deployed.
    let ledger = [("SNAPBACK_LEDGER_TABLE", world.ledger_table().await)];
    let (sweeper_cold, _) = cold_starts("sweeper", &world, &ledger);
    let api = RuntimeApi::start();
    let function = spawn_release("sweeper", &api, &world, &ledger);
    let _ = api.seen.recv_timeout(Duration::from_secs(10)).expect("first poll");
    let sweeps: Vec<f64> = (0..WARM_SWEEPS).map(|_| handle(&api, &json!({}), "\"complete\":true")).collect();
    let sweeper_rss = peak_rss_kib(function.0.id());
    drop(function);

    let size = |name: &str| std::fs::metadata(release_binary(name)).unwrap().len() as f64 / 1e6;
    let (sg_median, sg_p95, sg_first) = summary(&warm);
    let (eks_median, eks_p95, eks_first) = summary(&warm_eks);
    println!(
        "snapback benchmark (release binaries: sg-guard {:.1} MB, eks-guard {:.1} MB; moto at {})",
        size("sg-guard"),
        size("eks-guard"),
        moto_url()
    );
    println!(
        "  sg-guard cold start, spawn -> first invocation/next: median {:.1} ms, p95 {:.1} ms ({COLD_RUNS} runs)",
        percentile(&cold, 0.5),
        percentile(&cold, 0.95)
    );
    println!("  sg-guard warm event -> answer (describe, revoke, SNS publish): median {sg_median:.1} ms, p95 {sg_p95:.1} ms ({} events; first {sg_first:.1} ms); its own CPU {sg_cpu:.2} ms an event", WARM_EVENTS - 1);
    println!("  eks-guard warm event -> answer (describe, UpdateClusterConfig logging, SNS publish): median {eks_median:.1} ms, p95 {eks_p95:.1} ms ({} events; first {eks_first:.1} ms); its own CPU {eks_cpu:.2} ms an event", WARM_EVENTS - 1);
    println!(
        "  peak RSS: sg-guard {:.1} MB idle after start, {:.1} MB after {WARM_EVENTS} events; eks-guard {:.1} MB after {WARM_EVENTS} events",
        idle_rss as f64 / 1024.0,
        warm_rss as f64 / 1024.0,
        eks_rss as f64 / 1024.0
    );
    for (name, cold, warm, cpu, idle_rss, rss, path) in [
        (
            "node-guard",
            &node_cold,
            &warm_node,
            node_cpu,
            node_idle_rss,
            node_rss,
            "describe, ModifyInstanceMetadataOptions, SNS publish",
        ),
        (
            "ecr-guard",
            &ecr_cold,
            &warm_ecr,
            ecr_cpu,
            ecr_idle_rss,
            ecr_rss,
            "describe repository and registry scanning, PutImageScanningConfiguration, SNS publish",
        ),
        (
            "watchdog",
            &watchdog_cold,
            &warm_watchdog,
            watchdog_cpu,
            watchdog_idle_rss,
            watchdog_rss,
            "GetTrailStatus, StartLogging, SNS publish",
        ),
    ] {
        let (median, p95, first) = summary(warm);
        println!(
            "  {name} ({:.1} MB) cold start: median {:.1} ms, p95 {:.1} ms ({COLD_RUNS} runs); warm event -> answer ({path}): median {median:.1} ms, p95 {p95:.1} ms ({} events; first {first:.1} ms); its own CPU {cpu:.2} ms an event; peak RSS {:.1} MB idle, {:.1} MB after {WARM_EVENTS} events",
            size(name),
            percentile(cold, 0.5),
            percentile(cold, 0.95),
            WARM_EVENTS - 1,
            idle_rss as f64 / 1024.0,
            rss as f64 / 1024.0
        );
    }
    let (cross_median, cross_p95, cross_first) = summary(&cross_account);
    let (burst_median, burst_p95, _) = summary(&burst);
    println!(
        "  sg-guard as a central deployment: warm cross-account revoke + alert median {cross_median:.1} ms, p95 {cross_p95:.1} ms ({} events; first, with the AssumeRole, {cross_first:.1} ms; its own CPU {cross_cpu:.2} ms an event), {:+.1} ms against the same-account median; a burst of {ORG_BURST} events over {ORG_MEMBERS} accounts in {:.1} s (median {burst_median:.1} ms, p95 {burst_p95:.1} ms an event) with {assumed} AssumeRole calls in all; peak RSS {:.1} MB",
        WARM_EVENTS - 1,
        cross_median - sg_median,
        burst_took.as_secs_f64(),
        org_rss as f64 / 1024.0
    );
    let (sweep_median, sweep_p95, sweep_first) = summary(&sweeps);
    println!(
        "  sweeper ({:.1} MB) cold start: median {:.1} ms, p95 {:.1} ms ({COLD_RUNS} runs); warm sweep of the bench account with a ledger: median {sweep_median:.1} ms, p95 {sweep_p95:.1} ms ({} sweeps; first {sweep_first:.1} ms); peak RSS {:.1} MB",
        size("sweeper"),
        percentile(&sweeper_cold, 0.5),
        percentile(&sweeper_cold, 0.95),
        WARM_SWEEPS - 1,
        sweeper_rss as f64 / 1024.0
    );
}
