//! A guard's side of the heartbeat ([`snapback_rules::heartbeat`]): a heartbeat that came
//! through one of its rules is recorded in the ledger and counted in a metric, whose alarm
//! (missing data breaching) tells when one stops coming.

use snapback_aws::HeartbeatSeen;
use snapback_aws::LedgerScope;
use snapback_rules::heartbeat::{Heartbeat, NotAHeartbeat};
use time::OffsetDateTime;

use crate::handler::{Guard, HandlerError};
use crate::outcome::Report;

impl Guard {
    /// Records a heartbeat for this function put by its own account; anything else with the
    /// heartbeat's source is logged and left alone (no ledger write, no metric).
    pub(crate) async fn heartbeat(&self, heartbeat: Result<Heartbeat, NotAHeartbeat>) -> Result<Report, HandlerError> {
        let ignored = |event_id: Option<String>, reason: String| {
            tracing::warn!(event_id = event_id.as_deref().unwrap_or("unknown"), reason = %reason, "heartbeat ignored");
            Ok(Report { event_id, ignored: Some(reason), ..Report::default() })
        };
        let heartbeat = match heartbeat {
            Ok(heartbeat) => heartbeat,
            Err(error) => return ignored(None, error.to_string()),
        };
        let id = Some(heartbeat.id.clone());
        if heartbeat.function != self.function.name {
            return ignored(id, format!("a heartbeat for {}, not {}", heartbeat.function, self.function.name));
        }
        // EventBridge sets the account: another account's (a member's, on the central bus) would
        // vouch for a path it does not use.
        if let Some(home) = self.accounts.as_ref().map(|accounts| accounts.home_account()) {
            if heartbeat.account != home {
                return ignored(id, format!("a heartbeat put by account {}, not {home}", heartbeat.account));
            }
        }
        let route = heartbeat.route_key();
        let now = OffsetDateTime::now_utc();
        if let Some(ledger) = self.ledger.as_deref() {
            let seen = HeartbeatSeen {
                bus: heartbeat.bus.clone(),
                route: route.clone(),
                event_id: heartbeat.id.clone(),
                sent_at: heartbeat.sent_at.clone(),
                received_at: (now.unix_timestamp_nanos() / 1_000_000) as i64,
            };
            let scope = LedgerScope::new(Some(&heartbeat.account), heartbeat.region.as_deref());
            ledger.record_heartbeat(&scope, &seen).await?;
        }
        let line = crate::metrics::heartbeat_metrics(
            self.function.name,
            &route,
            &heartbeat.bus,
            heartbeat.sent_at.as_deref(),
            now,
        );
        crate::metrics::emit(&line);
        tracing::info!(event_id = %heartbeat.id, route = %route, bus = %heartbeat.bus, "heartbeat recorded");
        Ok(Report { event_id: id, heartbeat: Some(format!("{route} on {}", heartbeat.bus)), ..Report::default() })
    }
}
