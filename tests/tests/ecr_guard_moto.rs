//! The ECR guard against moto's ECR, SNS, SQS, SSM and DynamoDB: records in the shapes of
//! SHAPES.md §6.5 driven through ecr-guard as deployed, the repository read back afterwards.
//! moto serves every call the adapter makes (DescribeRepositories, Get/Set/DeleteRepositoryPolicy,
//! ListTagsForResource, PutImageScanningConfiguration, PutImageTagMutability and
//! Get/PutRegistryScanningConfiguration); it does not page DescribeRepositories.

use serde_json::{json, Value};
use snapback_aws::{ActionResult, SweepContext};
use snapback_rules::services::ecr::{EcrAction, TagMutability};
use snapback_rules::{Action, Config, Scope};
use snapback_tests::{deadline_in, ecr_record, envelope, World, REGION};

const SCAN_OFF_RESTORED: &str = "turn scan on push on for repository shop/web";

/// (rule, outcome) of every decision, in the report's order.
fn outcomes(report: &snapback_pipeline::Report) -> Vec<(String, String)> {
    report.decisions.iter().map(|d| (d.rule.clone(), d.outcome.as_str().to_owned())).collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(rule, outcome)| ((*rule).to_owned(), (*outcome).to_owned())).collect()
}

/// The record of turning scan on push off on `repository`.
fn scan_turned_off(account: &str, repository: &str) -> Value {
    ecr_record(
        account,
        "PutImageScanningConfiguration",
        json!({"repositoryName": repository, "imageScanningConfiguration": {"scanOnPush": false}}),
        json!({"registryId": account, "repositoryName": repository, "imageScanningConfiguration": {"scanOnPush": false}}),
    )
}

/// A repository `name` with immutable tags whose scan on push someone turned off, and the
/// record of that call. The repository is created with scan on push off: the Rust SDK leaves
/// `scanOnPush: false` (the default) out of PutImageScanningConfiguration, which AWS reads as off
/// and moto as "no change".
async fn scan_switched_off(world: &World, name: &str, tags: &[(&str, &str)]) -> Value {
    world.repository(name, false, "IMMUTABLE", tags).await;
    envelope(&scan_turned_off(&world.aws.account, name))
}

fn pull(sid: &str, principal: Value) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": principal,
           "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]})
}

fn policy(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// A public statement and a partner's, set on `repository`, and the record of that call.
async fn made_public(world: &World, repository: &str) -> Value {
    let text =
        policy(json!([pull("public", json!("*")), pull("partner", json!({"AWS": "arn:aws:iam::444455556666:root"}))]));
    world.set_repository_policy(repository, &text).await;
    let account = &world.aws.account;
    envelope(&ecr_record(
        account,
        "SetRepositoryPolicy",
        json!({"repositoryName": repository, "policyText": text, "force": false}),
        json!({"registryId": account, "repositoryName": repository, "policyText": text}),
    ))
}

/// GIVEN a repository created with every default (no scan on push, mutable tags, AES256), WHEN
/// ecr-guard handles its CreateRepository record, THEN scan on push is turned on (remediate by
/// default), the mutable tags are only reported (notify), the KMS rule stays off, and one alert
/// names both.
#[tokio::test]
async fn a_repository_created_with_the_defaults_is_scanned_on_push_and_its_mutable_tags_are_reported() {
    let world = World::new().await;
    let created = world.repository("shop/web", false, "MUTABLE", &[]).await;
    let event = ecr_record(
        &world.aws.account,
        "CreateRepository",
        json!({"repositoryName": "shop/web"}),
        json!({"repository": created}),
    );

    let report =
        world.function_guard("ecr-guard", &world.aws, &[]).handle(&envelope(&event), deadline_in(30)).await.unwrap();

    assert_eq!(
        outcomes(&report),
        pairs(&[("ecr-scan-on-push-disabled", "remediated"), ("ecr-tags-mutable", "would-remediate")])
    );
    let state = world.repository_state("shop/web").await;
    assert!(state.scan_on_push, "scan on push is on again");
    assert_eq!(state.tag_mutability, TagMutability::Mutable, "notify leaves the tags alone");
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "one repository, one alert: {alerts:?}");
    let alert = &alerts[0].message;
    assert_eq!(alert["resource"], "shop/web");
    let mut rules: Vec<(&str, &str, Value)> = alert["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| (rule["rule"].as_str().unwrap(), rule["outcome"].as_str().unwrap(), rule["restored"].clone()))
        .collect();
    rules.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(
        rules,
        [
            ("ecr-scan-on-push-disabled", "remediated", json!([SCAN_OFF_RESTORED])),
            ("ecr-tags-mutable", "would-remediate", json!(["make the tags of repository shop/web immutable"])),
        ]
    );
}

/// GIVEN scan on push turned off, WHEN the record is handled, THEN it is on again and the alert
/// says what was restored; AND the same record delivered again finds the repository safe (the
/// look-up's description no longer bears the finding out): no second restore, no second alert.
#[tokio::test]
async fn scan_on_push_turned_off_is_turned_back_on_once_however_often_the_event_arrives() {
    let world = World::new().await;
    let event = scan_switched_off(&world, "shop/web", &[]).await;
    let guard = world.function_guard("ecr-guard", &world.aws, &[]);

    let first = guard.handle(&event, deadline_in(30)).await.unwrap();
    let again = guard.handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&first), pairs(&[("ecr-scan-on-push-disabled", "remediated")]));
    assert!(again.decisions.is_empty(), "{again:?}");
    assert!(world.repository_state("shop/web").await.scan_on_push);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].message["outcome"], "remediated");
    assert_eq!(alerts[0].message["restored"], json!([SCAN_OFF_RESTORED]));
}

