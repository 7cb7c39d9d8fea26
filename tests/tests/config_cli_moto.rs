//! `snapback config` against moto's SSM: a mode set by the CLI is what the pipeline loads next;
//! an invalid request is refused by name and leaves the parameter as it was.

use snapback_tests::lambda::function_binary;
use snapback_tests::{
    authorize_record, deadline_in, moto_url, tcp_from, World, CONFIG_PARAMETER, DEFAULT_ACCOUNT, REGION,
};

fn snapback(args: &[&str]) -> (i32, String, String) {
    let env = [
        ("AWS_ENDPOINT_URL", moto_url()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
    ];
    let ran = snapback_testkit::cli::run(&function_binary("snapback"), args, &env);
    (ran.status, ran.stdout, ran.stderr)
}

async fn stored(world: &World, parameter: &str) -> String {
    world.aws.ssm.get_parameter().name(parameter).send().await.unwrap().parameter.unwrap().value.unwrap()
}

#[tokio::test]
async fn set_mode_writes_a_document_the_pipeline_loads_and_bad_requests_change_nothing() {
    // The CLI works in moto's default account, like the deployed functions.
    let world = World::in_default_account().await;
    let parameter = format!("{CONFIG_PARAMETER}-{}", std::process::id());
    world
        .aws
        .ssm
        .put_parameter()
        .name(&parameter)
        .value(r#"{"scope": "all"}"#)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap();

    let (status, stdout, stderr) =
        snapback(&["config", "set-mode", "sg-open-remote-admin", "notify", "--parameter", &parameter]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("sg-open-remote-admin is now notify"), "{stdout}");
    let document = stored(&world, &parameter).await;
    assert!(document.contains("\"scope\": \"all\""), "the rest is kept: {document}");

    let (status, stdout, _) = snapback(&["config", "show", "--parameter", &parameter]);
    assert_eq!(status, 0);
    let effective: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(effective["rules"]["sg-open-remote-admin"]["mode"], "notify");
    assert_eq!(effective["rules"]["sg-open-kubelet"]["mode"], "remediate");

    // The pipeline, reading the very parameter the CLI wrote, now only notifies.
    let group = world.group(&format!("config-cli-{}", std::process::id()), &[]).await;
    let opened = tcp_from(22, &["0.0.0.0/0"]);
    let created = world.authorize(&group, opened.clone()).await;
    let event = authorize_record(DEFAULT_ACCOUNT, &group, &opened, &created);
    let guard = world.function_guard_reading("sg-guard", &world.aws, &parameter, &[]);
    let report = guard.handle(&event, deadline_in(30)).await.unwrap();
    assert_eq!(report.decisions[0].outcome, "would-remediate", "{report:?}");

    for (args, names) in [
        (vec!["config", "set-mode", "sg-open-remote-admin", "loud"], "invalid mode \"loud\""),
        (vec!["config", "set-mode", "sg-open-ssh", "off"], "unknown rule \"sg-open-ssh\""),
    ] {
        let mut args = args;
        args.extend(["--parameter", parameter.as_str()]);
        let (status, _, stderr) = snapback(&args);
        assert_eq!(status, 2, "{stderr}");
        assert!(stderr.contains(names), "{stderr}");
        assert_eq!(stored(&world, &parameter).await, document, "the parameter is unchanged");
    }
}

#[tokio::test]
async fn show_with_an_account_prints_the_configuration_that_holds_there() {
    let world = World::in_default_account().await;
    let parameter = format!("{CONFIG_PARAMETER}-accounts-{}", std::process::id());
    let document = r#"{"rules": {"sg-open-kubelet": {"mode": "notify"}},
        "organizational_units": {"ou-ab12-sandbox1": {"rules": {"sg-open-kubelet": {"mode": "off"}}}},
        "accounts": {"444455556666": {"scope": "all"}}}"#;
    let put = world.aws.ssm.put_parameter().name(&parameter).value(document);
    put.r#type(aws_sdk_ssm::types::ParameterType::String).overwrite(true).send().await.unwrap();

    let (status, stdout, stderr) = snapback(&[
        "config",
        "show",
        "--account",
        "444455556666",
        "--organizational-unit",
        "ou-ab12-sandbox1",
        "--parameter",
        &parameter,
    ]);
    assert_eq!(status, 0, "{stderr}");
    let effective: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(effective["account"], "444455556666");
    assert_eq!(effective["scope"], "all");
    assert_eq!(effective["rules"]["sg-open-kubelet"]["mode"], "off");
    assert!(effective.get("accounts").is_none(), "the effective view shows no overrides: {stdout}");

    let (status, stdout, _) = snapback(&["config", "show", "--account", "777788889999", "--parameter", &parameter]);
    assert_eq!(status, 0);
    let elsewhere: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(elsewhere["scope"], "eks");
    assert_eq!(elsewhere["rules"]["sg-open-kubelet"]["mode"], "notify");

    let (status, _, stderr) = snapback(&["config", "show", "--account", "12345", "--parameter", &parameter]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("--account: expected a 12-digit account id"), "{stderr}");
}
