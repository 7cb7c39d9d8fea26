//! The EKS sweep over what moto cannot give, with aws-smithy-mocks: access entries and their
//! associated policies (moto implements neither ListAccessEntries nor
//! ListAssociatedAccessPolicies) and throttling (moto cannot throttle). The calls moto does
//! implement are mocked here only to reach these; their sweep is tested against moto in
//! `tests/tests/sweep_scale_moto.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
use aws_sdk_eks::operation::list_access_entries::{ListAccessEntriesError, ListAccessEntriesOutput};
use aws_sdk_eks::operation::list_associated_access_policies::ListAssociatedAccessPoliciesOutput;
use aws_sdk_eks::operation::list_clusters::ListClustersOutput;
use aws_sdk_eks::operation::list_nodegroups::ListNodegroupsOutput;
use aws_sdk_eks::types::error::InvalidRequestException;
use aws_sdk_eks::types::{AccessScope, AccessScopeType, AssociatedAccessPolicy, Cluster, ClusterStatus};
use aws_sdk_eks::Client;
use aws_smithy_mocks::{mock, mock_client, MockResponse, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use snapback_aws::{sweep_retry_config, AwsError, EksApi, Found, ServiceAdapter, SweepContext, SWEEP_MAX_ATTEMPTS};
use snapback_rules::services::eks::{AccessPolicyAssociation, EksState};
use snapback_rules::{Config, ResourceFacts, Scope};

const POLICIES: &str = "arn:aws:eks::aws:cluster-access-policy/";
const INTRUDER: &str = "arn:aws:iam::111122223333:role/intruder";
const PLATFORM: &str = "arn:aws:iam::111122223333:role/platform-admins";

fn policy(name: &str, scope: AccessScopeType) -> AssociatedAccessPolicy {
    AssociatedAccessPolicy::builder()
        .policy_arn(format!("{POLICIES}{name}"))
        .access_scope(AccessScope::builder().r#type(scope).build())
        .build()
}

/// Clusters `prod` and `legacy` (listed in that order), each tagged `team=<name>`, no nodegroups.
fn two_clusters() -> [Rule; 3] {
    let list = mock!(Client::list_clusters)
        .then_output(|| ListClustersOutput::builder().clusters("prod").clusters("legacy").build());
    let describe = mock!(Client::describe_cluster).then_compute_output(|req| {
        let name = req.name().unwrap_or_default();
        DescribeClusterOutput::builder()
            .cluster(Cluster::builder().name(name).status(ClusterStatus::Active).tags("team", name).build())
            .build()
    });
    let nodegroups = mock!(Client::list_nodegroups).then_output(|| ListNodegroupsOutput::builder().build());
    [list, describe, nodegroups]
}

/// `prod` lists its access entries over two pages; `legacy` authenticates through the aws-auth
/// ConfigMap only, which EKS answers with InvalidRequestException.
fn access_entries() -> Rule {
    mock!(Client::list_access_entries).then_compute_response(|req| match (req.cluster_name(), req.next_token()) {
        (Some("prod"), None) => MockResponse::Output(
            ListAccessEntriesOutput::builder().access_entries(INTRUDER).next_token("page-2").build(),
        ),
        (Some("prod"), Some("page-2")) => {
            MockResponse::Output(ListAccessEntriesOutput::builder().access_entries(PLATFORM).build())
        }
        _ => MockResponse::Error(ListAccessEntriesError::InvalidRequestException(
            InvalidRequestException::builder()
                .message(
                    "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform \
                     this operation.",
                )
                .build(),
        )),
    })
}

/// The intruder holds cluster admin; the platform team a namespace view policy, then (on a
/// second page) admin at cluster scope.
fn associated_policies() -> Rule {
    mock!(Client::list_associated_access_policies).then_compute_output(|req| {
        let page = ListAssociatedAccessPoliciesOutput::builder().cluster_name("prod");
        match (req.principal_arn(), req.next_token()) {
            (Some(INTRUDER), _) => {
                page.associated_access_policies(policy("AmazonEKSClusterAdminPolicy", AccessScopeType::Cluster))
            }
            (_, None) => page
                .associated_access_policies(policy("AmazonEKSViewPolicy", AccessScopeType::Namespace))
                .next_token("more"),
            (_, Some(_)) => page.associated_access_policies(policy("AmazonEKSAdminPolicy", AccessScopeType::Cluster)),
        }
        .build()
    })
}

fn association(principal: &str, policy: &str, scope: &str) -> AccessPolicyAssociation {
    AccessPolicyAssociation {
        cluster: "prod".into(),
        principal_arn: principal.into(),
        policy_arn: format!("{POLICIES}{policy}"),
        scope: scope.into(),
    }
}

fn resources(found: &[Found]) -> Vec<&str> {
    found.iter().map(|found| found.resource.as_str()).collect()
}

/// GIVEN two clusters, one with access entries over two pages whose policies span two pages, one
/// on ConfigMap authentication, WHEN the EKS adapter sweeps, THEN every association comes back as
/// the state the admin rule judges, with its cluster's facts, in resource order; the ConfigMap
/// cluster has none and fails nothing; and the rule finds both cluster-scoped admins.
#[tokio::test]
async fn a_sweep_yields_every_access_policy_association_of_every_cluster() {
    let [list, describe, nodegroups] = two_clusters();
    let (entries, policies) = (access_entries(), associated_policies());
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&list, &describe, &nodegroups, &entries, &policies]);

    let found = EksApi::new(client)
        .sweep(&SweepContext::new(Scope::Eks))
        .await
        .expect("a ConfigMap-only cluster is no failure");

    assert_eq!(
        resources(&found),
        [
            "legacy",
            "prod",
            "prod/arn:aws:iam::111122223333:role/intruder/AmazonEKSClusterAdminPolicy",
            "prod/arn:aws:iam::111122223333:role/platform-admins/AmazonEKSAdminPolicy",
            "prod/arn:aws:iam::111122223333:role/platform-admins/AmazonEKSViewPolicy",
        ]
    );
    let associations: Vec<&AccessPolicyAssociation> = found
        .iter()
        .filter_map(|found| match found.state.downcast_ref::<EksState>() {
            Some(EksState::AccessPolicy(association)) => Some(association),
            _ => None,
        })
        .collect();
    assert_eq!(
        associations,
        [
            &association(INTRUDER, "AmazonEKSClusterAdminPolicy", "cluster"),
            &association(PLATFORM, "AmazonEKSAdminPolicy", "cluster"),
            &association(PLATFORM, "AmazonEKSViewPolicy", "namespace"),
        ]
    );
    let prod = ResourceFacts { tags: BTreeMap::from([("team".into(), "prod".into())]), cluster: Some("prod".into()) };
    assert!(
        found[2..].iter().all(|found| found.facts.as_ref() == Some(&prod)),
        "an association carries its cluster's facts"
    );
    assert_eq!(entries.num_calls(), 3, "both pages of prod, and legacy once");
    assert_eq!(policies.num_calls(), 3, "the intruder's page and both of the platform team's");

    let admins: Vec<String> = found[2..]
        .iter()
        .flat_map(|found| snapback_rules::services::judge_state(found.state.as_ref(), &Config::default()))
        .map(|finding| format!("{} {}: {}", finding.rule.id, finding.resource, finding.plan.actions[0].describe()))
        .collect();
    assert_eq!(
        admins,
        [
            format!("eks-cluster-admin-access-entry prod: disassociate AmazonEKSClusterAdminPolicy from {INTRUDER} on cluster prod"),
            format!("eks-cluster-admin-access-entry prod: disassociate AmazonEKSAdminPolicy from {PLATFORM} on cluster prod"),
        ]
    );
}

