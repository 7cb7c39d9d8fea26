//! `snapback scan --remediate`: after the report, restore what it found in remediate mode (in
//! scope, not exempt, a restore to run), through the same adapters and actions the functions use.
//! The plan is shown first and confirmed on the terminal unless `--yes`.

use std::collections::BTreeSet;
use std::io::{self, BufRead, Write};
use std::time::{Duration, Instant};

use snapback_aws::{ActionResult, ServiceAdapter};
use snapback_rules::Action;

use super::{ScanFinding, ScanMode};

/// How long one action may take: an EKS update waits out a cluster busy with another update.
pub const ACTION_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The findings `--remediate` restores.
pub fn restorable(findings: &[ScanFinding]) -> Vec<&ScanFinding> {
    findings.iter().filter(|f| f.mode == ScanMode::Remediate && !f.actions.is_empty()).collect()
}

/// How many distinct resources the restore changes.
pub fn resources(findings: &[&ScanFinding]) -> usize {
    findings.iter().map(|f| (&f.account, &f.region, f.kind.name, &f.resource)).collect::<BTreeSet<_>>().len()
}

/// The plan, as read before confirming: each finding and the actions that restore it.
pub fn render_plan(findings: &[&ScanFinding]) -> String {
    let mut out = format!("snapback would restore {} resource(s):\n", resources(findings));
    for f in findings {
        let owner = f.cluster.as_deref().filter(|cluster| *cluster != f.resource);
        let owner = owner.map(|cluster| format!(" of cluster {cluster}")).unwrap_or_default();
        let account = f.account.as_deref().unwrap_or("unknown account");
        let region = f.region.as_deref().unwrap_or("unknown region");
        out += &format!(
            "  {} {} on {} ({}{owner}, {account} / {region})\n",
            f.severity.label(),
            f.rule,
            f.resource,
            f.kind.name
        );
        for action in &f.actions {
            out += &format!("    - {}\n", action.describe());
        }
    }
    out
}

/// Asks `Restore N resources? [y/N]` on `prompt` and reads the answer from `answer`: only y or
/// yes (any case) says yes; end of input says no.
pub fn confirm(resources: usize, answer: &mut impl BufRead, prompt: &mut impl Write) -> io::Result<bool> {
    write!(prompt, "Restore {resources} resource(s)? [y/N] ")?;
    prompt.flush()?;
    let mut line = String::new();
    answer.read_line(&mut line)?;
    Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// The actions of one region's findings, merged: an action two findings share runs once, and
/// actions on the same setting of the same resource become one call (as the functions merge a
/// plan), so a cluster gets one endpoint update, not three.
pub fn merged_actions(findings: &[&ScanFinding]) -> Vec<Action> {
    let mut merged: Vec<Action> = Vec::new();
    for action in findings.iter().flat_map(|f| &f.actions) {
        action.merge_into(&mut merged);
    }
    merged
}

/// What one action's run came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Restored,
    AlreadySafe,
    NotApplicable(String),
    Refused(String),
    Failed(String),
}

/// One action run, for its line of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub action: String,
    pub outcome: Outcome,
}

impl Ran {
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }

    /// `restored: revoke ingress rule sgr-1 on sg-0abc`, `failed: … : why`.
    pub fn line(&self) -> String {
        match &self.outcome {
            Outcome::Restored => format!("restored: {}", self.action),
            Outcome::AlreadySafe => format!("already safe: {}", self.action),
            Outcome::NotApplicable(why) => format!("nothing to do: {} ({why})", self.action),
            Outcome::Refused(why) => format!("refused: {}: {why}", self.action),
            Outcome::Failed(error) => format!("failed: {}: {error}", self.action),
        }
    }
}

/// Runs each action through the adapter of its service, one after the other, each within
/// [`ACTION_TIMEOUT`].
pub async fn run(actions: &[Action], adapters: &[Box<dyn ServiceAdapter>]) -> Vec<Ran> {
    let mut ran = Vec::new();
    for action in actions {
        let outcome = match adapters.iter().find(|adapter| adapter.service() == action.service()) {
            None => Outcome::Failed(format!("no adapter for the {} service", action.service())),
            Some(adapter) => match adapter.run(action, None, Instant::now() + ACTION_TIMEOUT).await {
                Ok(ActionResult::Restored) => Outcome::Restored,
                Ok(ActionResult::AlreadySafe) => Outcome::AlreadySafe,
                Ok(ActionResult::NotApplicable(why)) => Outcome::NotApplicable(why),
                Ok(ActionResult::Refused(why)) => Outcome::Refused(why),
                Err(error) => Outcome::Failed(error.to_string()),
            },
        };
        ran.push(Ran { action: action.describe(), outcome });
    }
    ran
}

