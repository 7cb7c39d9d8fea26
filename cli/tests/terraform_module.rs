//! The Terraform module, parsed as HCL: every function under `functions/` is in the manifest the
//! module reads, and the module gives each a role, a Lambda, a log group, EventBridge rules and
//! targets with a dead-letter queue; the role allows exactly the manifest's actions, each mapped
//! to a resource on purpose.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hcl::{Block, Body};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The module's files (split by concern: IAM, functions, EventBridge, alarms, KMS, trail, …) as one body.
fn module() -> Body {
    let mut text = String::new();
    for entry in std::fs::read_dir(root().join("infra/modules/snapback")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "tf") {
            let file = std::fs::read_to_string(&path).unwrap();
            let _: Body = hcl::from_str(&file).unwrap_or_else(|e| panic!("{} is not valid HCL: {e}", path.display()));
            text += &file;
            text += "\n";
        }
    }
    hcl::from_str(&text).expect("the module is valid HCL")
}

fn resource<'a>(body: &'a Body, kind: &str, name: &str) -> &'a Block {
    body.blocks()
        .find(|block| {
            block.identifier() == "resource"
                && block.labels().iter().map(|label| label.as_str()).collect::<Vec<_>>() == [kind, name]
        })
        .unwrap_or_else(|| panic!("resource {kind}.{name} is missing"))
}

fn attribute(block: &Block, key: &str) -> String {
    block
        .body()
        .attributes()
        .find(|attribute| attribute.key() == key)
        .map(|attribute| attribute.expr().to_string())
        .unwrap_or_else(|| {
            panic!("{} lacks {key}", block.labels().iter().map(|l| l.as_str()).collect::<Vec<_>>().join("."))
        })
}