/// A 429 with the error code EKS gives a throttled call.
fn throttled(code: &'static str) -> impl Fn() -> HttpResponse + Send + Sync + 'static {
    move || {
        let mut response =
            HttpResponse::new(StatusCode::try_from(429).unwrap(), SdkBody::from(r#"{"message":"Rate exceeded"}"#));
        response.headers_mut().insert("x-amzn-ErrorType", code);
        response
    }
}

/// A mocked client with the sweep's retry policy, backing off for milliseconds instead of seconds.
macro_rules! sweeping_client {
    ($rules: expr) => {
        mock_client!(aws_sdk_eks, RuleMode::MatchAny, $rules, |config| {
            config.retry_config(
                sweep_retry_config()
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(10)),
            )
        })
    };
}

/// GIVEN EKS throttles the cluster listing twice (ThrottlingException) and an access-entry
/// listing once (TooManyRequestsException), WHEN a client with the sweep's retry policy sweeps,
/// THEN the throttled calls are tried again and the sweep returns everything.
#[tokio::test]
async fn a_throttled_sweep_backs_off_and_still_sweeps_everything() {
    let list = mock!(Client::list_clusters)
        .sequence()
        .http_response(throttled("ThrottlingException"))
        .times(2)
        .output(|| ListClustersOutput::builder().clusters("prod").build())
        .build();
    let [_, describe, nodegroups] = two_clusters();
    let entries = mock!(Client::list_access_entries)
        .sequence()
        .http_response(throttled("TooManyRequestsException"))
        .output(|| ListAccessEntriesOutput::builder().access_entries(INTRUDER).build())
        .build();
    let policies = associated_policies();
    let client = sweeping_client!([&list, &describe, &nodegroups, &entries, &policies]);

    let found = EksApi::new(client).sweep(&SweepContext::new(Scope::Eks)).await.expect("throttling is retried");

    assert_eq!(resources(&found), ["prod", "prod/arn:aws:iam::111122223333:role/intruder/AmazonEKSClusterAdminPolicy"]);
    assert_eq!(list.num_calls(), 3, "two throttled answers, then the list");
    assert_eq!(entries.num_calls(), 2, "one throttled answer, then the entries");
}

/// GIVEN EKS throttles every attempt, WHEN the sweep's retry policy runs out of attempts, THEN the
/// sweep fails with a retryable error after exactly that many attempts.
#[tokio::test]
async fn throttling_that_outlasts_every_attempt_fails_the_sweep_as_retryable() {
    let list =
        mock!(Client::list_clusters).sequence().http_response(throttled("ThrottlingException")).repeatedly().build();
    let client = sweeping_client!([&list]);

    let error = EksApi::new(client)
        .sweep(&SweepContext::new(Scope::Eks))
        .await
        .expect_err("still throttled after every attempt");

    assert!(matches!(error, AwsError::Retryable { operation: "eks:ListClusters", .. }), "{error}");
    assert_eq!(list.num_calls(), SWEEP_MAX_ATTEMPTS as usize);
}
