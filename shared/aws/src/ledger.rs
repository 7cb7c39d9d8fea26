//! The ledger: one DynamoDB table (string partition key `pk`, string sort key `sk`) that
//! remembers, per account and region, what snapback found and alerted, which events it has
//! handled, alerts it could not publish yet, and where an unfinished sweep stopped.
//!
//! | item | `pk` | `sk` |
//! |---|---|---|
//! | a finding | `<account>#<region>` | `finding#<rule>#<resource>` |
//! | an event's claim | `<account>#<region>` | `event#<event id>` |
//! | an alert not yet published | `<account>#<region>` | `pending#<event id>#<resource>` |
//! | an unfinished sweep | `<account>#<region>` | `sweep#cursor` |
//!
//! Times are epoch milliseconds (two sweeps, or a sweep and an event, may fall in one second);
//! `expires_at` is the table's TTL attribute, in epoch seconds as DynamoDB reads it (claims,
//! pending alerts and resolved findings expire; open findings never do).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;

use crate::adapter::BoxFuture;
use crate::error::{error_code, AwsError};

/// How long an event's claim is remembered: longer than Lambda's retries and EventBridge's
/// redelivery (24 h), so a late duplicate is still recognised.
const CLAIM_KEPT_SECONDS: i64 = 7 * 24 * 3600;
const MS: i64 = 1000;
/// How long an alert waits to be published before the table forgets it.
const PENDING_KEPT_SECONDS: i64 = 14 * 24 * 3600;
/// How long a route's last heartbeat is kept: a route gone that long is gone from the deployment.
const HEARTBEAT_KEPT_SECONDS: i64 = 30 * 24 * 3600;
/// How long a resolved finding is kept, so a finding that comes back is known as a return.
const RESOLVED_KEPT_SECONDS: i64 = 30 * 24 * 3600;

/// The account and region a ledger item is about: its partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LedgerScope {
    pub account: String,
    pub region: String,
}

impl LedgerScope {
    pub fn new(account: Option<&str>, region: Option<&str>) -> LedgerScope {
        LedgerScope {
            account: account.unwrap_or("unknown-account").to_owned(),
            region: region.unwrap_or("unknown-region").to_owned(),
        }
    }

    fn pk(&self) -> AttributeValue {
        AttributeValue::S(format!("{}#{}", self.account, self.region))
    }
}

/// Whether this delivery of an event may act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The first delivery.
    First,
    /// An earlier attempt failed (or died): this is Lambda's retry, which must finish its work.
    /// `restoring`: the findings (`rule resource`) that attempt was restoring when it stopped,
    /// as it wrote them before acting; one found safe now was restored by it, and its alert is
    /// this attempt's to send.
    Retry { restoring: Vec<String> },
    /// Another delivery is handling the event now, holding it until `until` (epoch ms): it may
    /// finish, or die and leave it to a retry after that.
    Held { until: i64 },
    /// Another delivery handled the event: nothing to do.
    Duplicate,
}

/// Open: alerted and still there. Resolved: restored, or gone since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    Open,
    Resolved,
}

impl EntryStatus {
    fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Open => "open",
            EntryStatus::Resolved => "resolved",
        }
    }
}

/// What the ledger remembers of one rule's finding on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub rule: String,
    pub resource: String,
    pub status: EntryStatus,
    /// Of what was found: a different fingerprint is a changed finding.
    pub fingerprint: String,
    /// The outcome last alerted (`would-remediate`, `exempt`, `failed`, `remediated`).
    pub outcome: String,
    pub cluster: Option<String>,
    pub first_seen: i64,
    /// When a sweep or an event last saw it.
    pub last_seen: i64,
    pub last_alerted: Option<i64>,
    /// The observation (event id, or sweep id) that last alerted it.
    pub last_event: Option<String>,
}

impl Entry {
    fn sort_key(rule: &str, resource: &str) -> String {
        format!("finding#{rule}#{resource}")
    }
}

