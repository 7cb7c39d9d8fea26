//! `snapback scan` as a user runs it, against moto: what was dangerous before snapback ran is
//! reported with the mode its rule would run in, scope and exemptions apply as for events, and
//! nothing is changed unless `--remediate` (then exactly what is in remediate mode is restored).
//! `--to-security-hub` imports into moto's Security Hub, read back with GetFindings.

use serde_json::Value;
use snapback_tests::lambda::function_binary;
use snapback_tests::{fresh_account, moto_url, sdk_config, tcp_from, World, REGION};

/// Credentials of moto's default account, as a user's credentials work in theirs.
fn default_credentials() -> Vec<(&'static str, String)> {
    vec![("AWS_ACCESS_KEY_ID", "testing".to_owned()), ("AWS_SECRET_ACCESS_KEY", "testing".to_owned())]
}

fn scan(args: &[&str]) -> snapback_testkit::cli::Ran {
    scan_as(&default_credentials(), args)
}

/// `snapback scan` with these credentials, its stdin not a terminal.
fn scan_as(credentials: &[(&'static str, String)], args: &[&str]) -> snapback_testkit::cli::Ran {
    let mut env = vec![("AWS_ENDPOINT_URL", moto_url()), ("AWS_REGION", "eu-central-1".to_owned())];
    env.extend(credentials.iter().cloned());
    let mut all = vec!["scan"];
    all.extend(args);
    snapback_testkit::cli::run(&function_binary("snapback"), &all, &env)
}

/// A world in an account of its own, and credentials that moto maps to it (a role assumed there):
/// the binary, which sends no account header, changes nothing of the other tests'. A trail logs
/// it, as snapback's prerequisite.
async fn world_of_its_own() -> (World, Vec<(&'static str, String)>) {
    let world = World::in_account(&fresh_account()).await;
    world.logging_trail("audit").await;
    let credentials = credentials_in(&world.aws.account).await;
    (world, credentials)
}

async fn credentials_in(account: &str) -> Vec<(&'static str, String)> {
    let sts = aws_sdk_sts::Client::new(&sdk_config().await);
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/auditor"))
        .role_session_name("snapback-scan")
        .send()
        .await
        .expect("moto assumes any role");
    let credentials = assumed.credentials().expect("credentials");
    vec![
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id().to_owned()),
        ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key().to_owned()),
        ("AWS_SESSION_TOKEN", credentials.session_token().to_owned()),
    ]
}

#[tokio::test]
async fn scan_reports_what_was_dangerous_before_snapback_with_scope_and_exemptions_applied() {
    // The binary sends no moto account header: it works in moto's default account, like a user's
    // credentials work in theirs. Names are unique, as other tests share that account.
    let world = World::in_default_account().await;
    let cluster = format!("scan-{}", std::process::id());
    world.cluster(&cluster, true, false, &["0.0.0.0/0"], &[], &[]).await;
    let tagged = [("aws:eks:cluster-name", cluster.as_str())];
    let nodes = world.group(&format!("{cluster}-nodes"), &tagged).await;
    world.authorize(&nodes, tcp_from(22, &["0.0.0.0/0"])).await;
    let orphan = world.group(&format!("{cluster}-orphan"), &[]).await;
    world.authorize(&orphan, tcp_from(22, &["0.0.0.0/0"])).await;
    let exempt =
        world.group(&format!("{cluster}-bastion"), &[tagged[0], ("snapback:exempt", "sg-open-remote-admin")]).await;
    world.authorize(&exempt, tcp_from(22, &["0.0.0.0/0"])).await;

    let ran = scan(&["--format", "json", "--region", REGION]);

    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let findings: Vec<Value> = serde_json::from_str(&ran.stdout).expect("a JSON array of findings");
    let about = |resource: &str| -> Vec<(String, String)> {
        findings
            .iter()
            .filter(|f| f["resource"] == resource)
            .map(|f| (f["rule"].as_str().unwrap().to_owned(), f["mode"].as_str().unwrap().to_owned()))
            .collect()
    };
    assert_eq!(about(&nodes), [("sg-open-remote-admin".to_owned(), "remediate".to_owned())]);
    assert_eq!(about(&exempt), [("sg-open-remote-admin".to_owned(), "exempt".to_owned())]);
    assert!(about(&orphan).is_empty(), "a group of no cluster is out of scope: {}", ran.stdout);
    let mut cluster_rules: Vec<String> = about(&cluster).into_iter().map(|(rule, _)| rule).collect();
    cluster_rules.sort();
    assert_eq!(
        cluster_rules,
        [
            "eks-control-plane-logging-disabled",
            "eks-private-endpoint-disabled",
            "eks-public-endpoint",
            "eks-public-endpoint-open-cidr",
            "eks-secrets-encryption-missing"
        ]
    );
    let finding = findings.iter().find(|f| f["resource"] == nodes.as_str()).unwrap();
    for key in ["rule", "resource", "severity", "mode", "cluster", "account", "region"] {
        assert!(!finding[key].is_null(), "{key} in {finding}");
    }
    assert_eq!(finding["account"], snapback_tests::DEFAULT_ACCOUNT);
    assert_eq!(finding["region"], REGION);
    assert_eq!(finding["cluster"], cluster.as_str());
    assert_eq!(world.ingress(&nodes).await.len(), 1, "scan is read-only");

    let table = scan(&["--region", REGION, "--fail-on", "high"]);
    assert_eq!(table.status, 1, "a high finding fails --fail-on high: {}", table.stderr);
    assert!(table.stdout.starts_with("SEVERITY"), "{}", table.stdout);
    assert!(table.stdout.contains(&nodes) && table.stderr.contains("finding(s):"), "{}{}", table.stdout, table.stderr);

    let markdown = scan(&["--region", REGION, "--format", "markdown"]);
    assert_eq!(markdown.status, 0, "{}", markdown.stderr);
    assert!(
        markdown.stdout.starts_with("# snapback scan") && markdown.stdout.contains(&format!("`{nodes}`")),
        "{}",
        markdown.stdout
    );

    let asff = scan(&["--region", REGION, "--format", "asff"]);
    assert_eq!(asff.status, 0, "{}", asff.stderr);
    let records: Vec<Value> = serde_json::from_str(&asff.stdout).expect("an array of ASFF findings");
    let arn = format!("arn:aws:ec2:{REGION}:{}:security-group/{nodes}", snapback_tests::DEFAULT_ACCOUNT);
    let record = records.iter().find(|r| r["Resources"][0]["Id"] == arn.as_str()).expect("the group's finding");
    assert_eq!(record["Resources"][0]["Type"], "AwsEc2SecurityGroup");
    assert_eq!(record["GeneratorId"], "snapback/sg-open-remote-admin");
    assert_eq!(record["AwsAccountId"], snapback_tests::DEFAULT_ACCOUNT);

    let everywhere = scan(&["--all-regions", "--format", "json"]);
    assert_eq!(everywhere.status, 0, "{}", everywhere.stderr);
    let found: Vec<Value> = serde_json::from_str(&everywhere.stdout).unwrap();
    assert!(found.iter().any(|f| f["resource"] == nodes.as_str() && f["region"] == REGION), "{}", everywhere.stdout);
    let scanned_regions =
        everywhere.stderr.lines().filter(|line| line.starts_with("snapback: scanning account")).count();
    assert!(scanned_regions > 1, "every enabled region is scanned: {}", everywhere.stderr);
    assert_eq!(scan(&["--all-regions", "--region", REGION]).status, 2, "--all-regions and --region conflict");

    let html = scan(&["--region", REGION, "--format", "html"]);
    assert_eq!(html.status, 0, "{}", html.stderr);
    assert!(html.stdout.starts_with("<!DOCTYPE html>") && html.stdout.contains("<svg"), "{}", html.stdout);
    assert!(html.stdout.contains(&nodes) && html.stdout.contains(snapback_tests::DEFAULT_ACCOUNT));
    assert!(
        !html.stderr.contains('\u{1b}') && !html.stderr.contains("resources judged"),
        "no progress bar when stderr is not a terminal: {:?}",
        html.stderr
    );

    let misread = scan(&["--region", REGION, "--output", "json"]);
    assert_eq!(misread.status, 2, "a format given to --output is refused, not written to ./json");
    assert!(misread.stderr.contains("--format json"), "{}", misread.stderr);
}

#[tokio::test]
async fn scan_remediate_restores_what_is_in_remediate_mode_after_refusing_to_ask_without_a_terminal() {
    let (world, me) = world_of_its_own().await;
    let account = &world.aws.account;
    let cluster = format!("remediate-{}", std::process::id());
    let every_log = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
    world.cluster(&cluster, true, false, &["0.0.0.0/0"], &every_log, &[]).await;
    let tagged = [("aws:eks:cluster-name", cluster.as_str())];
    let nodes = world.group(&format!("{cluster}-nodes"), &tagged).await;
    world.authorize(&nodes, tcp_from(22, &["0.0.0.0/0"])).await;
    let api = world.group(&format!("{cluster}-api"), &tagged).await;
    world.authorize(&api, tcp_from(443, &["0.0.0.0/0"])).await;
    // Encryption cannot be restored and moto cannot set it: off, so that a clean scan is empty.
    let config = std::env::temp_dir().join(format!("snapback-scan-remediate-{account}.json"));
    std::fs::write(&config, r#"{"rules": {"eks-secrets-encryption-missing": {"mode": "off"}}}"#).unwrap();
    let config = config.to_str().unwrap();

    let refused = scan_as(&me, &["--region", REGION, "--config", config, "--remediate"]);

    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("stdin is not a terminal") && refused.stderr.contains("--yes"),
        "{}",
        refused.stderr
    );
    assert_eq!(world.ingress(&nodes).await.len(), 1, "nothing changed before asking");
    assert!(world.cluster_state(&cluster).await.0, "the endpoint is still public");

    let ran = scan_as(&me, &["--region", REGION, "--config", config, "--format", "json", "--remediate", "--yes"]);

    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let findings: Vec<Value> = serde_json::from_str(&ran.stdout).expect("the report first, as JSON");
    assert!(findings.iter().any(|f| f["resource"] == nodes.as_str() && f["mode"] == "remediate"), "{}", ran.stdout);
    assert!(findings.iter().any(|f| f["resource"] == api.as_str() && f["mode"] == "notify"), "{}", ran.stdout);
    let stderr = &ran.stderr;
    assert!(stderr.contains("snapback would restore 2 resource(s):"), "{stderr}");
    let restored: Vec<&str> = stderr.lines().filter(|line| line.starts_with("snapback: restored: ")).collect();
    assert_eq!(restored.len(), 2, "one revoke, one merged endpoint update: {stderr}");
    assert!(restored.iter().any(|line| line.contains(&format!("on {nodes}"))), "{stderr}");
    assert!(
        restored
            .iter()
            .any(|line| line.ends_with(&format!("set private endpoint on, public endpoint off for cluster {cluster}"))),
        "{stderr}"
    );
    assert!(world.ingress(&nodes).await.is_empty(), "the world-open SSH rule is revoked");
    assert_eq!(world.ingress(&api).await.len(), 1, "a notify-mode finding is left alone");
    let (public, private, _, _) = world.cluster_state(&cluster).await;
    assert!(!public && private, "the endpoint is private only");

    let again = scan_as(&me, &["--region", REGION, "--config", config, "--format", "json", "--remediate", "--yes"]);

    assert_eq!(again.status, 0, "{}", again.stderr);
    let left: Vec<Value> = serde_json::from_str(&again.stdout).unwrap();
    let left: Vec<(&str, &str)> =
        left.iter().map(|f| (f["rule"].as_str().unwrap(), f["mode"].as_str().unwrap())).collect();
    assert_eq!(left, [("sg-open-k8s-api", "notify")], "only what notify mode leaves");
    assert!(again.stderr.contains("snapback: nothing to restore"), "{}", again.stderr);
    let _ = std::fs::remove_file(config);
}

#[tokio::test]
async fn scan_to_security_hub_imports_the_asff_findings_as_printed() {
    let (world, me) = world_of_its_own().await;
    let account = world.aws.account.clone();
    let nodes = world.group("hub-nodes", &[("aws:eks:cluster-name", "hub")]).await;
    world.authorize(&nodes, tcp_from(22, &["0.0.0.0/0"])).await;

    let ran = scan_as(&me, &["--region", REGION, "--format", "asff", "--to-security-hub"]);

    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!("snapback: Security Hub in {REGION}: 1 imported, 0 failed")),
        "{}",
        ran.stderr
    );
    let printed: Vec<Value> = serde_json::from_str(&ran.stdout).unwrap();
    let hub = aws_sdk_securityhub::Client::from_conf(
        aws_sdk_securityhub::config::Builder::from(&sdk_config().await)
            .credentials_provider(aws_sdk_securityhub::config::Credentials::new(
                &me[0].1,
                &me[1].1,
                Some(me[2].1.clone()),
                None,
                "assumed",
            ))
            .build(),
    );
    let stored = hub.get_findings().send().await.expect("GetFindings");
    let stored = stored.findings();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (stored, printed) = (&stored[0], &printed[0]);
    assert_eq!(stored.id(), printed["Id"].as_str());
    assert_eq!(stored.aws_account_id(), Some(account.as_str()));
    assert_eq!(stored.generator_id(), Some("snapback/sg-open-remote-admin"));
    assert_eq!(stored.title(), printed["Title"].as_str());
    assert_eq!(stored.severity().and_then(|s| s.label()).map(|l| l.as_str()), printed["Severity"]["Label"].as_str());
    assert_eq!(stored.resources()[0].id(), printed["Resources"][0]["Id"].as_str());
    assert_eq!(stored.resources()[0].r#type(), Some("AwsEc2SecurityGroup"));
    assert_eq!(stored.product_fields().unwrap()["snapback/mode"], "remediate");
}

