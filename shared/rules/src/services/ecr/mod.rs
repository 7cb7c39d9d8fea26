//! ECR: repositories scanned on push, immutable tags, no public repository policy, KMS
//! encryption. Repositories belong to no cluster, so `scope` does not narrow them;
//! `ecr_repository_prefixes` in the configuration does ([`crate::Config::judges_ecr_repository`]).

pub mod actions;
pub mod change;
pub mod rules;
pub mod state;

pub use actions::EcrAction;
pub use change::{
    filter_matches, EcrChange, Encryption, RegistryScanning, RepositoryPolicy, ScanningRule, TagMutability, ECR_SOURCE,
};
pub use state::RepositoryState;

use super::{Example, ServiceRules};
use crate::config::Config;
use crate::finding::{Action, Finding, Plan, ResourceKind};
use crate::registry::{EventKey, RuleMeta};

/// The slice's name, shared with its adapter in `shared/aws`.
pub const SERVICE: &str = "ecr";

/// A private repository, `{id}` being its name. Its findings on a change are confirmed by the
/// look-up's description, which carries what no record does: the registry's scanning
/// configuration.
pub static REPOSITORY: ResourceKind = ResourceKind {
    service: SERVICE,
    name: "ecr-repository",
    scoped_by_cluster: false,
    confirmed_by_look_up: true,
    asff_type: "AwsEcrRepository",
    arn: "arn:{partition}:ecr:{region}:{account}:repository/{id}",
};

pub static SLICE: ServiceRules<EcrChange, RepositoryState> = ServiceRules {
    name: SERVICE,
    parse: EcrChange::from_event,
    rules: &[
        &rules::ecr_scan_on_push_disabled::RULE,
        &rules::ecr_tags_mutable::RULE,
        &rules::ecr_repository_public::RULE,
        &rules::ecr_repository_kms_missing::RULE,
    ],
    example,
    // Repositories with their policies and tags, and the registry's scanning configuration.
    sweep_actions: &[
        "ecr:DescribeRepositories",
        "ecr:GetRepositoryPolicy",
        "ecr:ListTagsForResource",
        "ecr:GetRegistryScanningConfiguration",
    ],
};

/// A sample finding on repository `shop/web`.
fn example(meta: &RuleMeta) -> Example {
    let (event_name, changed, restored) = match meta.id {
        "ecr-scan-on-push-disabled" => (
            "CreateRepository",
            "scan on push off, and no registry scanning covers the repository",
            Some("turn scan on push on for repository shop/web"),
        ),
        "ecr-tags-mutable" => {
            ("CreateRepository", "image tags mutable (MUTABLE)", Some("make the tags of repository shop/web immutable"))
        }
        "ecr-repository-public" => (
            "SetRepositoryPolicy",
            "policy lets anyone (principal *, no condition) in: statement public-pull",
            Some("set the policy of repository shop/web without its public statements"),
        ),
        _ => ("CreateRepository", "encrypted with AES256, not a KMS key", None),
    };
    Example {
        resource: "shop/web".to_owned(),
        event_name,
        changed: changed.to_owned(),
        restored: restored.map(str::to_owned),
        failure: "ecr call failed: AccessDeniedException".to_owned(),
    }
}

/// Every ECR rule listens to repository creation; some to one more call.
pub(crate) const fn ecr(name: &'static str) -> EventKey {
    EventKey { source: ECR_SOURCE, name }
}

/// The change's repository, when `ecr_repository_prefixes` lets the ECR rules judge it.
pub(crate) fn judged<'c>(change: &'c EcrChange, config: &Config) -> Option<&'c str> {
    config.judges_ecr_repository(&change.repository).then_some(change.repository.as_str())
}

pub(crate) fn finding(
    meta: &'static RuleMeta,
    repository: &str,
    changed: String,
    action: Option<EcrAction>,
    manual: Option<String>,
) -> Finding {
    Finding {
        rule: meta,
        kind: &REPOSITORY,
        resource: repository.to_owned(),
        changed: vec![changed],
        plan: Plan { actions: action.into_iter().map(Action::from).collect(), manual },
    }
}
