//! `snapback scan`: audit what already exists, with the user's own credentials. Each service's
//! adapter sweeps its account and region, the rules judge every resource as it is, and the policy
//! applies scope, exemptions and modes exactly as for events. Read-only: nothing is restored.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Value};
use snapback_aws::ServiceAdapter;
use snapback_rules::{decide, Config, Decision, ResourceFacts, ResourceKind, Scope, Severity};
use time::OffsetDateTime;

/// One finding as scan reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanFinding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    /// What the rule would do: remediate, notify, or exempt (tagged).
    pub mode: String,
    pub resource: String,
    /// The resource's kind (`security-group`, `eks-cluster`, `eks-nodegroup`).
    pub kind: &'static ResourceKind,
    pub cluster: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// What is wrong, one line per dangerous part.
    pub found: Vec<String>,
    /// The restore the rule would run, or what a person has to do.
    pub restore: Vec<String>,
    pub why: String,
    pub fix: String,
}

/// What a scan of one account and region found, and what it could not look at.
#[derive(Debug, Default)]
pub struct Scanned {
    pub findings: Vec<ScanFinding>,
    /// A service or resource that could not be described, with the reason; the rest was scanned.
    pub errors: Vec<String>,
}

/// Sweeps one account and region through `adapters` and judges everything found. A service that
/// cannot be swept, or a resource that cannot be looked up, is reported and skipped.
pub async fn scan(
    adapters: &[Box<dyn ServiceAdapter>],
    config: &Config,
    account: Option<&str>,
    region: Option<&str>,
) -> Scanned {
    let now = OffsetDateTime::now_utc();
    let mut scanned = Scanned::default();
    let findings = &mut scanned.findings;
    for adapter in adapters {
        let swept = match adapter.sweep().await {
            Ok(swept) => swept,
            Err(error) => {
                scanned.errors.push(format!("{}: {error}", adapter.service()));
                continue;
            }
        };
        let mut facts: HashMap<(&'static str, String), Option<ResourceFacts>> = HashMap::new();
        for found in swept {
            for finding in snapback_rules::services::judge_state(found.state.as_ref(), config) {
                let key = (finding.kind.name, finding.resource.clone());
                // What the sweep already knows about the resource it described needs no look-up.
                if let Some(known) =
                    found.facts.as_ref().filter(|_| finding.kind == found.kind && finding.resource == found.resource)
                {
                    facts.entry(key.clone()).or_insert_with(|| Some(known.clone()));
                }
                if !facts.contains_key(&key) {
                    let find_cluster = finding.kind.scoped_by_cluster && config.scope == Scope::Eks;
                    let looked = match adapter.look_up(finding.kind, &finding.resource, find_cluster).await {
                        Ok(looked) => looked,
                        Err(error) => {
                            scanned.errors.push(format!("{} {}: {error}", finding.kind.name, finding.resource));
                            None
                        }
                    };
                    facts.insert(key.clone(), looked.map(|looked| looked.facts));
                }
                // Gone between the sweep and the look-up: nothing left to report.
                let Some(facts) = &facts[&key] else { continue };
                let mode = match decide(&finding, facts, config, now) {
                    Decision::OutOfScope(_) => continue,
                    Decision::Exempt { .. } => "exempt",
                    Decision::Notify { .. } => "notify",
                    Decision::Remediate { .. } => "remediate",
                };
                let mut restore: Vec<String> = finding.plan.actions.iter().map(|action| action.describe()).collect();
                restore.extend(finding.plan.manual.clone());
                findings.push(ScanFinding {
                    rule: finding.rule.id.to_owned(),
                    title: finding.rule.title.to_owned(),
                    severity: finding.rule.severity,
                    mode: mode.to_owned(),
                    resource: finding.resource.clone(),
                    kind: finding.kind,
                    cluster: facts.cluster.clone(),
                    account: account.map(str::to_owned),
                    region: region.map(str::to_owned),
                    found: finding.changed.clone(),
                    restore,
                    why: finding.rule.rationale.to_owned(),
                    fix: finding.rule.manual_fix.to_owned(),
                });
            }
        }
    }
    sort(findings);
    scanned
}

/// Most severe first, then by rule and resource, so reports are stable.
pub fn sort(findings: &mut [ScanFinding]) {
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| a.rule.cmp(&b.rule)).then_with(|| a.resource.cmp(&b.resource))
    });
}

