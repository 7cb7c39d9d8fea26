//! EKS calls moto does not implement (access entries and their policies,
//! AssociateEncryptionConfig), tested at the SDK level with aws-smithy-mocks: the exact request
//! sent and the handling of each answer.

use std::time::{Duration, Instant};

use aws_sdk_eks::operation::associate_encryption_config::{
    AssociateEncryptionConfigError, AssociateEncryptionConfigOutput,
};
use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
use aws_sdk_eks::operation::disassociate_access_policy::{
    DisassociateAccessPolicyError, DisassociateAccessPolicyOutput,
};
use aws_sdk_eks::operation::list_access_entries::ListAccessEntriesOutput;
use aws_sdk_eks::operation::list_associated_access_policies::ListAssociatedAccessPoliciesOutput;
use aws_sdk_eks::types::error::{InvalidParameterException, ResourceNotFoundException};
use aws_sdk_eks::types::{AccessScope, AccessScopeType, AssociatedAccessPolicy, Cluster, ClusterStatus};
use aws_sdk_eks::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use snapback_aws::{ActionResult, AwsError, BusyPolicy, EksApi, ServiceAdapter};
use snapback_rules::services::eks::EksAction;
use snapback_rules::Action;

const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const INTRUDER: &str = "arn:aws:iam::111122223333:role/intruder";
const PLATFORM: &str = "arn:aws:iam::111122223333:role/platform-admins";

fn admin_policy() -> AssociatedAccessPolicy {
    AssociatedAccessPolicy::builder()
        .policy_arn(ADMIN)
        .access_scope(AccessScope::builder().r#type(AccessScopeType::Cluster).build())
        .build()
}

/// The EKS adapter over one mocked EKS client.
fn executor(client: Client, protected: &[&str]) -> Executor {
    let protected: Vec<String> = protected.iter().map(|p| (*p).to_owned()).collect();
    Executor(EksApi::new(client).with_busy_policy(BusyPolicy::default()).protecting(&protected))
}

/// Runs actions through the adapter as the handler does.
struct Executor(EksApi);

impl Executor {
    async fn execute(&self, action: &Action, deadline: Instant) -> Result<ActionResult, AwsError> {
        self.0.run(action, None, deadline).await
    }
}

fn remove_intruder() -> Action {
    EksAction::DisassociateAccessPolicy {
        cluster: "prod".into(),
        principal_arn: INTRUDER.into(),
        policy_arn: ADMIN.into(),
    }
    .into()
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

#[tokio::test]
async fn an_unlisted_admin_is_removed_when_another_admin_remains() {
    let entries = mock!(Client::list_access_entries)
        .match_requests(|req| req.cluster_name() == Some("prod"))
        .then_output(|| ListAccessEntriesOutput::builder().access_entries(INTRUDER).access_entries(PLATFORM).build());
    let policies = mock!(Client::list_associated_access_policies).then_output(|| {
        ListAssociatedAccessPoliciesOutput::builder().associated_access_policies(admin_policy()).build()
    });
    let disassociate = mock!(Client::disassociate_access_policy)
        .match_requests(|req| {
            req.cluster_name() == Some("prod")
                && req.principal_arn() == Some(INTRUDER)
                && req.policy_arn() == Some(ADMIN)
        })
        .then_output(|| DisassociateAccessPolicyOutput::builder().build());
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&entries, &policies, &disassociate]);

    let result = executor(client, &[]).execute(&remove_intruder(), soon()).await.unwrap();

    assert_eq!(result, ActionResult::Restored);
    assert_eq!(disassociate.num_calls(), 1);
    assert_eq!(policies.num_calls(), 2, "both principals' policies were read");
}

