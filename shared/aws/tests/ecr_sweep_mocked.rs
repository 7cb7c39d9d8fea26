//! The ECR sweep over what moto cannot give, with aws-smithy-mocks: DescribeRepositories in more
//! than one page (moto ignores maxResults and nextToken) and a repository deleted between the
//! listing and its own calls. The calls themselves are tested against moto in
//! `tests/tests/ecr_guard_moto.rs`.

use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
use aws_sdk_ecr::operation::get_registry_scanning_configuration::GetRegistryScanningConfigurationOutput;
use aws_sdk_ecr::operation::get_repository_policy::{GetRepositoryPolicyError, GetRepositoryPolicyOutput};
use aws_sdk_ecr::operation::list_tags_for_resource::{ListTagsForResourceError, ListTagsForResourceOutput};
use aws_sdk_ecr::types::error::{RepositoryNotFoundException, RepositoryPolicyNotFoundException};
use aws_sdk_ecr::types::{
    ImageScanningConfiguration, ImageTagMutability, RegistryScanningConfiguration, RegistryScanningRule, Repository,
    ScanFrequency, ScanType, ScanningRepositoryFilter, ScanningRepositoryFilterType, Tag,
};
use aws_sdk_ecr::Client;
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use snapback_aws::{EcrRepositories, ServiceAdapter, SweepContext};
use snapback_rules::services::ecr::{RegistryScanning, RepositoryState, ScanningRule};
use snapback_rules::Scope;

const PUBLIC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"public","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#;

fn repository(name: &str) -> Repository {
    Repository::builder()
        .repository_name(name)
        .repository_arn(format!("arn:aws:ecr:us-east-1:111122223333:repository/{name}"))
        .image_tag_mutability(ImageTagMutability::Immutable)
        .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(false).build())
        .build()
}

/// GIVEN three repositories over two pages — shop/web with a public policy and a tag, shop/api
/// without a policy, shop/gone deleted after the listing — and a registry with a BASIC
/// scan-on-push rule, WHEN the account is swept, THEN every page is read, the registry once,
/// shop/api without a policy is no error, shop/gone is left out, and the rest come sorted.
#[tokio::test]
async fn every_page_is_swept_the_registry_read_once_and_a_repository_gone_since_the_listing_left_out() {
    let list = mock!(Client::describe_repositories).then_compute_response(|req| match req.next_token() {
        None => MockResponse::Output(
            DescribeRepositoriesOutput::builder()
                .repositories(repository("shop/web"))
                .repositories(repository("shop/gone"))
                .next_token("page-2")
                .build(),
        ),
        Some(_) => {
            MockResponse::Output(DescribeRepositoriesOutput::builder().repositories(repository("shop/api")).build())
        }
    });
    let policy = mock!(Client::get_repository_policy).then_compute_response(|req| match req.repository_name() {
        Some("shop/web") => MockResponse::Output(
            GetRepositoryPolicyOutput::builder().repository_name("shop/web").policy_text(PUBLIC).build(),
        ),
        Some("shop/gone") => MockResponse::Error(GetRepositoryPolicyError::RepositoryNotFoundException(
            RepositoryNotFoundException::builder().message("The repository does not exist").build(),
        )),
        _ => MockResponse::Error(GetRepositoryPolicyError::RepositoryPolicyNotFoundException(
            RepositoryPolicyNotFoundException::builder().message("Repository policy does not exist").build(),
        )),
    });
    let tags = mock!(Client::list_tags_for_resource).then_compute_response(|req| {
        match req.resource_arn().and_then(|arn| arn.split_once("repository/")).map(|(_, name)| name) {
            Some("shop/web") => MockResponse::Output(
                ListTagsForResourceOutput::builder()
                    .tags(Tag::builder().key("team").value("web").build().unwrap())
                    .build(),
            ),
            Some("shop/gone") => MockResponse::Error(ListTagsForResourceError::RepositoryNotFoundException(
                RepositoryNotFoundException::builder().message("The repository does not exist").build(),
            )),
            _ => MockResponse::Output(ListTagsForResourceOutput::builder().build()),
        }
    });
    let filter = ScanningRepositoryFilter::builder()
        .filter("prod/*")
        .filter_type(ScanningRepositoryFilterType::Wildcard)
        .build()
        .unwrap();
    let rule = RegistryScanningRule::builder()
        .scan_frequency(ScanFrequency::ScanOnPush)
        .repository_filters(filter)
        .build()
        .unwrap();
    let registry = mock!(Client::get_registry_scanning_configuration).then_output(move || {
        GetRegistryScanningConfigurationOutput::builder()
            .scanning_configuration(
                RegistryScanningConfiguration::builder().scan_type(ScanType::Basic).rules(rule.clone()).build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [&list, &policy, &tags, &registry]);

    let found =
        EcrRepositories::new(client).with_sweep_concurrency(2).sweep(&SweepContext::new(Scope::Eks)).await.unwrap();

    let names: Vec<&str> = found.iter().map(|item| item.resource.as_str()).collect();
    assert_eq!(names, ["shop/api", "shop/web"]);
    assert_eq!(list.num_calls(), 2, "both pages");
    assert_eq!(registry.num_calls(), 1, "the registry once per sweep");
    let states: Vec<&RepositoryState> = found.iter().map(|item| item.state.downcast_ref().unwrap()).collect();
    assert_eq!(states[0].policy, None, "no policy is no error");
    assert_eq!(states[1].policy.as_ref().unwrap().public_statements().len(), 1);
    assert_eq!(found[1].facts.as_ref().unwrap().tags.get("team").map(String::as_str), Some("web"));
    let expected = RegistryScanning::Basic {
        rules: vec![ScanningRule { scan_frequency: "SCAN_ON_PUSH".into(), filters: vec!["prod/*".into()] }],
    };
    assert!(states.iter().all(|state| state.registry_scanning == expected), "{states:?}");
}
