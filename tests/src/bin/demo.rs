//! `make demo`: a world-open SSH rule on an EKS node security group, snapped back by the built
//! sg-guard bootstrap running under cargo-lambda's Lambda runtime emulator, against moto.

use std::time::Instant;

use snapback_tests::lambda::{function_binary, LocalLambda};
use snapback_tests::{authorize_record, envelope, moto_url, tcp_from, World, DEFAULT_ACCOUNT, REGION};

fn step(number: u32, text: &str) {
    println!("\n[{number}/6] {text}");
}

fn show_rules(rules: &[(String, i32, i32, String)]) {
    if rules.is_empty() {
        println!("      (no ingress rules)");
    }
    for (protocol, from, to, cidr) in rules {
        let ports = if from == to { from.to_string() } else { format!("{from}-{to}") };
        println!("      {protocol} {ports:<6} from {cidr}");
    }
}

#[tokio::main]
async fn main() {
    println!("snapback demo: someone opens SSH on an EKS node group to the internet; snapback snaps it back.");
    step(
        1,
        &format!("moto, a local AWS emulator, is listening on {} (account {DEFAULT_ACCOUNT}, {REGION})", moto_url()),
    );

    let world = World::in_default_account().await;
    let group = world
        .group("demo-cluster-nodes", &[("aws:eks:cluster-name", "demo-cluster"), ("Name", "demo-cluster-nodes")])
        .await;
    world.authorize(&group, tcp_from(443, &["10.0.0.0/16"])).await;
    step(2, &format!(
        "Created VPC {}, node security group {group} (tag aws:eks:cluster-name=demo-cluster) and the alert topic with an SQS subscriber",
        world.vpc_id
    ));

    let opened = tcp_from(22, &["0.0.0.0/0"]);
    let created = world.authorize(&group, opened.clone()).await;
    step(3, &format!("alice runs: aws ec2 authorize-security-group-ingress --group-id {group} --protocol tcp --port 22 --cidr 0.0.0.0/0"));
    println!("      ingress rules now:");
    show_rules(&world.ingress(&group).await);

    step(4, "sg-guard (the built bootstrap binary) starts under cargo-lambda's Lambda runtime emulator");
    let function = LocalLambda::start(&function_binary("sg-guard"), &world.function_env());

    let event = envelope(&authorize_record(DEFAULT_ACCOUNT, &group, &opened, &created));
    step(5, "CloudTrail records the call and EventBridge delivers it to sg-guard");
    let started = Instant::now();
    let answer = function.invoke(&event);
    println!(
        "      sg-guard answered in {:.0} ms (including the cargo lambda invoke round trip): {answer}",
        started.elapsed().as_secs_f64() * 1000.0
    );

    step(6, "The world-open rule is gone, the private one stays, and the alert went out");
    println!("      ingress rules after:");
    show_rules(&world.ingress(&group).await);
    for alert in world.alerts().await {
        println!("      alert delivered to the topic's subscriber (attributes {:?}):", alert.attributes);
        let pretty = serde_json::to_string_pretty(&alert.message).unwrap();
        for line in pretty.lines() {
            println!("        {line}");
        }
    }
    drop(function);
    println!("\nDone: stopped sg-guard and the runtime emulator; moto stops next.");
}