#[test]
fn every_function_has_its_role_lambda_logs_rules_and_dead_letters() {
    let functions: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let manifest = snapback_rules::manifest::manifest();
    let in_manifest: BTreeSet<String> = manifest["functions"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(functions, in_manifest, "functions/ and the manifest list the same functions");

    let body = module();
    let locals = body.blocks().find(|block| block.identifier() == "locals").expect("a locals block");
    let manifest_source = locals.body().attributes().find(|a| a.key() == "manifest").unwrap().expr().to_string();
    assert!(manifest_source.contains("manifest.json"), "{manifest_source}");
    let functions_source = locals.body().attributes().find(|a| a.key() == "functions").unwrap().expr().to_string();
    assert!(functions_source.contains("local.manifest.functions"), "{functions_source}");

    for (kind, name) in [
        ("aws_iam_role", "this"),
        ("aws_iam_role_policy", "this"),
        ("aws_lambda_function", "this"),
        ("aws_cloudwatch_log_group", "this"),
        ("aws_lambda_function_event_invoke_config", "this"),
    ] {
        assert_eq!(attribute(resource(&body, kind, name), "for_each"), "local.functions", "{kind}.{name}");
    }
    // Every pattern on the default bus, and again on the central bus of an organization deployment.
    for (kind, name) in [
        ("aws_cloudwatch_event_rule", "this"),
        ("aws_cloudwatch_event_target", "this"),
        ("aws_lambda_permission", "from_eventbridge"),
    ] {
        assert_eq!(attribute(resource(&body, kind, name), "for_each"), "local.routes", "{kind}.{name}");
    }
    // A central sweeper's queue: partial batch failures, bounded concurrency, a dead-letter queue.
    let mapping = resource(&body, "aws_lambda_event_source_mapping", "sweeps");
    assert!(attribute(mapping, "function_response_types").contains("\"ReportBatchItemFailures\""));
    assert!(mapping.body().blocks().any(|b| b.identifier() == "scaling_config"));
    let queue = resource(&body, "aws_sqs_queue", "sweeps");
    assert!(attribute(queue, "redrive_policy").contains("aws_sqs_queue.dead_letters.arn"));
    assert!(attribute(queue, "kms_master_key_id").contains("local.kms_key_arn"));
    let routes = local(&body, "routes");
    assert!(routes.contains("local.patterns") && routes.contains("local.organization"), "{routes}");
    let target = resource(&body, "aws_cloudwatch_event_target", "this");
    for nested in ["dead_letter_config", "retry_policy"] {
        assert!(target.body().blocks().any(|b| b.identifier() == nested), "the EventBridge target has {nested}");
    }
    let lambda = resource(&body, "aws_lambda_function", "this");
    assert!(lambda.body().blocks().any(|b| b.identifier() == "dead_letter_config"));
    assert_eq!(attribute(lambda, "runtime"), "\"provided.al2023\"");
    assert_eq!(attribute(lambda, "architectures").split_whitespace().collect::<String>(), "[var.architecture]");
    assert_eq!(attribute(resource(&body, "aws_cloudwatch_metric_alarm", "this"), "for_each"), "local.alarms");
    let alarms = body
        .blocks()
        .filter(|block| block.identifier() == "locals")
        .flat_map(|block| block.body().attributes())
        .find(|attribute| attribute.key() == "alarms")
        .expect("local.alarms")
        .expr()
        .to_string();
    for metric in ["\"Errors\"", "\"ApproximateNumberOfMessagesVisible\"", "\"FailedInvocations\""] {
        assert!(alarms.contains(metric), "an alarm on {metric}");
    }
    // One heartbeat alarm per rule, reading what the guard writes (snapback_pipeline::metrics),
    // and breaching when the heartbeats stop coming at all.
    let heartbeat = resource(&body, "aws_cloudwatch_metric_alarm", "heartbeat");
    assert!(attribute(heartbeat, "for_each").contains("local.routes"));
    assert_eq!(attribute(heartbeat, "metric_name"), "\"Heartbeats\"");
    assert_eq!(attribute(heartbeat, "treat_missing_data"), "\"breaching\"");
    assert_eq!(attribute(heartbeat, "comparison_operator"), "\"LessThanThreshold\"");
    let dimensions = attribute(heartbeat, "dimensions");
    for dimension in ["Function", "Bus", "Route"] {
        assert!(dimensions.contains(dimension), "{dimensions}");
    }
    assert_eq!(attribute(lambda, "timeout"), "each.value.timeout", "the timeout comes from the registry");
    assert_eq!(attribute(lambda, "memory_size"), "each.value.memory_size", "the memory comes from the registry");
    assert!(lambda.body().blocks().any(|b| b.identifier() == "logging_config"), "the Lambda sets logging_config");
    let event_pattern = attribute(resource(&body, "aws_cloudwatch_event_rule", "this"), "event_pattern");
    assert!(event_pattern.contains("each.value.pattern"), "{event_pattern}");
}

#[test]
fn the_dashboard_reads_the_metrics_the_functions_write_and_every_alarm() {
    let body = module();
    let dashboard = attribute(resource(&body, "aws_cloudwatch_dashboard", "this"), "dashboard_body");
    // The functions' embedded-metric lines (snapback_pipeline::metrics) name these.
    for written in ["{snapback,Outcome}", "\\\"Decisions\\\"", "\"TimeToRestore\"", "\"remediated\""] {
        assert!(dashboard.contains(written), "the dashboard reads {written}: {dashboard}");
    }
    for other in [
        "aws_sqs_queue.dead_letters.name",
        "aws_cloudwatch_metric_alarm.this",
        "aws_cloudwatch_metric_alarm.heartbeat",
        "\"Errors\"",
        "\"Throttles\"",
        "{snapback,Function,Bus,Route}",
    ] {
        assert!(dashboard.contains(other), "the dashboard shows {other}");
    }
}

#[test]
fn no_function_name_is_written_in_hcl() {
    let module = root().join("infra/modules/snapback");
    for entry in std::fs::read_dir(&module).unwrap() {
        let path = entry.unwrap().path();
        // moved.tf records old addresses for upgrades: fixed by nature.
        if path.extension().is_none_or(|ext| ext != "tf") || path.ends_with("moved.tf") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for function in snapback_rules::registry::functions() {
            assert!(
                !text.contains(&format!("\"{}\"", function.name)),
                "{} names function {}: read it from the manifest",
                path.display(),
                function.name
            );
        }
    }
}

#[test]
fn each_role_allows_exactly_the_manifests_actions_each_scoped_on_purpose() {
    let body = module();
    let policy = body
        .blocks()
        .find(|block| {
            block.identifier() == "data"
                && block.labels().iter().map(|l| l.as_str()).collect::<Vec<_>>()
                    == ["aws_iam_policy_document", "function"]
        })
        .expect("the function policy document");
    let dynamic = policy.body().blocks().find(|b| b.identifier() == "dynamic").expect("a dynamic statement");
    let actions_source = dynamic.body().attributes().find(|a| a.key() == "for_each").unwrap().expr().to_string();
    assert!(
        actions_source.contains("each.value.iam_actions"),
        "statements come from the manifest's actions: {actions_source}"
    );

    // The rules' actions are scoped by the manifest's ARN templates, the deployment's own here.
    let scoped = local(&body, "action_resources");
    assert!(scoped.contains("local.manifest.action_resources"), "{scoped}");
    let manifest = snapback_rules::manifest::manifest();
    let templates = manifest["action_resources"].as_object().unwrap();
    for (function, entry) in manifest["functions"].as_object().unwrap() {
        for action in entry["iam_actions"].as_array().unwrap() {
            let action = action.as_str().unwrap();
            assert!(
                templates.contains_key(action) || scoped.contains(&format!("\"{action}\"")),
                "{function}: {action} has no deliberate resource in action_resources"
            );
        }
    }
}

/// A local value's expression, from whichever locals block holds it.
fn local(body: &Body, name: &str) -> String {
    body.blocks()
        .filter(|block| block.identifier() == "locals")
        .flat_map(|block| block.body().attributes())
        .find(|attribute| attribute.key() == name)
        .unwrap_or_else(|| panic!("local.{name} is missing"))
        .expr()
        .to_string()
}

fn member_module() -> Body {
    let mut text = String::new();
    for entry in std::fs::read_dir(root().join("infra/modules/snapback-member")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "tf") {
            text += &std::fs::read_to_string(&path).unwrap();
            text += "\n";
        }
    }
    hcl::from_str(&text).expect("the member module is valid HCL")
}