/// Where an unfinished sweep stopped: it goes on from there at the next run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepCursor {
    /// When the sweep began (epoch ms): what it has not seen since is resolved at its end.
    pub started_at: i64,
    /// The service being swept, and the last resource (in sweep order) it finished.
    pub service: String,
    pub after: Option<String>,
}

/// An alert kept because it could not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAlert {
    sort_key: String,
    /// The alert as JSON (`Alert::to_json`).
    pub alert: String,
}

/// The last heartbeat that came through one of a guard's rules on one bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatSeen {
    pub bus: String,
    /// `<function>-<route>`, as the Terraform module keys the rule.
    pub route: String,
    pub event_id: String,
    pub sent_at: Option<String>,
    /// Epoch milliseconds.
    pub received_at: i64,
}

/// The ledger's operations. Object-safe, so the pipeline holds one or none.
pub trait Ledger: Send + Sync {
    /// Claims `event_id` for this delivery for `lease_seconds` (a retry may take over after).
    fn claim<'a>(
        &'a self,
        scope: &'a LedgerScope,
        event_id: &'a str,
        now: i64,
        lease_seconds: i64,
    ) -> BoxFuture<'a, Result<Claim, AwsError>>;

    /// Notes on the event's claim the findings (`rule resource`) about to be restored, before
    /// acting: a retry of an attempt that died after the restore knows whose alert is missing.
    fn note_restoring<'a>(
        &'a self,
        scope: &'a LedgerScope,
        event_id: &'a str,
        restoring: &'a [String],
    ) -> BoxFuture<'a, Result<(), AwsError>>;

    /// Marks the event handled (`done`), or failed so that Lambda's retry may claim it.
    fn settle<'a>(
        &'a self,
        scope: &'a LedgerScope,
        event_id: &'a str,
        done: bool,
    ) -> BoxFuture<'a, Result<(), AwsError>>;

    fn entry<'a>(
        &'a self,
        scope: &'a LedgerScope,
        rule: &'a str,
        resource: &'a str,
    ) -> BoxFuture<'a, Result<Option<Entry>, AwsError>>;

    fn record<'a>(&'a self, scope: &'a LedgerScope, entry: &'a Entry) -> BoxFuture<'a, Result<(), AwsError>>;

    /// Every open finding of the account and region (every page).
    fn open_entries<'a>(&'a self, scope: &'a LedgerScope) -> BoxFuture<'a, Result<Vec<Entry>, AwsError>>;

    fn keep_pending<'a>(
        &'a self,
        scope: &'a LedgerScope,
        event_id: &'a str,
        resource: &'a str,
        alert: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<(), AwsError>>;

    /// Alerts kept for `event_id`, or for every event of the account and region when None.
    fn pending<'a>(
        &'a self,
        scope: &'a LedgerScope,
        event_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<PendingAlert>, AwsError>>;

    fn forget_pending<'a>(
        &'a self,
        scope: &'a LedgerScope,
        pending: &'a PendingAlert,
    ) -> BoxFuture<'a, Result<(), AwsError>>;

    fn cursor<'a>(&'a self, scope: &'a LedgerScope) -> BoxFuture<'a, Result<Option<SweepCursor>, AwsError>>;

    /// Records a heartbeat's arrival over the last one of its rule and bus.
    fn record_heartbeat<'a>(
        &'a self,
        scope: &'a LedgerScope,
        heartbeat: &'a HeartbeatSeen,
    ) -> BoxFuture<'a, Result<(), AwsError>>;

    /// The last heartbeat of every rule and bus that had one.
    fn heartbeats<'a>(&'a self, scope: &'a LedgerScope) -> BoxFuture<'a, Result<Vec<HeartbeatSeen>, AwsError>>;

    /// Saves where the sweep stopped, or clears it when the sweep finished (None).
    fn save_cursor<'a>(
        &'a self,
        scope: &'a LedgerScope,
        cursor: Option<&'a SweepCursor>,
    ) -> BoxFuture<'a, Result<(), AwsError>>;
}

