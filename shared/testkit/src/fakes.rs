//! Fakes behind the pipeline's traits, for the failures moto cannot be made to produce on demand
//! (access denied on one call, throttling that outlasts the SDK's retries, a config document that
//! turns bad after a good one). One shape for every service: a fake adapter is told its slice.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::Value;
use snapback_aws::{
    ActionResult, AlertPublisher, AwsError, BoxFuture, ConfigSource, Described, Found, LookedUp, ServiceAdapter,
};
use snapback_notify::Alert;
use snapback_rules::{Action, ResourceFacts, ResourceKind};

/// An adapter for slice `service` whose resources all exist, tagged as part of `cluster`, and
/// whose every action answers `fail` (an error made fresh each time) or is restored.
pub struct FakeAdapter {
    pub service: &'static str,
    pub cluster: Option<String>,
    pub fail: Option<fn() -> AwsError>,
    /// What a sweep finds (made fresh each time); nothing without it.
    pub sweeps: Option<fn() -> Vec<Found>>,
    /// What was run, as described.
    pub ran: Mutex<Vec<String>>,
    /// The resources looked up, as `kind resource`.
    pub looked_up: Mutex<Vec<String>>,
}

impl FakeAdapter {
    /// Resources of cluster `prod`, every action restored.
    pub fn new(service: &'static str) -> FakeAdapter {
        FakeAdapter {
            service,
            cluster: Some("prod".to_owned()),
            fail: None,
            sweeps: None,
            ran: Mutex::new(Vec::new()),
            looked_up: Mutex::new(Vec::new()),
        }
    }

    pub fn sweeping(mut self, sweeps: fn() -> Vec<Found>) -> FakeAdapter {
        self.sweeps = Some(sweeps);
        self
    }

    pub fn looked_up(&self) -> Vec<String> {
        self.looked_up.lock().unwrap().clone()
    }

    pub fn failing(mut self, fail: fn() -> AwsError) -> FakeAdapter {
        self.fail = Some(fail);
        self
    }

    pub fn ran(&self) -> Vec<String> {
        self.ran.lock().unwrap().clone()
    }
}

impl ServiceAdapter for FakeAdapter {
    fn service(&self) -> &'static str {
        self.service
    }

    fn look_up<'a>(
        &'a self,
        kind: &'static ResourceKind,
        resource: &'a str,
        _find_cluster: bool,
    ) -> BoxFuture<'a, Result<Option<LookedUp>, AwsError>> {
        self.looked_up.lock().unwrap().push(format!("{} {resource}", kind.name));
        let tags: BTreeMap<String, String> =
            self.cluster.iter().map(|cluster| ("aws:eks:cluster-name".to_owned(), cluster.clone())).collect();
        let facts = ResourceFacts { tags, cluster: self.cluster.clone() };
        Box::pin(async move { Ok(Some(LookedUp { facts, described: None })) })
    }

    fn run<'a>(
        &'a self,
        action: &'a Action,
        _described: Option<Described>,
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<ActionResult, AwsError>> {
        self.ran.lock().unwrap().push(action.describe());
        let answer = match self.fail {
            Some(error) => Err(error()),
            None => Ok(ActionResult::Restored),
        };
        Box::pin(async move { answer })
    }

    /// What `sweeps` makes, or nothing.
    fn sweep<'a>(&'a self, _context: &'a snapback_aws::SweepContext) -> BoxFuture<'a, Result<Vec<Found>, AwsError>> {
        let found = self.sweeps.map(|sweeps| sweeps()).unwrap_or_default();
        Box::pin(async move { Ok(found) })
    }
}

/// The alerts published, in their machine form, as an SQS or Lambda subscriber receives them.
#[derive(Default)]
pub struct Outbox(pub Mutex<Vec<Value>>);

impl Outbox {
    pub fn messages(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }
}

impl AlertPublisher for Outbox {
    fn publish<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), AwsError>> {
        let structure: Value = serde_json::from_str(&alert.sns_message()).expect("an SNS message structure");
        let machine = structure["sqs"].as_str().expect("an sqs body").to_owned();
        self.0.lock().unwrap().push(serde_json::from_str(&machine).expect("the JSON message"));
        Box::pin(async { Ok(()) })
    }
}

/// Serves the documents in order, then the last one forever.
pub struct Documents(pub Mutex<Vec<&'static str>>);

impl Documents {
    pub fn new(documents: Vec<&'static str>) -> Documents {
        Documents(Mutex::new(documents))
    }
}

impl ConfigSource for Documents {
    fn fetch(&self) -> BoxFuture<'_, Result<String, AwsError>> {
        let mut documents = self.0.lock().unwrap();
        let next = if documents.len() > 1 { documents.remove(0) } else { documents[0] };
        let next = next.to_owned();
        Box::pin(async move { Ok(next) })
    }

    fn describe(&self) -> String {
        "test documents".into()
    }
}
