//! The ECR adapter: a repository described as the rules read it (DescribeRepositories, its policy,
//! its tags, and the registry's scanning configuration, which can make the repository's own
//! scan-on-push setting irrelevant), scan on push turned on, tags made immutable, the public
//! statements taken out of a repository policy. A sweep lists every repository and reads the
//! registry's scanning configuration once, at most a bounded number of calls at once.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Repository, ScanType};
use snapback_rules::services::ecr::{
    EcrAction, Encryption, RegistryScanning, RepositoryPolicy, RepositoryState, ScanningRule, TagMutability,
    REPOSITORY, SERVICE,
};
use snapback_rules::{Action, ResourceFacts, ResourceKind};

use crate::adapter::{typed, ActionResult, BoxFuture, Described, Found, LookedUp, ServiceAdapter};
use crate::error::AwsError;
use crate::sweep::{each, sort_found, CallBound, SweepContext, SWEEP_CONCURRENCY};

/// The ECR slice over the ECR API.
#[derive(Clone, Debug)]
pub struct EcrRepositories {
    client: aws_sdk_ecr::Client,
    /// Calls a sweep has in flight at once.
    concurrency: usize,
}

/// A repository's policy or tags, or the answer that the repository is gone (deleted since it
/// was listed or described).
enum OrGone<T> {
    Found(T),
    RepositoryGone,
}

impl EcrRepositories {
    pub fn new(client: aws_sdk_ecr::Client) -> Self {
        EcrRepositories { client, concurrency: SWEEP_CONCURRENCY }
    }

    /// At most `calls` ECR calls in flight during a sweep (default [`SWEEP_CONCURRENCY`]).
    pub fn with_sweep_concurrency(mut self, calls: usize) -> Self {
        self.concurrency = calls.max(1);
        self
    }