#[test]
fn the_member_module_forwards_the_guards_patterns_and_its_role_allows_the_member_actions_to_central_roles_only() {
    let body = member_module();
    assert!(local(&body, "manifest").contains("../snapback/manifest.json"), "one manifest for both modules");
    let patterns = local(&body, "patterns");
    assert!(patterns.contains("function.event_patterns") && patterns.contains("\"cloudtrail\""), "{patterns}");
    for kind in ["aws_cloudwatch_event_rule", "aws_cloudwatch_event_target"] {
        assert_eq!(attribute(resource(&body, kind, "forward"), "for_each"), "local.patterns", "{kind}");
    }
    let target = resource(&body, "aws_cloudwatch_event_target", "forward");
    assert_eq!(attribute(target, "arn"), "var.central_event_bus_arn");
    assert!(target.body().blocks().any(|b| b.identifier() == "retry_policy"));

    let data = |name: &str| {
        body.blocks()
            .find(|block| {
                block.identifier() == "data"
                    && block.labels().iter().map(|l| l.as_str()).collect::<Vec<_>>()
                        == ["aws_iam_policy_document", name]
            })
            .unwrap_or_else(|| panic!("data.aws_iam_policy_document.{name} is missing"))
    };
    let dynamic = data("member").body().blocks().find(|b| b.identifier() == "dynamic").expect("a dynamic statement");
    let for_each = dynamic.body().attributes().find(|a| a.key() == "for_each").unwrap().expr().to_string();
    assert_eq!(
        for_each, "local.manifest.member_actions",
        "the member role allows exactly the manifest's member actions"
    );
    assert!(local(&body, "action_resources").contains("local.manifest.action_resources"));

    // Trusted: the central account, and within it only snapback's acting function roles.
    let trust = data("assume_member").body().blocks().next().expect("one statement");
    let condition = trust.body().blocks().find(|b| b.identifier() == "condition").expect("a condition");
    assert_eq!(attribute(condition, "variable"), "\"aws:PrincipalArn\"");
    assert_eq!(attribute(condition, "values"), "local.central_role_arns");
    let roles = local(&body, "central_role_arns");
    assert!(roles.contains("var.central_account_id") && roles.contains("\"alert-topic\""), "{roles}");
    for function in snapback_rules::registry::functions() {
        let text = std::fs::read_to_string(root().join("infra/modules/snapback-member/main.tf")).unwrap();
        assert!(!text.contains(&format!("\"{}\"", function.name)), "the member module names {}", function.name);
    }
}