/// GIVEN two deliveries of one event at the same moment and the ledger, WHEN both are handled
/// concurrently, THEN exactly one restores and alerts; the other is a recognised duplicate.
#[tokio::test]
async fn two_concurrent_deliveries_restore_once_and_alert_once() {
    let world = World::new().await;
    let event = scan_switched_off(&world, "shop/web", &[]).await;
    let table = world.ledger_table().await;
    let (one, two) =
        (world.function_guard_with_ledger("ecr-guard", &table), world.function_guard_with_ledger("ecr-guard", &table));

    let (a, b) = tokio::join!(one.handle(&event, deadline_in(30)), two.handle(&event, deadline_in(30)));

    let reports = [a.unwrap(), b.unwrap()];
    let duplicates = reports.iter().filter(|r| r.ignored.as_deref().is_some_and(|why| why.contains("duplicate")));
    assert_eq!(duplicates.count(), 1, "{reports:?}");
    assert!(world.repository_state("shop/web").await.scan_on_push);
    assert_eq!(world.alerts().await.len(), 1);
}

/// GIVEN a public statement added to a repository's policy, WHEN the record is handled with the
/// default mode (notify), THEN the policy is untouched and the alert names the statement.
#[tokio::test]
async fn a_public_repository_policy_is_reported_and_left_alone() {
    let world = World::new().await;
    world.repository("shop/web", true, "IMMUTABLE", &[]).await;
    let event = made_public(&world, "shop/web").await;

    let report = world.function_guard("ecr-guard", &world.aws, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&report), pairs(&[("ecr-repository-public", "would-remediate")]));
    let policy = world.repository_state("shop/web").await.policy.expect("the policy is still there");
    assert_eq!(policy.public_statements().len(), 1);
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].message["outcome"], "would-remediate");
    let changed = alerts[0].message.to_string();
    assert!(changed.contains("policy lets anyone (principal *, no condition) in: statement public"), "{changed}");
}

/// GIVEN ecr-repository-public set to remediate, WHEN a public statement beside a partner's is
/// handled, THEN only the public statement goes; AND a policy of public statements only is deleted.
#[tokio::test]
async fn in_remediate_mode_exactly_the_public_statements_are_removed() {
    let world = World::new().await;
    world.put_config(r#"{"rules": {"ecr-repository-public": {"mode": "remediate"}}}"#).await;
    world.repository("shop/web", true, "IMMUTABLE", &[]).await;
    world.repository("shop/api", true, "IMMUTABLE", &[]).await;
    let mixed = made_public(&world, "shop/web").await;
    let only_public = policy(json!([pull("anyone", json!({"AWS": "*"}))]));
    world.set_repository_policy("shop/api", &only_public).await;
    let account = world.aws.account.clone();
    let public_only = envelope(&ecr_record(
        &account,
        "SetRepositoryPolicy",
        json!({"repositoryName": "shop/api", "policyText": only_public}),
        json!({"registryId": account, "repositoryName": "shop/api", "policyText": only_public}),
    ));
    let guard = world.function_guard("ecr-guard", &world.aws, &[]);

    let first = guard.handle(&mixed, deadline_in(30)).await.unwrap();
    let second = guard.handle(&public_only, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&first), pairs(&[("ecr-repository-public", "remediated")]));
    assert_eq!(outcomes(&second), pairs(&[("ecr-repository-public", "remediated")]));
    let kept = world.repository_state("shop/web").await.policy.expect("the partner's statement stays");
    assert_eq!(kept.document["Statement"], json!([pull("partner", json!({"AWS": "arn:aws:iam::444455556666:root"}))]));
    assert_eq!(world.repository_state("shop/api").await.policy, None, "nothing else was left: deleted");
}