/// The principal to protect from the caller's ARN: an assumed role's session is its role (access
/// entries name roles), anything else as it is.
pub fn caller_principal(arn: &str) -> String {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("sts"), Some(_), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return arn.to_owned();
    };
    match resource.strip_prefix("assumed-role/").and_then(|rest| rest.split('/').next()) {
        Some(role) => format!("arn:{partition}:iam::{account}:role/{role}"),
        None => arn.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::sample;
    use snapback_aws::AwsError;
    use snapback_testkit::fakes::FakeAdapter;

    #[test]
    fn only_remediate_findings_with_a_restore_are_planned_and_a_cluster_gets_one_endpoint_update() {
        let findings = sample::findings();
        let planned = restorable(&findings);
        let rules: BTreeSet<&str> = planned.iter().map(|f| f.rule.as_str()).collect();
        assert!(!rules.contains("sg-open-k8s-api"), "notify mode is not restored");
        assert!(!rules.contains("eks-secrets-encryption-missing"), "no restore exists");
        assert!(
            planned.iter().all(|f| f.resource != "sg-09f8e7d6c5b4a3921"),
            "an exempt group is not restored: {planned:?}"
        );
        let eu: Vec<&ScanFinding> =
            planned.iter().copied().filter(|f| f.region.as_deref() == Some("eu-west-1")).collect();
        let cluster_actions: Vec<String> =
            merged_actions(&eu).iter().filter(|a| a.resource() == "prod").map(Action::describe).collect();
        assert_eq!(
            cluster_actions,
            [
                "set private endpoint on, public endpoint off for cluster prod",
                "enable control-plane logging audit, authenticator, controllerManager, scheduler on cluster prod"
            ],
            "three endpoint findings, one update"
        );
        let plan = render_plan(&planned);
        assert!(plan.starts_with(&format!("snapback would restore {} resource(s):\n", resources(&planned))), "{plan}");
        assert!(plan.contains("  CRITICAL sg-open-kubelet on sg-0a1b2c3d4e5f60718 (security-group of cluster prod, 111122223333 / eu-west-1)\n    - revoke ingress rule sgr-0d3f9b2c7a1e5c842 on sg-0a1b2c3d4e5f60718\n"), "{plan}");
        assert!(
            plan.contains("  HIGH eks-public-endpoint on prod (eks-cluster, 111122223333 / eu-west-1)\n"),
            "{plan}"
        );
    }

    #[test]
    fn only_y_or_yes_confirms() {
        for (typed, yes) in [
            ("y\n", true),
            ("YES\n", true),
            (" yes \n", true),
            ("n\n", false),
            ("\n", false),
            ("", false),
            ("sure\n", false),
        ] {
            let mut prompt = Vec::new();
            assert_eq!(confirm(3, &mut typed.as_bytes(), &mut prompt).unwrap(), yes, "{typed:?}");
            assert_eq!(String::from_utf8(prompt).unwrap(), "Restore 3 resource(s)? [y/N] ");
        }
    }

    #[tokio::test]
    async fn each_action_runs_through_its_services_adapter_and_a_failure_is_reported() {
        let findings = sample::findings();
        let planned = restorable(&findings);
        let actions = merged_actions(&planned);
        let groups = std::sync::Arc::new(FakeAdapter::new("security-groups"));
        let adapters: Vec<Box<dyn ServiceAdapter>> = vec![
            Box::new(groups.clone()),
            Box::new(
                FakeAdapter::new("eks")
                    .failing(|| AwsError::permanent("eks:UpdateClusterConfig", "AccessDeniedException")),
            ),
        ];

        let ran = run(&actions, &adapters).await;

        assert_eq!(ran.len(), actions.len());
        let group_actions = actions.iter().filter(|a| a.service() == "security-groups").count();
        assert_eq!(groups.ran().len(), group_actions);
        let lines: Vec<String> = ran.iter().map(Ran::line).collect();
        assert!(
            lines.contains(&"restored: revoke ingress rule sgr-07c1e5a9d3b2f4a61 on sg-0a1b2c3d4e5f60718".to_owned()),
            "{lines:#?}"
        );
        let failed: Vec<&Ran> = ran.iter().filter(|r| r.failed()).collect();
        assert!(!failed.is_empty() && failed.iter().all(|r| r.action.contains("cluster")), "{lines:#?}");
        assert!(failed[0].line().starts_with("failed: set private endpoint on"), "{}", failed[0].line());
        assert!(failed[0].line().contains("AccessDeniedException"), "{}", failed[0].line());
    }

    #[test]
    fn the_caller_of_an_assumed_role_is_protected_as_its_role() {
        assert_eq!(
            caller_principal("arn:aws:sts::111122223333:assumed-role/platform-admin/alice"),
            "arn:aws:iam::111122223333:role/platform-admin"
        );
        assert_eq!(caller_principal("arn:aws:iam::111122223333:user/alice"), "arn:aws:iam::111122223333:user/alice");
        assert_eq!(caller_principal("not an arn"), "not an arn");
    }
}
