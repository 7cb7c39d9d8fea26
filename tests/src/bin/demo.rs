//! `make demo`: three dangerous changes snapped back by the built bootstrap binaries running under
//! cargo-lambda's Lambda runtime emulator, against moto. Scene 1: a world-open SSH rule on an EKS
//! node security group (sg-guard). Scene 2: an EKS API endpoint made public to 0.0.0.0/0
//! (eks-guard). Scene 3: a node opened to IMDSv1 (node-guard).

use std::time::Instant;

use aws_sdk_ec2::types::HttpTokensState;
use serde_json::{json, Value};
use snapback_tests::lambda::{function_binary, LocalLambda};
use snapback_tests::{
    authorize_record, eks_record, envelope, moto_url, tcp_from, tokens_made_optional_record, Delivered, World,
    DEFAULT_ACCOUNT, REGION,
};

const STEPS: u32 = 12;
const ALL_LOGS: &[&str] = &["api", "audit", "authenticator", "controllerManager", "scheduler"];

fn step(number: u32, text: &str) {
    println!("\n[{number}/{STEPS}] {text}");
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

fn show_endpoint(world_state: (bool, bool, Vec<String>, Vec<String>)) {
    let (public, private, cidrs, _) = world_state;
    let public = if public { format!("ON, open to {}", cidrs.join(", ")) } else { "off".to_owned() };
    println!("      public endpoint: {public}; private endpoint: {}", if private { "on" } else { "OFF" });
}

fn invoke(function: &LocalLambda, event: &Value, name: &str) {
    let started = Instant::now();
    let answer = function.invoke(event);
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    println!("      {name} answered in {millis:.0} ms (including the `cargo lambda invoke` round trip):");
    for decision in answer["decisions"].as_array().into_iter().flatten() {
        println!(
            "        {:<36} {}",
            decision["rule"].as_str().unwrap_or_default(),
            decision["outcome"].as_str().unwrap_or_default()
        );
    }
}

/// The node's IMDS settings, as DescribeInstances gives them.
async fn show_metadata_options(world: &World, instance: &str) {
    let described = world.aws.ec2.describe_instances().instance_ids(instance).send().await.unwrap();
    let options = described.reservations()[0].instances()[0].metadata_options();
    let tokens = options.and_then(|options| options.http_tokens()).map(|tokens| tokens.as_str()).unwrap_or_default();
    let hop_limit = options.and_then(|options| options.http_put_response_hop_limit()).unwrap_or(1);
    let meaning = if tokens == "required" { "IMDSv2 only" } else { "IMDSv1 allowed" };
    println!("      {instance}: HttpTokens {tokens} ({meaning}), hop limit {hop_limit}");
}

fn show_alert_summaries(alerts: &[Delivered]) {
    for alert in alerts {
        println!(
            "      alert: {}\n        restored: {}; actor: {}",
            alert.message["content"]["title"].as_str().unwrap_or_default(),
            alert.message["restored"],
            alert.message["actor"].as_str().unwrap_or_default(),
        );
        for rule in alert.message["rules"].as_array().into_iter().flatten() {
            println!(
                "        - {:<36} {:<9} {}",
                rule["rule"].as_str().unwrap_or_default(),
                rule["severity"].as_str().unwrap_or_default(),
                rule["outcome"].as_str().unwrap_or_default()
            );
        }
    }
}

#[tokio::main]
async fn main() {
    println!("snapback demo: three dangerous changes to an EKS cluster, snapped back within milliseconds.");
    step(
        1,
        &format!("moto, a local AWS emulator, is listening on {} (account {DEFAULT_ACCOUNT}, {REGION})", moto_url()),
    );
    let world = World::in_default_account().await;
    let group = world
        .group("demo-cluster-nodes", &[("aws:eks:cluster-name", "demo-cluster"), ("Name", "demo-cluster-nodes")])
        .await;
    world.authorize(&group, tcp_from(443, &["10.0.0.0/16"])).await;
    world.cluster("demo-cluster", false, true, &[], ALL_LOGS, &[("team", "platform")]).await;
    println!(
        "      created VPC {}, EKS cluster demo-cluster (private endpoint only), its node security group {group},\n      \
         and the alert topic with an SQS subscriber",
        world.vpc_id
    );

    let instance = world.node("demo-cluster", HttpTokensState::Required).await;
    println!("      and node {instance} of its node group web, requiring IMDSv2");

    step(2, "sg-guard, eks-guard and node-guard (the built bootstrap binaries) start under cargo-lambda's Lambda runtime emulator");
    let sg_guard = LocalLambda::start(&function_binary("sg-guard"), &world.function_env());
    let eks_guard = LocalLambda::start(&function_binary("eks-guard"), &world.function_env());
    let node_guard = LocalLambda::start(&function_binary("node-guard"), &world.function_env());

    step(3, &format!("alice runs: aws ec2 authorize-security-group-ingress --group-id {group} --protocol tcp --port 22 --cidr 0.0.0.0/0"));
    let opened = tcp_from(22, &["0.0.0.0/0"]);
    let created = world.authorize(&group, opened.clone()).await;
    println!("      ingress rules now:");
    show_rules(&world.ingress(&group).await);

    step(4, "CloudTrail records the call and EventBridge delivers it to sg-guard");
    invoke(&sg_guard, &envelope(&authorize_record(DEFAULT_ACCOUNT, &group, &opened, &created)), "sg-guard");

    step(5, "The world-open rule is gone, the private one stays, and the alert went out as delivered:");
    show_rules(&world.ingress(&group).await);
    for alert in world.alerts().await {
        println!("      message attributes {:?}; message:", alert.attributes);
        for line in serde_json::to_string_pretty(&alert.message).unwrap().lines() {
            println!("        {line}");
        }
    }

    step(6, "alice runs: aws eks update-cluster-config --name demo-cluster --resources-vpc-config endpointPublicAccess=true,endpointPrivateAccess=false");
    world.set_endpoint("demo-cluster", true, false).await;
    show_endpoint(world.cluster_state("demo-cluster").await);

    step(7, "CloudTrail records the call and EventBridge delivers it to eks-guard");
    let record = eks_record(
        DEFAULT_ACCOUNT,
        "UpdateClusterConfig",
        json!({"name": "demo-cluster", "resourcesVpcConfig": {"endpointPublicAccess": true, "endpointPrivateAccess": false}}),
        json!({"update": {"id": "5e0b8b1c-demo", "status": "InProgress", "type": "EndpointAccessUpdate", "params": [
            {"type": "EndpointPublicAccess", "value": "true"}, {"type": "EndpointPrivateAccess", "value": "false"},
            {"type": "PublicAccessCidrs", "value": "[\"0.0.0.0/0\"]"}], "errors": []}}),
    );
    invoke(&eks_guard, &envelope(&record), "eks-guard");

    step(8, "The endpoint is private again, in one UpdateClusterConfig, and one alert names the three rules:");
    show_endpoint(world.cluster_state("demo-cluster").await);
    show_alert_summaries(&world.alerts().await);

    step(
        9,
        &format!(
            "alice runs: aws ec2 modify-instance-metadata-options --instance-id {instance} --http-tokens optional"
        ),
    );
    world.set_tokens(&instance, HttpTokensState::Optional).await;
    show_metadata_options(&world, &instance).await;

    step(10, "CloudTrail records the call (its request inside a PascalCase wrapper) and EventBridge delivers it to node-guard");
    let modified = tokens_made_optional_record(DEFAULT_ACCOUNT, &instance);
    invoke(&node_guard, &envelope(&modified), "node-guard");

    step(11, "The node requires IMDSv2 tokens again, and one alert says so:");
    show_metadata_options(&world, &instance).await;
    show_alert_summaries(&world.alerts().await);

    drop((sg_guard, eks_guard, node_guard));
    step(12, "Stopped the three functions and the runtime emulators; moto stops next.");
}