/// GIVEN a repository tagged exempt, WHEN scan on push is turned off, THEN it stays off and the
/// alert says exempt.
#[tokio::test]
async fn an_exempt_repository_keeps_its_setting() {
    let world = World::new().await;
    let event = scan_switched_off(&world, "shop/web", &[("snapback:exempt", "ecr-scan-on-push-disabled")]).await;

    let report = world.function_guard("ecr-guard", &world.aws, &[]).handle(&event, deadline_in(30)).await.unwrap();

    assert_eq!(outcomes(&report), pairs(&[("ecr-scan-on-push-disabled", "exempt")]));
    assert!(!world.repository_state("shop/web").await.scan_on_push);
    assert_eq!(world.alerts().await[0].message["outcome"], "exempt");
}

/// GIVEN a registry that scans every image (ENHANCED), or a BASIC scan-on-push rule whose filter
/// covers the repository, WHEN a repository's own scan on push is turned off, THEN there is no
/// finding: the look-up's description, registry included, does not bear it out.
#[tokio::test]
async fn a_registry_that_scans_the_repository_anyway_leaves_no_finding() {
    use aws_sdk_ecr::types::ScanningRepositoryFilterType;
    use aws_sdk_ecr::types::{RegistryScanningRule, ScanFrequency, ScanType, ScanningRepositoryFilter};
    let enhanced = World::new().await;
    let enhanced_event = scan_switched_off(&enhanced, "shop/web", &[]).await;
    // moto fails without a rules list.
    let enhanced_registry = enhanced.aws.ecr.put_registry_scanning_configuration().scan_type(ScanType::Enhanced);
    enhanced_registry.set_rules(Some(Vec::new())).send().await.unwrap();
    let basic = World::new().await;
    let basic_event = scan_switched_off(&basic, "shop/web", &[]).await;
    let filter = ScanningRepositoryFilter::builder()
        .filter("shop/*")
        .filter_type(ScanningRepositoryFilterType::Wildcard)
        .build();
    let rule = RegistryScanningRule::builder()
        .scan_frequency(ScanFrequency::ScanOnPush)
        .repository_filters(filter.unwrap())
        .build()
        .unwrap();
    basic.aws.ecr.put_registry_scanning_configuration().scan_type(ScanType::Basic).rules(rule).send().await.unwrap();

    for (world, event) in [(&enhanced, enhanced_event), (&basic, basic_event)] {
        let report = world.function_guard("ecr-guard", &world.aws, &[]).handle(&event, deadline_in(30)).await.unwrap();

        assert!(report.decisions.is_empty(), "{report:?}");
        assert!(!world.repository_state("shop/web").await.scan_on_push, "left as it was");
        assert!(world.alerts().await.is_empty());
    }
}

