//! `snapback scan`: audit what already exists, with the user's own credentials. Each service's
//! adapter sweeps its account and region, the rules judge every resource as it is, and the policy
//! applies scope, exemptions and modes exactly as for events. Read-only unless `--remediate`
//! ([`remediate`]) restores what the report found in remediate mode.

pub mod html;
pub mod progress;
pub mod remediate;
pub mod sample;
pub mod security_hub;

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use snapback_aws::{ServiceAdapter, SweepContext};
use snapback_rules::{decide, Action, Config, Decision, Finding, ResourceFacts, ResourceKind, Scope, Severity};
use time::OffsetDateTime;

use progress::Progress;

/// What a rule would do about a finding, after scope and exemptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanMode {
    /// The rule restores it (`--remediate` runs the restore).
    Remediate,
    /// The rule alerts only (its mode, or no restore exists).
    Notify,
    /// Tagged exempt: an accepted risk.
    Exempt,
}

impl ScanMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanMode::Remediate => "remediate",
            ScanMode::Notify => "notify",
            ScanMode::Exempt => "exempt",
        }
    }
}

impl fmt::Display for ScanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding as scan reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanFinding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    /// What the rule would do: remediate, notify, or exempt (tagged).
    pub mode: ScanMode,
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
    /// The restore's actions, which `--remediate` runs through the adapter of each action's
    /// service (`restore` describes them for people).
    #[serde(skip)]
    pub actions: Vec<Action>,
}

impl ScanFinding {
    /// The report's line for a rule's finding on a resource with these facts, or None when the
    /// resource is out of scope.
    pub fn judged(
        finding: &Finding,
        facts: &ResourceFacts,
        config: &Config,
        now: OffsetDateTime,
        account: Option<&str>,
        region: Option<&str>,
    ) -> Option<ScanFinding> {
        let mode = match decide(finding, facts, config, now) {
            Decision::OutOfScope(_) => return None,
            Decision::Exempt { .. } => ScanMode::Exempt,
            Decision::Notify { .. } => ScanMode::Notify,
            Decision::Remediate { .. } => ScanMode::Remediate,
        };
        let mut restore: Vec<String> = finding.plan.actions.iter().map(|action| action.describe()).collect();
        restore.extend(finding.plan.manual.clone());
        Some(ScanFinding {
            rule: finding.rule.id.to_owned(),
            title: finding.rule.title.to_owned(),
            severity: finding.rule.severity,
            mode,
            resource: finding.resource.clone(),
            kind: finding.kind,
            cluster: facts.cluster.clone(),
            account: account.map(str::to_owned),
            region: region.map(str::to_owned),
            found: finding.changed.clone(),
            restore,
            why: finding.rule.rationale.to_owned(),
            fix: finding.rule.manual_fix.to_owned(),
            actions: finding.plan.actions.clone(),
        })
    }
}

/// What a scan of one account and region found, and what it could not look at.
#[derive(Debug, Default)]
pub struct Scanned {
    pub findings: Vec<ScanFinding>,
    /// A service or resource that could not be described, with the reason; the rest was scanned.
    pub errors: Vec<String>,
}

/// What a scan covered, for a report's header.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub at: OffsetDateTime,
    /// What could not be scanned, each with its reason: the report is incomplete.
    pub gaps: Vec<String>,
}

/// Sweeps one account and region through `adapters` and judges everything found, telling
/// `progress` each service swept and each resource judged. A service that cannot be swept, or a
/// resource that cannot be looked up, is reported and skipped.
pub async fn scan(
    adapters: &[Box<dyn ServiceAdapter>],
    config: &Config,
    account: Option<&str>,
    region: Option<&str>,
    progress: &Progress,
) -> Scanned {
    let now = OffsetDateTime::now_utc();
    let mut scanned = Scanned::default();
    let findings = &mut scanned.findings;
    let context = SweepContext::new(config.scope).in_account(account);
    for adapter in adapters {
        progress.sweeping(adapter.service());
        let swept = match adapter.sweep(&context).await {
            Ok(swept) => swept,
            Err(error) => {
                scanned.errors.push(format!("{}: {error}", adapter.service()));
                continue;
            }
        };
        progress.judging(adapter.service(), swept.len());
        // What the sweep already knows about the resources it described needs no look-up (a
        // nodegroup's finding is about its cluster, which the same sweep described).
        let mut facts: HashMap<(&'static str, String), Option<ResourceFacts>> = swept
            .iter()
            .filter_map(|found| Some(((found.kind.name, found.resource.clone()), Some(found.facts.clone()?))))
            .collect();
        for found in swept {
            for finding in snapback_rules::services::judge_state(found.state.as_ref(), config) {
                let key = (finding.kind.name, finding.resource.clone());
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
                findings.extend(ScanFinding::judged(&finding, facts, config, now, account, region));
            }
            progress.judged();
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
            finding.mode.to_string(),
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
            let label = if f.mode == ScanMode::Remediate {
                "snapback restores"
            } else {
                "snapback would restore (in remediate mode)"
            };
            out += &format!("- **{label}:** {}\n", f.restore.join("; "));
        }
        out += &format!("- **Fix by hand:** {}\n", f.fix);
    }
    out
}

/// The report as JSON: one object per finding, as `--format json` writes it.
pub fn render_json(findings: &[ScanFinding]) -> String {
    serde_json::to_string_pretty(findings).expect("findings serialize") + "\n"
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
    findings.iter().any(|finding| finding.severity >= threshold && finding.mode != ScanMode::Exempt)
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
            mode: ScanMode::Remediate,
            resource: resource.into(),
            kind: &snapback_rules::services::security_groups::SECURITY_GROUP,
            cluster: Some("prod".into()),
            account: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            found: vec!["tcp 22 from 0.0.0.0/0 (sgr-1)".into()],
            restore: vec![],
            why: meta.rationale.into(),
            fix: meta.manual_fix.into(),
            actions: vec![],
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
        findings[0].mode = ScanMode::Exempt;
        assert!(!fails(&findings, Severity::Critical), "an exempt finding is an accepted risk");
        assert!(fails(&findings, Severity::High));
        assert_eq!(render_summary(&findings), "3 finding(s): 1 critical, 1 high, 1 medium, 0 low\n");
        let table = render_table(&findings);
        assert!(table.lines().nth(1).unwrap().starts_with("CRITICAL  sg-open-kubelet"), "{table}");
    }

    /// Golden file: the Markdown report of a small, fixed set of findings.
    #[test]
    fn golden_markdown_report() {
        let mut findings = vec![
            finding("sg-open-remote-admin", Severity::High, "sg-0123456789abcdef0"),
            ScanFinding {
                cluster: Some("prod".into()),
                resource: "prod".into(),
                mode: ScanMode::Notify,
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

    /// Golden file: `--format json` of the sample scan (both services, every mode).
    #[test]
    fn golden_json_report() {
        let report = render_json(&sample::findings());
        let objects: Vec<serde_json::Value> = serde_json::from_str(&report).expect("a JSON array");
        for object in &objects {
            for key in ["rule", "resource", "severity", "mode", "cluster", "account", "region"] {
                assert!(object[key].is_string(), "{key} in {object}");
            }
        }
        let modes: std::collections::BTreeSet<&str> = objects.iter().map(|o| o["mode"].as_str().unwrap()).collect();
        assert_eq!(modes, ["exempt", "notify", "remediate"].into());
        insta::assert_snapshot!("scan-json", report);
        assert_eq!(render_json(&[]), "[]\n");
    }
}