#[tokio::test]
async fn scan_accounts_reads_each_account_through_the_role_and_names_one_it_cannot_reach() {
    let (first, second) = (World::new().await, World::new().await);
    let mut planted = Vec::new();
    for world in [&first, &second] {
        let group = world.group("prod-nodes", &[("aws:eks:cluster-name", "prod")]).await;
        world.authorize(&group, tcp_from(22, &["0.0.0.0/0"])).await;
        planted.push((world.aws.account.clone(), group));
    }
    let accounts = format!("{},{}", first.aws.account, second.aws.account);
    let (_, own_credentials) = world_of_its_own().await;

    let ran = scan_as(
        &own_credentials,
        &["--accounts", &accounts, "--region", REGION, "--region", "eu-west-1", "--format", "json"],
    );

    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let findings: Vec<Value> = serde_json::from_str(&ran.stdout).expect("a JSON array of findings");
    for (account, group) in &planted {
        let found = findings
            .iter()
            .find(|f| f["resource"] == group.as_str())
            .unwrap_or_else(|| panic!("{group}: {}", ran.stdout));
        assert_eq!(found["account"], account.as_str(), "each finding names the account it is in");
        assert_eq!(found["region"], REGION);
    }
    let accounts_seen: std::collections::BTreeSet<&str> =
        findings.iter().filter_map(|f| f["account"].as_str()).collect();
    assert_eq!(accounts_seen.len(), 2, "both accounts and nothing else: {accounts_seen:?}");

    // A refused role: the account is named with the role and the fix, the scan is incomplete.
    let refused = snapback_tests::fault_proxy::Fault::sts_access_denied();
    let sts = snapback_tests::fault_proxy::FaultProxy::start(&moto_url(), refused);
    let mut credentials = own_credentials.clone();
    credentials.push(("AWS_ENDPOINT_URL_STS", sts.url.clone()));
    let ran = scan_as(&credentials, &["--accounts", &first.aws.account, "--role-name", "auditor", "--region", REGION]);
    assert_ne!(ran.status, 0);
    assert!(
        ran.stderr.contains(&format!("account {} in {REGION}: cannot assume role auditor", first.aws.account)),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("--role-name"), "{}", ran.stderr);
}