/// GIVEN `ecr_repository_prefixes: ["prod/"]`, WHEN scan on push is turned off on shop/web and on
/// prod/api, THEN only prod/api is judged and restored.
#[tokio::test]
async fn ecr_repository_prefixes_narrow_the_repositories_judged() {
    let world = World::new().await;
    world.put_config(r#"{"ecr_repository_prefixes": ["prod/"]}"#).await;
    let outside = scan_switched_off(&world, "shop/web", &[]).await;
    let inside = scan_switched_off(&world, "prod/api", &[]).await;
    let guard = world.function_guard("ecr-guard", &world.aws, &[]);

    let skipped = guard.handle(&outside, deadline_in(30)).await.unwrap();
    let judged = guard.handle(&inside, deadline_in(30)).await.unwrap();

    assert!(skipped.decisions.is_empty(), "{skipped:?}");
    assert_eq!(outcomes(&judged), pairs(&[("ecr-scan-on-push-disabled", "remediated")]));
    assert!(!world.repository_state("shop/web").await.scan_on_push);
    assert!(world.repository_state("prod/api").await.scan_on_push);
}

/// GIVEN a repository already safe, WHEN each restore runs on it (without a description, as a
/// retry would), THEN each answers already safe and changes nothing; AND a restore run twice
/// restores once.
#[tokio::test]
async fn every_restore_is_idempotent() {
    let world = World::new().await;
    world.repository("shop/web", true, "IMMUTABLE", &[]).await;
    world.repository("shop/api", false, "MUTABLE", &[]).await;
    let adapter = world.aws.adapter("ecr", &[]);
    let repository = || "shop/web".to_owned();
    let safe = [
        EcrAction::EnableScanOnPush { repository: repository() },
        EcrAction::MakeTagsImmutable { repository: repository() },
        EcrAction::SetRepositoryPolicy { repository: repository(), policy_text: policy(json!([])) },
        EcrAction::DeleteRepositoryPolicy { repository: repository() },
    ];

    for action in safe {
        let result = adapter.run(&Action::from(action.clone()), None, deadline_in(30)).await.unwrap();
        assert_eq!(result, ActionResult::AlreadySafe, "{action:?}");
    }
    let immutable = Action::from(EcrAction::MakeTagsImmutable { repository: "shop/api".into() });
    let once = adapter.run(&immutable, None, deadline_in(30)).await.unwrap();
    let twice = adapter.run(&immutable, None, deadline_in(30)).await.unwrap();
    assert_eq!((once, twice), (ActionResult::Restored, ActionResult::AlreadySafe));
    assert_eq!(world.repository_state("shop/api").await.tag_mutability, TagMutability::Immutable);
    let gone = Action::from(EcrAction::EnableScanOnPush { repository: "shop/gone".into() });
    assert!(matches!(adapter.run(&gone, None, deadline_in(30)).await.unwrap(), ActionResult::NotApplicable(_)));
    assert!(world.repository_state("shop/web").await.policy.is_none(), "nothing was set");
}

/// GIVEN repositories made before snapback ran — one not scanned on push, one with a public
/// policy, one safe — WHEN the account is swept, THEN the first two are found with the restores a
/// change would have got, and the safe one has no finding; AND the sweeper restores scan on push.
#[tokio::test]
async fn a_sweep_finds_a_repository_not_scanned_on_push_and_a_public_one() {
    let world = World::new().await;
    world.put_config("{}").await;
    world.repository("shop/unscanned", false, "IMMUTABLE", &[]).await;
    world.repository("shop/public", true, "IMMUTABLE", &[("team", "web")]).await;
    world.set_repository_policy("shop/public", &policy(json!([pull("public", json!("*"))]))).await;
    world.repository("shop/safe", true, "IMMUTABLE", &[]).await;

    let found = world.aws.adapter("ecr", &[]).sweep(&SweepContext::new(Scope::Eks)).await.unwrap();

    let names: Vec<&str> = found.iter().map(|item| item.resource.as_str()).collect();
    assert_eq!(names, ["shop/public", "shop/safe", "shop/unscanned"], "every repository, sorted");
    let public = found.iter().find(|item| item.resource == "shop/public").unwrap();
    assert_eq!(public.facts.as_ref().unwrap().tags.get("team").map(String::as_str), Some("web"));
    let mut judged: Vec<String> = found
        .iter()
        .flat_map(|item| snapback_rules::services::judge_state(item.state.as_ref(), &Config::default()))
        .map(|finding| {
            let plan: Vec<String> = finding.plan.actions.iter().map(|action| action.describe()).collect();
            format!("{} {}: {}", finding.rule.id, finding.resource, plan.join("; "))
        })
        .collect();
    judged.sort();
    assert_eq!(
        judged,
        [
            "ecr-repository-public shop/public: delete the policy of repository shop/public (only public statements)",
            "ecr-scan-on-push-disabled shop/unscanned: turn scan on push on for repository shop/unscanned",
        ]
    );

    let table = world.ledger_table().await;
    let report = world
        .function_guard_with_ledger("sweeper", &table)
        .sweep(Some(&world.aws.account), Some(REGION), deadline_in(60))
        .await
        .expect("the sweep succeeds");

    assert!(report.complete && report.errors.is_empty(), "{report:?}");
    assert!(world.repository_state("shop/unscanned").await.scan_on_push, "the sweeper restored it");
    assert!(world.repository_state("shop/public").await.policy.is_some(), "notify: left alone");
}
