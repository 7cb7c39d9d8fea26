//! `snapback scan` as a user runs it, against moto with the default account's credentials: what
//! was dangerous before snapback ran is reported with the mode its rule would run in, scope and
//! exemptions apply as for events, and nothing is changed.

use serde_json::Value;
use snapback_tests::lambda::function_binary;
use snapback_tests::{moto_url, tcp_from, World, REGION};

fn scan(args: &[&str]) -> snapback_testkit::cli::Ran {
    let env = [
        ("AWS_ENDPOINT_URL", moto_url()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "eu-central-1".to_owned()),
    ];
    let mut all = vec!["scan"];
    all.extend(args);
    snapback_testkit::cli::run(&function_binary("snapback"), &all, &env)
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

    let misread = scan(&["--region", REGION, "--output", "json"]);
    assert_eq!(misread.status, 2, "a format given to --output is refused, not written to ./json");
    assert!(misread.stderr.contains("--format json"), "{}", misread.stderr);
}