#[tokio::test]
async fn scan_org_lists_the_organizations_accounts_and_reads_each_but_its_own_through_the_role() {
    // The management account: the scan's own credentials are there.
    let (management, credentials) = world_of_its_own().await;
    let sdk = sdk_config().await;
    let organizations = aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::from(&sdk)
            .interceptor(snapback_tests::MotoAccount(management.aws.account.clone()))
            .build(),
    );
    organizations.create_organization().send().await.unwrap();
    let created = organizations.create_account().account_name("workloads").email("workloads@example.com").send().await;
    let member = created.unwrap().create_account_status.unwrap().account_id.expect("moto creates the account at once");
    let member_world = World::in_account(&member).await;
    let group = member_world.group("prod-nodes", &[("aws:eks:cluster-name", "prod")]).await;
    member_world.authorize(&group, tcp_from(22, &["0.0.0.0/0"])).await;
    let own_group = management.group("prod-nodes", &[("aws:eks:cluster-name", "prod")]).await;
    management.authorize(&own_group, tcp_from(22, &["0.0.0.0/0"])).await;

    let ran = scan_as(&credentials, &["--org", "--region", REGION, "--format", "json"]);

    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let findings: Vec<Value> = serde_json::from_str(&ran.stdout).expect("a JSON array of findings");
    for (account, group) in [(&member, &group), (&management.aws.account, &own_group)] {
        let found = findings
            .iter()
            .find(|f| f["resource"] == group.as_str())
            .unwrap_or_else(|| panic!("{group}: {}", ran.stdout));
        assert_eq!(found["account"], account.as_str());
    }
}

