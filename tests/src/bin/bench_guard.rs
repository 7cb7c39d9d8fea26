//! `make bench`, the parts that need processes and moto: cold start of the release sg-guard
//! binary (spawn → its first `GET …/invocation/next`), warm handling of one event against moto
//! including the revoke and the SNS publish (median and p95), and peak RSS.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use snapback_tests::lambda::{workspace_root, Running};
use snapback_tests::runtime_api::{RuntimeApi, RuntimeEvent};
use snapback_tests::{authorize_record, envelope, moto_url, tcp_from, World, DEFAULT_ACCOUNT};

const COLD_RUNS: usize = 25;
const WARM_EVENTS: usize = 60;

fn release_binary() -> std::path::PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(Into::into).unwrap_or_else(|| workspace_root().join("target"));
    let binary = target.join("release/sg-guard");
    assert!(binary.exists(), "build it first: cargo build --release -p sg-guard");
    binary
}

fn spawn(api: &RuntimeApi, world: &World) -> Running {
    Running(
        Command::new(release_binary())
            .envs(world.function_env())
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", api.port))
            .env("AWS_LAMBDA_FUNCTION_NAME", "sg-guard")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let world = World::in_default_account().await;

    // Cold start: spawn → first poll of the Runtime API (config, SDK clients, runtime ready).
    let mut cold = Vec::new();
    let mut idle_rss = 0;
    for _ in 0..COLD_RUNS {
        let api = RuntimeApi::start();
        let spawned = Instant::now();
        let function = spawn(&api, &world);
        match api.seen.recv_timeout(Duration::from_secs(10)).expect("the bootstrap polls") {
            RuntimeEvent::Polled(at) => cold.push(millis(at - spawned)),
            other => panic!("unexpected {other:?}"),
        }
        idle_rss = idle_rss.max(peak_rss_kib(function.0.id()));
    }
    cold.sort_by(f64::total_cmp);

    // Warm: one process, one event after another; each opens a fresh world rule first.
    let group = world.group(&format!("bench-nodes-{}", std::process::id()), &[("aws:eks:cluster-name", "bench")]).await;
    let api = RuntimeApi::start();
    let function = spawn(&api, &world);
    let _ = api.seen.recv_timeout(Duration::from_secs(10)).expect("first poll");
    let mut warm = Vec::new();
    for i in 0..WARM_EVENTS {
        let opened = tcp_from(22, &["0.0.0.0/0"]);
        let created = world.authorize(&group, opened.clone()).await;
        let event = envelope(&authorize_record(DEFAULT_ACCOUNT, &group, &opened, &created));
        let sent = Instant::now();
        api.send(&event);
        loop {
            match api.seen.recv_timeout(Duration::from_secs(30)).expect("an answer") {
                RuntimeEvent::Answered { at, ok, body } => {
                    assert!(ok && body.contains("\"remediated\""), "event {i}: {body}");
                    warm.push(millis(at - sent));
                    break;
                }
                RuntimeEvent::Polled(_) => {}
            }
        }
    }
    let warm_rss = peak_rss_kib(function.0.id());
    drop(function);
    assert!(world.ingress(&group).await.is_empty(), "every opened rule was revoked");
    assert_eq!(world.alerts().await.len(), WARM_EVENTS, "one alert per event");
    // The first warm event pays for the SDK's first connections; report it apart.
    let first = warm[0];
    let mut steady = warm[1..].to_vec();
    steady.sort_by(f64::total_cmp);
    let binary_size = std::fs::metadata(release_binary()).unwrap().len();

    println!("sg-guard benchmark (release binary {:.1} MB, moto at {})", binary_size as f64 / 1e6, moto_url());
    println!(
        "  cold start, spawn -> first invocation/next: median {:.1} ms, p95 {:.1} ms ({COLD_RUNS} runs)",
        percentile(&cold, 0.5),
        percentile(&cold, 0.95)
    );
    println!("  warm event -> answer (describe, revoke, SNS publish): median {:.1} ms, p95 {:.1} ms ({} events; first {:.1} ms)",
        percentile(&steady, 0.5), percentile(&steady, 0.95), steady.len(), first);
    println!(
        "  peak RSS: {:.1} MB idle after start, {:.1} MB after {WARM_EVENTS} events",
        idle_rss as f64 / 1024.0,
        warm_rss as f64 / 1024.0
    );
}
