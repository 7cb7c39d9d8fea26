//! Sweeping an account against moto: each adapter lists and describes every resource of its
//! service, the rules judge the states, and a found state goes through the same restore path as a
//! change. (The building block of `snapback scan` and the sweeper.)

use serde_json::Value;
use snapback_aws::{Found, SweepContext};
use snapback_rules::{Config, DescribedState, Observation, Scope};
use snapback_tests::{deadline_in, tcp_from, World, REGION};

const FOUND_AT: &str = "2026-11-29T06:00:00Z";

/// (rule, resource, the plan as described) of every finding of the states.
fn judged(found: &[Found]) -> Vec<(String, String, Vec<String>)> {
    let mut all = Vec::new();
    for item in found {
        for finding in snapback_rules::services::judge_state(item.state.as_ref(), &Config::default()) {
            let plan = finding.plan.actions.iter().map(|action| action.describe()).collect();
            all.push((finding.rule.id.to_owned(), finding.resource.clone(), plan));
        }
    }
    all.sort();
    all
}

async fn sweep(world: &World) -> Vec<Found> {
    // Scope all: every group, whichever cluster it belongs to.
    let context = SweepContext::new(Scope::All);
    let mut found = Vec::new();
    for service in ["security-groups", "eks"] {
        found.extend(world.aws.adapter(service, &[]).sweep(&context).await.expect("the sweep lists every resource"));
    }
    found
}

/// GIVEN an account where SSH was opened to the world on a node group's security group, a
/// cluster was left public without logs, and a nodegroup has SSH open, all before snapback ran,
/// WHEN the account is swept, THEN each is found with the restore a change would have got (the
/// group's rule by its id), and nothing else is.
#[tokio::test]
async fn a_sweep_finds_what_was_dangerous_before_snapback_ran() {
    let world = World::new().await;
    world.cluster("prod", true, false, &["0.0.0.0/0"], &[], &[]).await;
    world
        .aws
        .eks
        .create_nodegroup()
        .cluster_name("prod")
        .nodegroup_name("ng-ssh")
        .node_role(format!("arn:aws:iam::{}:role/nodes", world.aws.account))
        .subnets("subnet-0a1b2c3d")
        .remote_access(aws_sdk_eks::types::RemoteAccessConfig::builder().ec2_ssh_key("ops").build())
        .send()
        .await
        .unwrap();
    let group = world.group("prod-nodes", &[("aws:eks:cluster-name", "prod")]).await;
    let rule_id =
        world.authorize(&group, tcp_from(22, &["0.0.0.0/0"])).await[0].security_group_rule_id.clone().unwrap();
    world.authorize(&group, tcp_from(22, &["10.0.0.0/8"])).await;

    let found = sweep(&world).await;

    let rules: Vec<String> =
        judged(&found).into_iter().map(|(rule, resource, _)| format!("{rule} {resource}")).collect();
    assert_eq!(
        rules,
        [
            "eks-control-plane-logging-disabled prod",
            "eks-nodegroup-ssh-open prod",
            "eks-private-endpoint-disabled prod",
            "eks-public-endpoint prod",
            "eks-public-endpoint-open-cidr prod",
            "eks-secrets-encryption-missing prod",
            format!("sg-open-remote-admin {group}").as_str(),
        ]
    );
    let ssh = judged(&found).into_iter().find(|(rule, _, _)| rule == "sg-open-remote-admin").unwrap();
    assert_eq!(ssh.2, [format!("revoke ingress rule {rule_id} on {group}")], "revoked by the id AWS gave the rule");
}

/// GIVEN a group found with SSH open to the world, WHEN its state is judged through the guard's
/// path, THEN the world rule is revoked, the private one stays, and the alert says the sweep found it.
#[tokio::test]
async fn a_found_group_is_restored_through_the_same_path_as_a_change() {
    let world = World::new().await;
    let group = world.group("prod-nodes", &[("aws:eks:cluster-name", "prod")]).await;
    world.authorize(&group, tcp_from(22, &["0.0.0.0/0"])).await;
    world.authorize(&group, tcp_from(22, &["10.0.0.0/8"])).await;
    let found = sweep(&world).await.into_iter().find(|item| item.resource == group).expect("the group is swept");
    let guard = world.guard(&[]);
    let current = guard.config.current().await.unwrap();
    let described = DescribedState::new(
        Some(world.aws.account.clone()),
        Some(REGION.into()),
        FOUND_AT,
        &found.resource,
        found.state,
    );

    let report = guard.judge(&Observation::State(described), &current, deadline_in(30)).await.unwrap();

    assert_eq!(report.decisions.len(), 1, "{report:?}");
    assert_eq!(report.decisions[0].outcome, "remediated");
    assert_eq!(world.ingress(&group).await, vec![("tcp".to_owned(), 22, 22, "10.0.0.0/8".to_owned())]);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    let alert: &Value = &alerts[0].message;
    assert_eq!(alert["event_name"], "Sweep");
    assert_eq!(alert["event_time"], FOUND_AT);
    assert_eq!(alert["cluster"], "prod");
}