#[tokio::test]
async fn scan_accounts_judges_each_account_with_its_own_overrides() {
    let (strict, relaxed) = (World::new().await, World::new().await);
    let mut groups = Vec::new();
    for world in [&strict, &relaxed] {
        let group = world.group("prod-nodes", &[("aws:eks:cluster-name", "prod")]).await;
        world.authorize(&group, tcp_from(22, &["0.0.0.0/0"])).await;
        groups.push(group);
    }
    let config = std::env::temp_dir().join(format!("snapback-scan-accounts-{}.json", relaxed.aws.account));
    let document = format!(
        r#"{{"accounts": {{"{}": {{"rules": {{"sg-open-remote-admin": {{"mode": "notify"}}}}}}}}}}"#,
        relaxed.aws.account
    );
    std::fs::write(&config, document).unwrap();
    let (_, credentials) = world_of_its_own().await;
    let accounts = format!("{},{}", strict.aws.account, relaxed.aws.account);

    let ran = scan_as(
        &credentials,
        &["--accounts", &accounts, "--region", REGION, "--config", config.to_str().unwrap(), "--format", "json"],
    );

    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let findings: Vec<Value> = serde_json::from_str(&ran.stdout).expect("a JSON array of findings");
    let mode = |group: &str| {
        let found = findings.iter().find(|f| f["resource"] == group && f["rule"] == "sg-open-remote-admin");
        found.unwrap_or_else(|| panic!("{group}: {}", ran.stdout))["mode"].as_str().unwrap().to_owned()
    };
    assert_eq!(mode(&groups[0]), "remediate");
    assert_eq!(mode(&groups[1]), "notify", "the relaxed account's override holds in it");
}
