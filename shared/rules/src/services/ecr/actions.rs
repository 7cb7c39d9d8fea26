//! ECR restore actions.

use serde::Serialize;

use crate::finding::ServiceAction;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum EcrAction {
    /// PutImageScanningConfiguration `scanOnPush=true`.
    EnableScanOnPush { repository: String },
    /// PutImageTagMutability `IMMUTABLE`.
    MakeTagsImmutable { repository: String },
    /// SetRepositoryPolicy with this text: the policy without its public statements.
    SetRepositoryPolicy { repository: String, policy_text: String },
    /// DeleteRepositoryPolicy: no statement would remain.
    DeleteRepositoryPolicy { repository: String },
}

impl ServiceAction for EcrAction {
    const SERVICE: &'static str = super::SERVICE;

    fn resource(&self) -> &str {
        match self {
            EcrAction::EnableScanOnPush { repository }
            | EcrAction::MakeTagsImmutable { repository }
            | EcrAction::SetRepositoryPolicy { repository, .. }
            | EcrAction::DeleteRepositoryPolicy { repository } => repository,
        }
    }

    fn describe(&self) -> String {
        match self {
            EcrAction::EnableScanOnPush { repository } => format!("turn scan on push on for repository {repository}"),
            EcrAction::MakeTagsImmutable { repository } => {
                format!("make the tags of repository {repository} immutable")
            }
            EcrAction::SetRepositoryPolicy { repository, .. } => {
                format!("set the policy of repository {repository} without its public statements")
            }
            EcrAction::DeleteRepositoryPolicy { repository } => {
                format!("delete the policy of repository {repository} (only public statements)")
            }
        }
    }
}