/// The table on stdout: by severity, one row per finding.
pub fn render_table(findings: &[ScanFinding]) -> String {
    let mut rows = vec![[
        "SEVERITY".to_owned(),
        "RULE".to_owned(),
        "RESOURCE".to_owned(),
        "CLUSTER".to_owned(),
        "REGION".to_owned(),
        "MODE".to_owned(),
        "WHAT IS WRONG".to_owned(),
    ]];
    for finding in findings {
        rows.push([
            finding.severity.label().to_owned(),
            finding.rule.clone(),
            finding.resource.clone(),
            finding.cluster.clone().unwrap_or_else(|| "-".to_owned()),
            finding.region.clone().unwrap_or_else(|| "-".to_owned()),
            finding.mode.clone(),
            finding.found.join("; "),
        ]);
    }
    crate::replay::format_table(&rows)
}

/// The report as Markdown, for a pull request or a wiki: counts by severity, the findings as a
/// table, then each finding with why it matters, what snapback would restore and the fix.
pub fn render_markdown(findings: &[ScanFinding]) -> String {
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let mut out = String::from("# snapback scan\n\n");
    out += "| severity | findings |\n|---|---|\n";
    for severity in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low] {
        let count = findings.iter().filter(|f| f.severity == severity).count();
        out += &format!("| {} | {count} |\n", severity.label());
    }
    if findings.is_empty() {
        out += "\nNothing found.\n";
        return out;
    }
    out += "\n| severity | rule | resource | cluster | account / region | mode | what is wrong |\n|---|---|---|---|---|---|---|\n";
    for f in findings {
        out += &format!(
            "| {} | `{}` | `{}` | {} | {} / {} | {} | {} |\n",
            f.severity.label(),
            f.rule,
            cell(&f.resource),
            cell(f.cluster.as_deref().unwrap_or("-")),
            f.account.as_deref().unwrap_or("-"),
            f.region.as_deref().unwrap_or("-"),
            f.mode,
            cell(&f.found.join("; "))
        );
    }
    for f in findings {
        out += &format!("\n## {} `{}` on `{}`\n\n{}\n\n", f.severity.label(), f.rule, f.resource, f.title);
        out += &format!("- **What is wrong:** {}\n", f.found.join("; "));
        out += &format!("- **Why it matters:** {}\n", f.why);
        if !f.restore.is_empty() {
            let label =
                if f.mode == "remediate" { "snapback restores" } else { "snapback would restore (in remediate mode)" };
            out += &format!("- **{label}:** {}\n", f.restore.join("; "));
        }
        out += &format!("- **Fix by hand:** {}\n", f.fix);
    }
    out
}

/// The findings in the AWS Security Finding Format (BatchImportFindings takes them as they are),
/// updated at `now` (RFC 3339).
pub fn render_asff(findings: &[ScanFinding], now: &str) -> Value {
    let cut = |text: String, limit: usize| -> String {
        if text.chars().count() <= limit {
            return text;
        }
        text.chars().take(limit - 1).collect::<String>() + "…"
    };
    let records: Vec<Value> = findings
        .iter()
        .map(|f| {
            let account = f.account.as_deref().unwrap_or("unknown");
            let region = f.region.as_deref().unwrap_or("unknown");
            let partition = partition_of(region);
            json!({
                "SchemaVersion": "2018-10-08",
                "Id": format!("snapback/{account}/{region}/{}/{}", f.rule, f.resource),
                "ProductArn": format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default"),
                "GeneratorId": format!("snapback/{}", f.rule),
                "AwsAccountId": account,
                "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
                "CreatedAt": now,
                "UpdatedAt": now,
                "Severity": {"Label": f.severity.label()},
                "Title": cut(format!("{} ({})", f.title, f.rule), 256),
                "Description": cut(format!("{}. {}", f.found.join("; "), f.why), 1024),
                "Remediation": {"Recommendation": {"Text": cut(f.fix.clone(), 512)}},
                "ProductFields": {
                    "snapback/rule": f.rule,
                    "snapback/mode": f.mode,
                    "snapback/cluster": f.cluster.clone().unwrap_or_default(),
                    "snapback/restore": cut(f.restore.join("; "), 2048),
                },
                "Resources": [{
                    "Type": f.kind.asff_type,
                    "Id": f.kind.arn_of(partition, region, account, &f.resource),
                    "Partition": partition,
                    "Region": region,
                }],
                "Workflow": {"Status": "NEW"},
                "RecordState": "ACTIVE",
            })
        })
        .collect();
    Value::Array(records)
}

