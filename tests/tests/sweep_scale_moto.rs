//! Sweeps at scale against moto: more clusters than one ListClusters page, clusters and nodegroups
//! described concurrently within the adapter's bound, results in resource order whatever the
//! bound; the security-group sweep's cluster ownership the same however its DescribeCluster calls
//! finish; and look-ups of the ids the EKS sweep gives. moto does not serve EKS access entries:
//! their sweep is tested with aws-smithy-mocks in `shared/aws/tests/eks_sweep_mocked.rs`, and here
//! the missing API must fail nothing.

use aws_sdk_eks::types::{RemoteAccessConfig, VpcConfigRequest};
use snapback_aws::{Ec2SecurityGroups, EksApi, Found, ServiceAdapter, SweepContext};
use snapback_rules::services::eks::{CLUSTER, NODEGROUP};
use snapback_rules::services::security_groups::{GroupState, RuleEntry, SECURITY_GROUP};
use snapback_rules::{ResourceFacts, Scope};
use snapback_tests::World;

fn resources(found: &[Found]) -> Vec<(&str, &str)> {
    found.iter().map(|found| (found.kind.name, found.resource.as_str())).collect()
}

async fn nodegroup(world: &World, cluster: &str, name: &str) {
    world
        .aws
        .eks
        .create_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .node_role(format!("arn:aws:iam::{}:role/nodes", world.aws.account))
        .subnets("subnet-0a1b2c3d")
        .remote_access(RemoteAccessConfig::builder().ec2_ssh_key("ops").build())
        .send()
        .await
        .unwrap();
}

/// A cluster whose VPC config lists these security groups.
async fn cluster_with_groups(world: &World, name: &str, groups: &[&str]) {
    let vpc = VpcConfigRequest::builder()
        .subnet_ids("subnet-0a1b2c3d")
        .set_security_group_ids(Some(groups.iter().map(|group| (*group).to_owned()).collect()));
    world
        .aws
        .eks
        .create_cluster()
        .name(name)
        .role_arn(format!("arn:aws:iam::{}:role/eks-cluster", world.aws.account))
        .resources_vpc_config(vpc.build())
        .send()
        .await
        .unwrap();
}

/// GIVEN 101 clusters (one more than a ListClusters page), two of them with nodegroups, WHEN the EKS adapter sweeps with at most 3 calls in flight and with the
/// default bound, THEN both find every cluster and every nodegroup, in resource order, and
/// moto's missing access-entry API fails neither.
#[tokio::test]
async fn a_bounded_sweep_finds_every_cluster_and_nodegroup_in_resource_order() {
    let world = World::new().await;
    let names: Vec<String> = (0..101).map(|at| format!("c{at:03}")).collect();
    for name in &names {
        world.cluster(name, true, false, &["0.0.0.0/0"], &[], &[("team", name)]).await;
    }
    for (cluster, group) in [("c100", "ng-b"), ("c100", "ng-a"), ("c007", "ng-a")] {
        nodegroup(&world, cluster, group).await;
    }

    let bounded = EksApi::new(world.aws.eks.clone())
        .with_sweep_concurrency(3)
        .sweep(&SweepContext::new(Scope::Eks))
        .await
        .expect("swept");
    let default = EksApi::new(world.aws.eks.clone()).sweep(&SweepContext::new(Scope::Eks)).await.expect("swept");

    let mut expected: Vec<(&str, String)> = names.iter().map(|name| (CLUSTER.name, name.clone())).collect();
    expected.extend(
        [("c007/ng-a", NODEGROUP.name), ("c100/ng-a", NODEGROUP.name), ("c100/ng-b", NODEGROUP.name)]
            .map(|(resource, kind)| (kind, resource.to_owned())),
    );
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    let expected: Vec<(&str, &str)> = expected.iter().map(|(kind, resource)| (*kind, resource.as_str())).collect();
    assert_eq!(resources(&bounded), expected);
    assert_eq!(resources(&default), expected);
    let c042 = bounded.iter().find(|found| found.resource == "c042").unwrap();
    assert_eq!(c042.facts.as_ref().and_then(|facts| facts.tags.get("team")).map(String::as_str), Some("c042"));
}

/// GIVEN untagged security groups that clusters' VPC configs list, one of them listed by two
/// clusters, WHEN the security-group adapter sweeps with at most 2 DescribeCluster calls in
/// flight, THEN each group is owned by the cluster listing it, the shared one by the first
/// cluster ListClusters names (moto names them in name order) whichever DescribeCluster answers
/// first, and the groups come in id order.
#[tokio::test]
async fn a_bounded_security_group_sweep_finds_each_groups_cluster_in_list_order() {
    let world = World::new().await;
    let (alpha, beta, shared) =
        (world.group("alpha-nodes", &[]).await, world.group("beta-nodes", &[]).await, world.group("shared", &[]).await);
    cluster_with_groups(&world, "alpha", &[&alpha, &shared]).await;
    cluster_with_groups(&world, "zeta", &[&shared]).await;
    cluster_with_groups(&world, "beta", &[&beta]).await;

    let found = Ec2SecurityGroups::new(world.aws.ec2.clone(), world.aws.eks.clone())
        .with_sweep_concurrency(2)
        .sweep(&SweepContext::new(Scope::Eks))
        .await
        .expect("swept");

    let groups: Vec<&str> = found.iter().map(|found| found.resource.as_str()).collect();
    let mut sorted = groups.clone();
    sorted.sort();
    assert_eq!(groups, sorted, "in group id order");
    assert!(found.iter().all(|found| *found.kind == SECURITY_GROUP));
    let cluster_of = |group: &str| {
        found.iter().find(|found| found.resource == group).and_then(|found| found.facts.as_ref()?.cluster.clone())
    };
    assert_eq!(cluster_of(&alpha).as_deref(), Some("alpha"));
    assert_eq!(cluster_of(&beta).as_deref(), Some("beta"));
    assert_eq!(cluster_of(&shared).as_deref(), Some("alpha"), "the first cluster listed owns a shared group");
}