/// [`Ledger`] in a DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoLedger {
    client: Client,
    table: String,
}

fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

fn n(number: i64) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

type Item = HashMap<String, AttributeValue>;

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|value| value.as_s().ok()).cloned()
}

/// A set of strings (empty when absent).
fn strings(item: &Item, name: &str) -> Vec<String> {
    match item.get(name) {
        Some(AttributeValue::Ss(values)) => values.clone(),
        _ => Vec::new(),
    }
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|value| value.as_n().ok()).and_then(|value| value.parse().ok())
}

fn entry_of(item: &Item) -> Option<Entry> {
    Some(Entry {
        rule: text(item, "rule")?,
        resource: text(item, "resource")?,
        status: match text(item, "status")?.as_str() {
            "open" => EntryStatus::Open,
            _ => EntryStatus::Resolved,
        },
        fingerprint: text(item, "fingerprint").unwrap_or_default(),
        outcome: text(item, "outcome").unwrap_or_default(),
        cluster: text(item, "cluster"),
        first_seen: number(item, "first_seen").unwrap_or_default(),
        last_seen: number(item, "last_seen").unwrap_or_default(),
        last_alerted: number(item, "last_alerted"),
        last_event: text(item, "last_event"),
    })
}

impl DynamoLedger {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoLedger {
        DynamoLedger { client, table: table.into() }
    }

    /// The ledger in `table`, with a client from the shared SDK configuration.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> DynamoLedger {
        DynamoLedger::new(Client::new(sdk), table)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// A PutItem of the item `sort_key` in the scope's partition; the caller adds the rest.
    fn put(&self, scope: &LedgerScope, sort_key: impl Into<String>) -> PutItemFluentBuilder {
        self.client.put_item().table_name(&self.table).item("pk", scope.pk()).item("sk", s(sort_key))
    }