/// The partition a region belongs to.
fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The summary on stderr: counts by severity.
pub fn render_summary(findings: &[ScanFinding]) -> String {
    let count = |severity: Severity| findings.iter().filter(|f| f.severity == severity).count();
    format!(
        "{} finding(s): {} critical, {} high, {} medium, {} low\n",
        findings.len(),
        count(Severity::Critical),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low)
    )
}

/// Does anything not exempt reach `threshold`? (An exemption tag is how a risk is accepted.)
pub fn fails(findings: &[ScanFinding], threshold: Severity) -> bool {
    findings.iter().any(|finding| finding.severity >= threshold && finding.mode != "exempt")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, severity: Severity, resource: &str) -> ScanFinding {
        let meta = snapback_rules::rule(rule).expect("a registered rule");
        ScanFinding {
            rule: rule.into(),
            title: meta.title.into(),
            severity,
            mode: "remediate".into(),
            resource: resource.into(),
            kind: &snapback_rules::services::security_groups::SECURITY_GROUP,
            cluster: Some("prod".into()),
            account: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            found: vec!["tcp 22 from 0.0.0.0/0 (sgr-1)".into()],
            restore: vec![],
            why: meta.rationale.into(),
            fix: meta.manual_fix.into(),
        }
    }

    #[test]
    fn findings_sort_most_severe_first_and_the_threshold_counts_at_or_above() {
        let mut findings = vec![
            finding("sg-open-k8s-api", Severity::Medium, "sg-2"),
            finding("sg-open-kubelet", Severity::Critical, "sg-1"),
            finding("sg-open-remote-admin", Severity::High, "sg-1"),
        ];
        sort(&mut findings);
        let order: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(order, ["sg-open-kubelet", "sg-open-remote-admin", "sg-open-k8s-api"]);
        assert!(fails(&findings, Severity::Critical));
        assert!(!fails(&findings[2..], Severity::High));
        findings[0].mode = "exempt".into();
        assert!(!fails(&findings, Severity::Critical), "an exempt finding is an accepted risk");
        assert!(fails(&findings, Severity::High));
        assert_eq!(render_summary(&findings), "3 finding(s): 1 critical, 1 high, 1 medium, 0 low\n");
        let table = render_table(&findings);
        assert!(table.lines().nth(1).unwrap().starts_with("CRITICAL  sg-open-kubelet"), "{table}");
    }

    #[test]
    fn asff_records_carry_the_required_fields_within_their_limits() {
        let mut long = finding("sg-open-remote-admin", Severity::High, "sg-0abc");
        long.why = "x".repeat(2000);
        let records = render_asff(&[long], "2026-11-29T06:00:00Z");
        let record = &records[0];
        for field in [
            "SchemaVersion",
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Types",
            "CreatedAt",
            "UpdatedAt",
            "Severity",
            "Title",
            "Description",
            "Resources",
        ] {
            assert!(!record[field].is_null(), "{field} in {record}");
        }
        assert_eq!(record["ProductArn"], "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default");
        assert_eq!(record["Severity"]["Label"], "HIGH");
        assert_eq!(record["Resources"][0]["Type"], "AwsEc2SecurityGroup");
        assert_eq!(record["Resources"][0]["Id"], "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0abc");
        assert_eq!(record["Description"].as_str().unwrap().chars().count(), 1024);
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }

    /// Golden file: the Markdown report of a small, fixed set of findings.
    #[test]
    fn golden_markdown_report() {
        let mut findings = vec![
            finding("sg-open-remote-admin", Severity::High, "sg-0123456789abcdef0"),
            ScanFinding {
                cluster: Some("prod".into()),
                resource: "prod".into(),
                mode: "notify".into(),
                found: vec!["public endpoint on, open to 0.0.0.0/0".into()],
                restore: vec!["set private endpoint on, public endpoint off for cluster prod".into()],
                ..finding("eks-public-endpoint", Severity::High, "prod")
            },
        ];
        sort(&mut findings);
        let report = render_markdown(&findings);
        assert!(report.contains("| HIGH | 2 |"), "{report}");
        assert!(
            report.contains("- **snapback would restore (in remediate mode):** set private endpoint on"),
            "{report}"
        );
        insta::assert_snapshot!("scan-markdown", report);
        assert!(render_markdown(&[]).contains("Nothing found."));
    }
}
