//! The one seam between the pipeline and a service: look up what policy needs about a resource,
//! run one of the service's restore actions within the deadline. Object-safe, so a function holds
//! a list of adapters and a new service changes neither the handler nor this trait.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use snapback_rules::{Action, ResourceFacts, ResourceKind};

use crate::error::AwsError;
use crate::sweep::SweepContext;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A resource as an adapter just described it, handed back to the adapter's first action on it
/// (an EKS cluster's description saves the action its own DescribeCluster).
pub type Described = Box<dyn Any + Send + Sync>;

/// What a look-up found: the facts policy needs, and the description behind them.
pub struct LookedUp {
    pub facts: ResourceFacts,
    pub described: Option<Described>,
}

/// A resource a sweep found, as its slice's state type (`GroupState`, `EksState`), ready to be
/// judged as a `DescribedState`.
pub struct Found {
    pub kind: &'static ResourceKind,
    pub resource: String,
    pub state: Box<dyn Any + Send + Sync>,
    /// What policy needs about the resource, when the sweep already knows it (spares a look-up).
    pub facts: Option<ResourceFacts>,
}

impl std::fmt::Debug for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Found").field("kind", &self.kind.name).field("resource", &self.resource).finish_non_exhaustive()
    }
}

/// What running one action achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionResult {
    Restored,
    /// Already in the safe state: success without a change.
    AlreadySafe,
    /// Nothing to do, for a reason worth logging (a modified rule that is egress, a cluster
    /// that no longer exists).
    NotApplicable(String),
    /// Deliberately left alone although unsafe, for a reason the alert must carry (the
    /// cluster's last admin, snapback's own role).
    Refused(String),
}

/// One AWS service's I/O.
pub trait ServiceAdapter: Send + Sync {
    /// The slice it serves (`snapback_rules::services::<service>::SERVICE`).
    fn service(&self) -> &'static str;

    /// Tags and owning cluster of a resource of `kind`; None when it no longer exists.
    /// `find_cluster` asks for the owning cluster even when the tags do not name it (scope eks).
    fn look_up<'a>(
        &'a self,
        kind: &'static ResourceKind,
        resource: &'a str,
        find_cluster: bool,
    ) -> BoxFuture<'a, Result<Option<LookedUp>, AwsError>>;

    /// Runs one of this service's actions. Idempotent: a second run answers
    /// [`ActionResult::AlreadySafe`]. `described` is the resource as `look_up` found it.
    fn run<'a>(
        &'a self,
        action: &'a Action,
        described: Option<Described>,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<ActionResult, AwsError>>;

    /// Every resource of this service in the account and region that `context`'s scope can
    /// judge, described for the rules' state checks (every page of every list).
    fn sweep<'a>(&'a self, context: &'a SweepContext) -> BoxFuture<'a, Result<Vec<Found>, AwsError>>;
}

/// The typed action for adapter `T`'s service; a mismatch is a wiring mistake, not a retry.
pub(crate) fn typed<'a, T: snapback_rules::ServiceAction>(
    action: &'a Action,
    adapter: &'static str,
) -> Result<&'a T, AwsError> {
    action.downcast::<T>().ok_or_else(|| {
        AwsError::permanent("run action", format!("the {adapter} adapter cannot run {}", action.describe()))
    })
}

/// A shared adapter is an adapter (tests keep a handle on the one the handler holds).
impl<T: ServiceAdapter + ?Sized> ServiceAdapter for std::sync::Arc<T> {
    fn service(&self) -> &'static str {
        self.as_ref().service()
    }

    fn look_up<'a>(
        &'a self,
        kind: &'static ResourceKind,
        resource: &'a str,
        find_cluster: bool,
    ) -> BoxFuture<'a, Result<Option<LookedUp>, AwsError>> {
        self.as_ref().look_up(kind, resource, find_cluster)
    }

    fn run<'a>(
        &'a self,
        action: &'a Action,
        described: Option<Described>,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<ActionResult, AwsError>> {
        self.as_ref().run(action, described, deadline)
    }

    fn sweep<'a>(&'a self, context: &'a SweepContext) -> BoxFuture<'a, Result<Vec<Found>, AwsError>> {
        self.as_ref().sweep(context)
    }
}