    /// Every item of the partition whose sort key starts with `prefix`, every page.
    async fn query(&self, scope: &LedgerScope, prefix: &str) -> Result<Vec<Item>, AwsError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let answer = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", scope.pk())
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|error| AwsError::from_sdk("dynamodb:Query", error))?;
            items.extend(answer.items().iter().cloned());
            match answer.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(items),
            }
        }
    }

    async fn delete(&self, scope: &LedgerScope, sort_key: String) -> Result<(), AwsError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", scope.pk())
            .key("sk", s(sort_key))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| AwsError::from_sdk("dynamodb:DeleteItem", error))
    }

    async fn get(&self, scope: &LedgerScope, sort_key: String) -> Result<Option<Item>, AwsError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", scope.pk())
            .key("sk", s(sort_key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("dynamodb:GetItem", error))?;
        Ok(answer.item)
    }

    async fn claim_event(
        &self,
        scope: &LedgerScope,
        event_id: &str,
        now: i64,
        lease_seconds: i64,
    ) -> Result<Claim, AwsError> {
        // An update, not a put: a retry keeps the restores its dead attempts noted.
        let answer = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", scope.pk())
            .key("sk", s(format!("event#{event_id}")))
            .update_expression("SET #status = :running, lease_until = :lease, expires_at = :expires")
            // A new event, an attempt that failed, or one that died holding its lease.
            .condition_expression("attribute_not_exists(sk) OR #status = :failed OR lease_until < :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":lease", n(now + lease_seconds * MS))
            .expression_attribute_values(":expires", n(now / MS + CLAIM_KEPT_SECONDS))
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match answer {
            Ok(answer) => match answer.attributes().filter(|old| !old.is_empty()) {
                Some(old) => Ok(Claim::Retry { restoring: strings(old, "restoring") }),
                None => Ok(Claim::First),
            },
            Err(error) if error_code(&error) == Some("ConditionalCheckFailedException") => {
                // Done, or running under a lease that has not run out.
                let held = self.get(scope, format!("event#{event_id}")).await?;
                match held.as_ref().filter(|item| text(item, "status").as_deref() == Some("running")) {
                    Some(item) => Ok(Claim::Held { until: number(item, "lease_until").unwrap_or(now) }),
                    None => Ok(Claim::Duplicate),
                }
            }
            Err(error) => Err(AwsError::from_sdk("dynamodb:UpdateItem", error)),
        }
    }

    async fn note_restoring_event(
        &self,
        scope: &LedgerScope,
        event_id: &str,
        restoring: &[String],
    ) -> Result<(), AwsError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", scope.pk())
            .key("sk", s(format!("event#{event_id}")))
            .update_expression("ADD restoring :restoring")
            .expression_attribute_values(":restoring", AttributeValue::Ss(restoring.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| AwsError::from_sdk("dynamodb:UpdateItem", error))
    }

    async fn settle_event(&self, scope: &LedgerScope, event_id: &str, done: bool) -> Result<(), AwsError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", scope.pk())
            .key("sk", s(format!("event#{event_id}")))
            // Its alerts are published or kept by now: a retry has no restore of its to alert.
            .update_expression("SET #status = :status REMOVE lease_until, restoring")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(if done { "done" } else { "failed" }))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| AwsError::from_sdk("dynamodb:UpdateItem", error))
    }

    async fn put_entry(&self, scope: &LedgerScope, entry: &Entry) -> Result<(), AwsError> {
        let mut request = self
            .put(scope, Entry::sort_key(&entry.rule, &entry.resource))
            .item("rule", s(&entry.rule))
            .item("resource", s(&entry.resource))
            .item("status", s(entry.status.as_str()))
            .item("fingerprint", s(&entry.fingerprint))
            .item("outcome", s(&entry.outcome))
            .item("first_seen", n(entry.first_seen))
            .item("last_seen", n(entry.last_seen));
        if let Some(cluster) = &entry.cluster {
            request = request.item("cluster", s(cluster));
        }
        if let Some(at) = entry.last_alerted {
            request = request.item("last_alerted", n(at));
        }
        if let Some(event) = &entry.last_event {
            request = request.item("last_event", s(event));
        }
        if entry.status == EntryStatus::Resolved {
            request = request.item("expires_at", n(entry.last_seen / MS + RESOLVED_KEPT_SECONDS));
        }
        request.send().await.map(|_| ()).map_err(|error| AwsError::from_sdk("dynamodb:PutItem", error))
    }
}