    /// The repository as DescribeRepositories lists it, or None when it does not exist.
    async fn repository(&self, name: &str) -> Result<Option<Repository>, AwsError> {
        match self.client.describe_repositories().repository_names(name).send().await {
            Ok(output) => Ok(output.repositories().iter().find(|r| r.repository_name() == Some(name)).cloned()),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_repository_not_found_exception()) => Ok(None),
            Err(error) => Err(AwsError::from_sdk("ecr:DescribeRepositories", error)),
        }
    }

    /// The repository as the rules read it, with its policy, its tags and the registry's
    /// scanning configuration; None when it does not exist.
    pub async fn describe_repository(&self, name: &str) -> Result<Option<RepositoryState>, AwsError> {
        let Some(repository) = self.repository(name).await? else { return Ok(None) };
        let bound = CallBound::new(self.concurrency);
        let (policy, tags, registry) = tokio::try_join!(
            self.policy(name, &bound),
            self.tags(repository.repository_arn(), &bound),
            self.registry_scanning(&bound)
        )?;
        let (OrGone::Found(policy), OrGone::Found(tags)) = (policy, tags) else { return Ok(None) };
        Ok(Some(repository_state(name, &repository, policy, tags, registry)))
    }

    /// The repository's policy; None when it has none.
    async fn policy(&self, name: &str, bound: &CallBound) -> Result<OrGone<Option<RepositoryPolicy>>, AwsError> {
        let answer = bound.call(self.client.get_repository_policy().repository_name(name).send()).await;
        let text = match answer {
            Ok(output) => output.policy_text,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_repository_policy_not_found_exception()) => {
                None
            }
            Err(error) if error.as_service_error().is_some_and(|e| e.is_repository_not_found_exception()) => {
                return Ok(OrGone::RepositoryGone)
            }
            Err(error) => return Err(AwsError::from_sdk("ecr:GetRepositoryPolicy", error)),
        };
        match text.filter(|text| !text.trim().is_empty()) {
            None => Ok(OrGone::Found(None)),
            // ECR validates a policy when it is set: text that is no policy document is a fault, not "no policy".
            Some(text) => RepositoryPolicy::parse(&text)
                .map(|policy| OrGone::Found(Some(policy)))
                .map_err(|unreadable| AwsError::permanent("ecr:GetRepositoryPolicy", format!("{name}: {unreadable}"))),
        }
    }

    /// The repository's tags, by its ARN (none without one).
    async fn tags(&self, arn: Option<&str>, bound: &CallBound) -> Result<OrGone<BTreeMap<String, String>>, AwsError> {
        let Some(arn) = arn else { return Ok(OrGone::Found(BTreeMap::new())) };
        match bound.call(self.client.list_tags_for_resource().resource_arn(arn).send()).await {
            Ok(output) => Ok(OrGone::Found(
                output.tags().iter().map(|tag| (tag.key().to_owned(), tag.value().to_owned())).collect(),
            )),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_repository_not_found_exception()) => {
                Ok(OrGone::RepositoryGone)
            }
            Err(error) => Err(AwsError::from_sdk("ecr:ListTagsForResource", error)),
        }
    }

    /// The registry's scanning configuration: enhanced, or basic with its rules (none when unset).
    async fn registry_scanning(&self, bound: &CallBound) -> Result<RegistryScanning, AwsError> {
        let output = bound
            .call(self.client.get_registry_scanning_configuration().send())
            .await
            .map_err(|error| AwsError::from_sdk("ecr:GetRegistryScanningConfiguration", error))?;
        let Some(configuration) = output.scanning_configuration() else {
            return Ok(RegistryScanning::Basic { rules: Vec::new() });
        };
        if configuration.scan_type() == Some(&ScanType::Enhanced) {
            return Ok(RegistryScanning::Enhanced);
        }
        let rules = configuration
            .rules()
            .iter()
            .map(|rule| ScanningRule {
                scan_frequency: rule.scan_frequency().as_str().to_owned(),
                // WILDCARD is the only filter type ECR has.
                filters: rule.repository_filters().iter().map(|filter| filter.filter().to_owned()).collect(),
            })
            .collect();
        Ok(RegistryScanning::Basic { rules })
    }

    /// Every repository of the registry, every page.
    async fn repositories(&self, bound: &CallBound) -> Result<Vec<Repository>, AwsError> {
        let mut repositories = Vec::new();
        let mut pages = self.client.describe_repositories().max_results(1000).into_paginator().send();
        while let Some(page) = bound.call(pages.next()).await {
            let page = page.map_err(|error| AwsError::from_sdk("ecr:DescribeRepositories", error))?;
            repositories.extend(page.repositories().iter().cloned());
        }
        Ok(repositories)
    }

    /// One listed repository with its policy and tags; None when it was deleted since the listing.
    async fn sweep_repository(
        &self,
        repository: Repository,
        registry: &RegistryScanning,
        bound: &CallBound,
    ) -> Result<Option<Found>, AwsError> {
        let Some(name) = repository.repository_name() else { return Ok(None) };
        let (policy, tags) = tokio::try_join!(self.policy(name, bound), self.tags(repository.repository_arn(), bound))?;
        let (OrGone::Found(policy), OrGone::Found(tags)) = (policy, tags) else { return Ok(None) };
        let state = repository_state(name, &repository, policy, tags, registry.clone());
        Ok(Some(Found {
            kind: &REPOSITORY,
            resource: name.to_owned(),
            facts: Some(ResourceFacts { tags: state.tags.clone(), cluster: None }),
            state: Box::new(state),
        }))
    }

    /// Every repository described, the registry's scanning configuration read once; sorted by name.
    async fn sweep_all(&self) -> Result<Vec<Found>, AwsError> {
        let bound = CallBound::new(self.concurrency);
        let (repositories, registry) = tokio::try_join!(self.repositories(&bound), self.registry_scanning(&bound))?;
        let described = each(repositories, |repository| self.sweep_repository(repository, &registry, &bound)).await?;
        let mut found: Vec<Found> = described.into_iter().flatten().collect();
        sort_found(&mut found);
        Ok(found)
    }

    /// Scan on push on, unless it already is.
    async fn enable_scan_on_push(
        &self,
        name: &str,
        described: Option<RepositoryState>,
    ) -> Result<ActionResult, AwsError> {
        let scan_on_push = match described {
            Some(state) => state.scan_on_push,
            None => match self.repository(name).await? {
                Some(repository) => scans_on_push(&repository),
                None => return Ok(gone(name)),
            },
        };
        if scan_on_push {
            return Ok(ActionResult::AlreadySafe);
        }
        let configuration = ImageScanningConfiguration::builder().scan_on_push(true).build();
        let request = self
            .client
            .put_image_scanning_configuration()
            .repository_name(name)
            .image_scanning_configuration(configuration);
        match request.send().await {
            Ok(_) => Ok(ActionResult::Restored),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_repository_not_found_exception()) => {
                Ok(gone(name))
            }
            Err(error) => Err(AwsError::from_sdk("ecr:PutImageScanningConfiguration", error)),
        }
    }

    /// Tags IMMUTABLE, unless they already cannot be overwritten.
    async fn make_tags_immutable(
        &self,
        name: &str,
        described: Option<RepositoryState>,
    ) -> Result<ActionResult, AwsError> {
        let mutability = match described {
            Some(state) => state.tag_mutability,
            None => match self.repository(name).await? {
                Some(repository) => tag_mutability(&repository),
                None => return Ok(gone(name)),
            },
        };
        if !mutability.is_mutable() {
            return Ok(ActionResult::AlreadySafe);
        }
        let request = self
            .client
            .put_image_tag_mutability()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::Immutable);
        match request.send().await {
            Ok(_) => Ok(ActionResult::Restored),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_repository_not_found_exception()) => {
                Ok(gone(name))
            }
            Err(error) => Err(AwsError::from_sdk("ecr:PutImageTagMutability", error)),
        }
    }

    /// Takes exactly the public statements out of the repository's policy as it is now (what the
    /// plan's SetRepositoryPolicy or DeleteRepositoryPolicy was worked out from, unless someone
    /// changed it since: their other statements stay), deleting the policy when nothing else is left.
    async fn remove_public_statements(
        &self,
        name: &str,
        described: Option<RepositoryState>,
    ) -> Result<ActionResult, AwsError> {
        let policy = match described {
            Some(state) => state.policy,
            None => match self.policy(name, &CallBound::new(1)).await? {
                OrGone::Found(policy) => policy,
                OrGone::RepositoryGone => return Ok(gone(name)),
            },
        };
        let Some(policy) = policy.filter(|policy| !policy.public_statements().is_empty()) else {
            return Ok(ActionResult::AlreadySafe);
        };
        match policy.without_public_statements() {
            Some(text) => {
                match self.client.set_repository_policy().repository_name(name).policy_text(text).send().await {
                    Ok(_) => Ok(ActionResult::Restored),
                    Err(error) if error.as_service_error().is_some_and(|e| e.is_repository_not_found_exception()) => {
                        Ok(gone(name))
                    }
                    Err(error) => Err(AwsError::from_sdk("ecr:SetRepositoryPolicy", error)),
                }
            }
            None => match self.client.delete_repository_policy().repository_name(name).send().await {
                Ok(_) => Ok(ActionResult::Restored),
                Err(error)
                    if error.as_service_error().is_some_and(|e| e.is_repository_policy_not_found_exception()) =>
                {
                    Ok(ActionResult::AlreadySafe)
                }
                Err(error) if error.as_service_error().is_some_and(|e| e.is_repository_not_found_exception()) => {
                    Ok(gone(name))
                }
                Err(error) => Err(AwsError::from_sdk("ecr:DeleteRepositoryPolicy", error)),
            },
        }
    }
}

