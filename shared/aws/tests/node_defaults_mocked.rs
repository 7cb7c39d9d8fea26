//! The account's instance metadata defaults, with aws-smithy-mocks: moto implements neither
//! GetInstanceMetadataDefaults nor ModifyInstanceMetadataDefaults (it answers a 500 HTML page),
//! so the `imds-defaults-weakened` restore and the sweep's reading of the defaults are tested
//! here; every other node restore is tested against moto in `tests/tests/node_guard_moto.rs`.

use std::time::{Duration, Instant};

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ec2::operation::get_instance_metadata_defaults::GetInstanceMetadataDefaultsOutput;
use aws_sdk_ec2::operation::modify_instance_metadata_defaults::ModifyInstanceMetadataDefaultsOutput;
use aws_sdk_ec2::types::{HttpTokensState, InstanceMetadataDefaultsResponse, MetadataDefaultHttpTokensState};
use aws_sdk_ec2::Client;
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use snapback_aws::{ActionResult, Ec2Nodes, ServiceAdapter};
use snapback_rules::services::node::{HttpTokens, NodeAction};
use snapback_rules::Action;

/// An EC2 client answered by `rules` (the EKS client is never called here).
fn nodes(rules: &[&Rule]) -> Ec2Nodes {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let ec2 = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "mock"))
        .http_client(create_mock_http_client())
        .interceptor(interceptor)
        .build();
    let eks = aws_sdk_eks::Config::builder()
        .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
        .region(aws_sdk_eks::config::Region::new("us-east-1"))
        .build();
    Ec2Nodes::new(Client::from_conf(ec2), aws_sdk_eks::Client::from_conf(eks))
}

fn defaults(tokens: Option<HttpTokensState>) -> Rule {
    mock!(Client::get_instance_metadata_defaults).then_output(move || {
        GetInstanceMetadataDefaultsOutput::builder()
            .account_level(InstanceMetadataDefaultsResponse::builder().set_http_tokens(tokens.clone()).build())
            .build()
    })
}

fn modify() -> Rule {
    mock!(Client::modify_instance_metadata_defaults)
        .match_requests(|req| req.http_tokens() == Some(&MetadataDefaultHttpTokensState::Required))
        .then_output(|| ModifyInstanceMetadataDefaultsOutput::builder().r#return(true).build())
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

/// GIVEN account defaults that leave tokens to the AMI, WHEN the restore runs, THEN one
/// ModifyInstanceMetadataDefaults requires them; AND GIVEN defaults that require them, THEN it is
/// already safe and nothing is modified.
#[tokio::test]
async fn weakened_defaults_are_set_to_require_tokens_and_required_ones_are_left_alone() {
    let action = Action::from(NodeAction::RequireDefaultTokens);
    for (tokens, expected, modified) in [
        (None, ActionResult::Restored, 1),
        (Some(HttpTokensState::Optional), ActionResult::Restored, 1),
        (Some(HttpTokensState::Required), ActionResult::AlreadySafe, 0),
    ] {
        let (read, write) = (defaults(tokens.clone()), modify());
        let result = nodes(&[&read, &write]).run(&action, None, deadline()).await.expect("the restore succeeds");
        assert_eq!(result, expected, "{tokens:?}");
        assert_eq!(write.num_calls(), modified, "{tokens:?}");
    }
}

#[tokio::test]
async fn the_sweep_reads_the_defaults_and_an_endpoint_without_them_is_no_error() {
    let read = defaults(Some(HttpTokensState::Optional));
    let found = nodes(&[&read]).metadata_defaults().await.unwrap().expect("served");
    assert_eq!(found.http_tokens, Some(HttpTokens::Optional));

    // moto's answer to an EC2 action it lacks: a 500 HTML page, answered at once, not retried.
    let unserved = mock!(Client::get_instance_metadata_defaults).then_http_response(|| {
        HttpResponse::new(
            StatusCode::try_from(500).unwrap(),
            SdkBody::from("<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"),
        )
    });
    assert_eq!(nodes(&[&unserved]).metadata_defaults().await.unwrap(), None);
    assert_eq!(unserved.num_calls(), 1);

    let action = Action::from(NodeAction::RequireDefaultTokens);
    let refused = nodes(&[&unserved]).run(&action, None, deadline()).await;
    assert!(refused.is_err_and(|error| !error.is_retryable()), "an endpoint without the call fails for good");
}