#[tokio::test]
async fn the_last_cluster_admin_is_never_removed() {
    let entries = mock!(Client::list_access_entries)
        .then_output(|| ListAccessEntriesOutput::builder().access_entries(INTRUDER).build());
    let policies = mock!(Client::list_associated_access_policies).then_output(|| {
        ListAssociatedAccessPoliciesOutput::builder().associated_access_policies(admin_policy()).build()
    });
    let disassociate =
        mock!(Client::disassociate_access_policy).then_output(|| DisassociateAccessPolicyOutput::builder().build());
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&entries, &policies, &disassociate]);

    let result = executor(client, &[]).execute(&remove_intruder(), soon()).await.unwrap();

    let ActionResult::Refused(why) = result else { panic!("expected a refusal, got {result:?}") };
    assert!(why.contains("last cluster admin"), "{why}");
    assert_eq!(disassociate.num_calls(), 0);
}

#[tokio::test]
async fn snapbacks_own_role_is_never_removed_and_nothing_is_asked() {
    let entries = mock!(Client::list_access_entries).then_output(|| ListAccessEntriesOutput::builder().build());
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&entries]);

    let result = executor(client, &[INTRUDER]).execute(&remove_intruder(), soon()).await.unwrap();

    assert!(matches!(result, ActionResult::Refused(ref why) if why.contains("snapback's own role")), "{result:?}");
    assert_eq!(entries.num_calls(), 0);
}

#[tokio::test]
async fn a_policy_already_gone_is_already_safe() {
    let gone = mock!(Client::disassociate_access_policy).then_error(|| {
        DisassociateAccessPolicyError::ResourceNotFoundException(
            ResourceNotFoundException::builder().message("The specified access policy is not associated").build(),
        )
    });
    let client = mock_client!(aws_sdk_eks, [&gone]);

    assert!(!EksApi::new(client).disassociate_access_policy("prod", INTRUDER, ADMIN).await.unwrap());
    assert_eq!(gone.num_calls(), 1);
}

fn unencrypted_cluster() -> DescribeClusterOutput {
    DescribeClusterOutput::builder()
        .cluster(Cluster::builder().name("prod").status(ClusterStatus::Active).build())
        .build()
}

#[tokio::test]
async fn secrets_encryption_is_associated_with_the_configured_key() {
    let describe = mock!(Client::describe_cluster).then_output(unencrypted_cluster);
    let associate = mock!(Client::associate_encryption_config)
        .match_requests(|req| {
            let Some(config) = req.encryption_config().first() else { return false };
            #[allow(deprecated)]
            let resources = config.resources().to_vec();
            req.cluster_name() == Some("prod")
                && resources == ["secrets"]
                && config.provider().and_then(|p| p.key_arn()) == Some("arn:aws:kms:us-east-1:111122223333:key/k")
        })
        .then_output(|| AssociateEncryptionConfigOutput::builder().build());
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&describe, &associate]);
    let action: Action = EksAction::AssociateEncryptionConfig {
        cluster: "prod".into(),
        key_arn: "arn:aws:kms:us-east-1:111122223333:key/k".into(),
    }
    .into();

    let result = executor(client, &[]).execute(&action, soon()).await.unwrap();

    assert_eq!(result, ActionResult::Restored);
    assert_eq!(associate.num_calls(), 1);
}

#[tokio::test]
async fn an_already_encrypted_answer_counts_as_safe_and_a_bad_key_fails_clearly() {
    let describe = mock!(Client::describe_cluster).then_output(unencrypted_cluster);
    let already = mock!(Client::associate_encryption_config).then_error(|| {
        AssociateEncryptionConfigError::InvalidParameterException(
            InvalidParameterException::builder().message("Cluster already has secrets encryption enabled").build(),
        )
    });
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&describe, &already]);
    let action: Action = EksAction::AssociateEncryptionConfig { cluster: "prod".into(), key_arn: "k".into() }.into();
    assert_eq!(executor(client, &[]).execute(&action, soon()).await.unwrap(), ActionResult::AlreadySafe);

    let describe = mock!(Client::describe_cluster).then_output(unencrypted_cluster);
    let bad_key = mock!(Client::associate_encryption_config).then_error(|| {
        AssociateEncryptionConfigError::InvalidParameterException(
            InvalidParameterException::builder().message("Key ARN k is not a valid KMS key").build(),
        )
    });
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&describe, &bad_key]);
    let error = executor(client, &[]).execute(&action, soon()).await.unwrap_err();
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("not a valid KMS key"), "{error}");
}