impl ServiceAdapter for EcrRepositories {
    fn service(&self) -> &'static str {
        SERVICE
    }

    /// A repository's tags (repositories belong to no cluster), and the repository as described,
    /// with which the handler confirms a change's finding (a registry that scans it anyway drops
    /// a scan-on-push finding) and which the first action on it reads.
    fn look_up<'a>(
        &'a self,
        _kind: &'static ResourceKind,
        resource: &'a str,
        _find_cluster: bool,
    ) -> BoxFuture<'a, Result<Option<LookedUp>, AwsError>> {
        Box::pin(async move {
            let Some(state) = self.describe_repository(resource).await? else { return Ok(None) };
            Ok(Some(LookedUp {
                facts: ResourceFacts { tags: state.tags.clone(), cluster: None },
                described: Some(Box::new(state) as Described),
            }))
        })
    }

    /// Each action reads the setting it restores first (from the look-up's description when
    /// there is one): a repository already safe is [`ActionResult::AlreadySafe`].
    fn run<'a>(
        &'a self,
        action: &'a Action,
        described: Option<Described>,
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<ActionResult, AwsError>> {
        Box::pin(async move {
            let action = typed::<EcrAction>(action, SERVICE)?;
            let described = described
                .and_then(|any| any.downcast::<RepositoryState>().ok())
                .map(|state| *state)
                .filter(|state| state.name == snapback_rules::ServiceAction::resource(action));
            match action {
                EcrAction::EnableScanOnPush { repository } => self.enable_scan_on_push(repository, described).await,
                EcrAction::MakeTagsImmutable { repository } => self.make_tags_immutable(repository, described).await,
                EcrAction::SetRepositoryPolicy { repository, .. }
                | EcrAction::DeleteRepositoryPolicy { repository } => {
                    self.remove_public_statements(repository, described).await
                }
            }
        })
    }

    /// Every repository of the registry (repositories belong to no cluster, so scope eks lists
    /// them all), with its policy, its tags and the registry's scanning configuration.
    fn sweep<'a>(&'a self, _context: &'a SweepContext) -> BoxFuture<'a, Result<Vec<Found>, AwsError>> {
        Box::pin(self.sweep_all())
    }
}

fn gone(name: &str) -> ActionResult {
    ActionResult::NotApplicable(format!("repository {name} no longer exists"))
}

fn scans_on_push(repository: &Repository) -> bool {
    repository.image_scanning_configuration().is_some_and(|configuration| configuration.scan_on_push())
}

/// MUTABLE when unsaid, as ECR's default.
fn tag_mutability(repository: &Repository) -> TagMutability {
    repository
        .image_tag_mutability()
        .map_or(TagMutability::Mutable, |mutability| TagMutability::parse(mutability.as_str()))
}

/// What the rules read of a described repository.
fn repository_state(
    name: &str,
    repository: &Repository,
    policy: Option<RepositoryPolicy>,
    tags: BTreeMap<String, String>,
    registry_scanning: RegistryScanning,
) -> RepositoryState {
    RepositoryState {
        name: name.to_owned(),
        scan_on_push: scans_on_push(repository),
        tag_mutability: tag_mutability(repository),
        encryption: repository.encryption_configuration().map_or_else(Encryption::aes256, |configuration| Encryption {
            encryption_type: configuration.encryption_type().as_str().to_owned(),
            kms_key: configuration.kms_key().map(str::to_owned),
        }),
        policy,
        tags,
        registry_scanning,
    }
}
