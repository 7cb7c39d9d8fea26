//! The handler path every snapback function shares: event → guards → findings → policy →
//! execute → alert → one JSON log line per decision.

pub mod config_cache;
mod guard;
mod settings;
mod slack_relay;

pub use config_cache::ConfigCache;
pub use guard::{deadline, AwsGuard, DecisionRecord, Guard, HandlerError, Report};
pub use settings::{ConfigLocation, Settings, SettingsError};
pub use slack_relay::{RelayError, RelayReport, SlackRelay};

/// JSON logs, one object per line, level from `RUST_LOG` (default info). CloudWatch Logs
/// Insights can then answer "what did snapback do today" from the decision lines.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}

#[cfg(test)]
mod tests;