/// GIVEN a tagged cluster, WHEN the EKS adapter looks up the ids its sweep gives (the cluster,
/// `cluster/nodegroup`, an association's `cluster/principal/policy`), THEN each has the cluster's
/// tags and name as facts, only the cluster's own look-up hands its description on to actions,
/// and an id of a cluster that does not exist is gone.
#[tokio::test]
async fn the_ids_a_sweep_gives_look_up_as_their_cluster() {
    let world = World::new().await;
    world.cluster("prod", true, false, &["0.0.0.0/0"], &[], &[("team", "platform")]).await;
    let eks = EksApi::new(world.aws.eks.clone());
    let facts =
        ResourceFacts { tags: [("team".to_owned(), "platform".to_owned())].into(), cluster: Some("prod".to_owned()) };

    let cluster = eks.look_up(&CLUSTER, "prod", false).await.unwrap().expect("the cluster exists");
    let nodegroup = eks.look_up(&NODEGROUP, "prod/ng-a", false).await.unwrap().expect("its cluster exists");
    let association = eks
        .look_up(&CLUSTER, "prod/arn:aws:iam::111122223333:role/intruder/AmazonEKSClusterAdminPolicy", false)
        .await
        .unwrap()
        .expect("its cluster exists");
    let gone = eks.look_up(&NODEGROUP, "staging/ng-a", false).await.unwrap();

    assert_eq!((&cluster.facts, &nodegroup.facts, &association.facts), (&facts, &facts, &facts));
    assert!(cluster.described.is_some());
    assert!(nodegroup.described.is_none() && association.described.is_none());
    assert!(gone.is_none());
}

/// GIVEN a group tagged with a cluster's name, an untagged group a cluster's VPC config lists,
/// and a stray group of no cluster, each with SSH open to the world and a rule from a private
/// range, WHEN the security-group adapter sweeps under scope eks and under scope all, THEN scope
/// eks lists only the two cluster groups and scope all lists the stray one too; either way each
/// world-open rule carries the rule id AWS gave it, and the private-range rule is still there to
/// judge.
#[tokio::test]
async fn a_scope_eks_sweep_lists_only_the_groups_of_clusters_and_ids_their_world_open_rules() {
    let world = World::new().await;
    let tagged = world.group("tagged-nodes", &[("kubernetes.io/cluster/prod", "owned")]).await;
    let listed = world.group("listed", &[]).await;
    let stray = world.group("stray", &[]).await;
    cluster_with_groups(&world, "prod", &[&listed]).await;
    let mut world_open_ids = Vec::new();
    for group in [&tagged, &listed, &stray] {
        let rules = world.authorize(group, snapback_tests::tcp_from(22, &["0.0.0.0/0"])).await;
        world_open_ids.extend(rules.iter().filter_map(|rule| rule.security_group_rule_id().map(str::to_owned)));
        world.authorize(group, snapback_tests::tcp_from(443, &["10.0.0.0/8"])).await;
    }
    let adapter = Ec2SecurityGroups::new(world.aws.ec2.clone(), world.aws.eks.clone());

    let eks = adapter.sweep(&SweepContext::new(Scope::Eks)).await.expect("swept");
    let all = adapter.sweep(&SweepContext::new(Scope::All)).await.expect("swept");

    let ids = |found: &[Found]| found.iter().map(|found| found.resource.clone()).collect::<Vec<_>>();
    let mut cluster_groups = vec![tagged.clone(), listed.clone()];
    cluster_groups.sort();
    assert_eq!(ids(&eks), cluster_groups);
    assert!(ids(&all).contains(&stray) && cluster_groups.iter().all(|group| ids(&all).contains(group)));
    let cluster_of = |group: &str| eks.iter().find(|found| found.resource == group)?.facts.as_ref()?.cluster.clone();
    assert_eq!((cluster_of(&tagged).as_deref(), cluster_of(&listed).as_deref()), (Some("prod"), Some("prod")));
    for found in &all {
        let state = found.state.downcast_ref::<GroupState>().expect("a group state");
        if ![&tagged, &listed, &stray].contains(&&state.group_id) {
            continue;
        }
        let world_open: Vec<&RuleEntry> = state.ingress.iter().filter(|entry| entry.source.is_world()).collect();
        assert_eq!(world_open.len(), 1, "{state:?}");
        assert!(world_open_ids.contains(world_open[0].rule_id.as_ref().expect("a world-open rule has its id")));
        assert!(state.ingress.iter().any(|entry| entry.from_port == Some(443)), "{state:?}");
    }
}