impl Ledger for DynamoLedger {
    fn claim<'a>(
        &'a self,
        scope: &'a LedgerScope,
        event_id: &'a str,
        now: i64,
        lease_seconds: i64,
    ) -> BoxFuture<'a, Result<Claim, AwsError>> {
        Box::pin(self.claim_event(scope, event_id, now, lease_seconds))
    }

    fn note_restoring<'a>(
        &'a self,
        scope: &'a LedgerScope,
        event_id: &'a str,
        restoring: &'a [String],
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(self.note_restoring_event(scope, event_id, restoring))
    }

    fn settle<'a>(
        &'a self,
        scope: &'a LedgerScope,
        event_id: &'a str,
        done: bool,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(self.settle_event(scope, event_id, done))
    }

    fn entry<'a>(
        &'a self,
        scope: &'a LedgerScope,
        rule: &'a str,
        resource: &'a str,
    ) -> BoxFuture<'a, Result<Option<Entry>, AwsError>> {
        Box::pin(async move { Ok(self.get(scope, Entry::sort_key(rule, resource)).await?.as_ref().and_then(entry_of)) })
    }

    fn record<'a>(&'a self, scope: &'a LedgerScope, entry: &'a Entry) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(self.put_entry(scope, entry))
    }

    fn open_entries<'a>(&'a self, scope: &'a LedgerScope) -> BoxFuture<'a, Result<Vec<Entry>, AwsError>> {
        Box::pin(async move {
            let items = self.query(scope, "finding#").await?;
            Ok(items.iter().filter_map(entry_of).filter(|entry| entry.status == EntryStatus::Open).collect())
        })
    }

    fn keep_pending<'a>(
        &'a self,
        scope: &'a LedgerScope,
        event_id: &'a str,
        resource: &'a str,
        alert: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            self.put(scope, format!("pending#{event_id}#{resource}"))
                .item("alert", s(alert))
                .item("kept_at", n(now))
                .item("expires_at", n(now / MS + PENDING_KEPT_SECONDS))
                .send()
                .await
                .map(|_| ())
                .map_err(|error| AwsError::from_sdk("dynamodb:PutItem", error))
        })
    }

    fn pending<'a>(
        &'a self,
        scope: &'a LedgerScope,
        event_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<PendingAlert>, AwsError>> {
        Box::pin(async move {
            let prefix = match event_id {
                Some(event_id) => format!("pending#{event_id}#"),
                None => "pending#".to_owned(),
            };
            let items = self.query(scope, &prefix).await?;
            Ok(items
                .iter()
                .filter_map(|item| Some(PendingAlert { sort_key: text(item, "sk")?, alert: text(item, "alert")? }))
                .collect())
        })
    }

    fn forget_pending<'a>(
        &'a self,
        scope: &'a LedgerScope,
        pending: &'a PendingAlert,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(self.delete(scope, pending.sort_key.clone()))
    }

    fn record_heartbeat<'a>(
        &'a self,
        scope: &'a LedgerScope,
        heartbeat: &'a HeartbeatSeen,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            let mut request = self
                .put(scope, format!("heartbeat#{}#{}", heartbeat.bus, heartbeat.route))
                .item("bus", s(&heartbeat.bus))
                .item("route", s(&heartbeat.route))
                .item("event_id", s(&heartbeat.event_id))
                .item("received_at", n(heartbeat.received_at))
                .item("expires_at", n(heartbeat.received_at / 1000 + HEARTBEAT_KEPT_SECONDS));
            if let Some(sent_at) = &heartbeat.sent_at {
                request = request.item("sent_at", s(sent_at));
            }
            request.send().await.map(|_| ()).map_err(|error| AwsError::from_sdk("dynamodb:PutItem", error))
        })
    }

    fn heartbeats<'a>(&'a self, scope: &'a LedgerScope) -> BoxFuture<'a, Result<Vec<HeartbeatSeen>, AwsError>> {
        Box::pin(async move {
            let items = self.query(scope, "heartbeat#").await?;
            Ok(items
                .iter()
                .filter_map(|item| {
                    Some(HeartbeatSeen {
                        bus: text(item, "bus")?,
                        route: text(item, "route")?,
                        event_id: text(item, "event_id")?,
                        sent_at: text(item, "sent_at"),
                        received_at: number(item, "received_at")?,
                    })
                })
                .collect())
        })
    }

    fn cursor<'a>(&'a self, scope: &'a LedgerScope) -> BoxFuture<'a, Result<Option<SweepCursor>, AwsError>> {
        Box::pin(async move {
            Ok(self.get(scope, "sweep#cursor".to_owned()).await?.and_then(|item| {
                Some(SweepCursor {
                    started_at: number(&item, "started_at")?,
                    service: text(&item, "service")?,
                    after: text(&item, "after"),
                })
            }))
        })
    }

    fn save_cursor<'a>(
        &'a self,
        scope: &'a LedgerScope,
        cursor: Option<&'a SweepCursor>,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            let Some(cursor) = cursor else { return self.delete(scope, "sweep#cursor".to_owned()).await };
            let mut request = self
                .put(scope, "sweep#cursor")
                .item("started_at", n(cursor.started_at))
                .item("service", s(&cursor.service));
            if let Some(after) = &cursor.after {
                request = request.item("after", s(after));
            }
            request.send().await.map(|_| ()).map_err(|error| AwsError::from_sdk("dynamodb:PutItem", error))
        })
    }
}
