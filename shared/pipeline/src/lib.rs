//! The handler path every snapback function shares: payload → observation → screen → the
//! function's rules → facts and policy → restores → one alert per resource → one JSON log line
//! and one embedded-metric-format line per decision.

pub mod config_cache;
mod fanout;
mod handler;
mod heartbeat;
pub mod ledger;
pub mod metrics;
mod outcome;
mod settings;
mod slack_relay;
mod sweep;

pub use config_cache::{ConfigCache, CurrentConfig};
pub use fanout::{fan_out, is_queue_batch, is_scheduled_sweep, sweep_messages, FanOutSettings, SweepTarget};
pub use handler::{account_of_function, deadline, Guard, HandlerError};
pub use outcome::{DecisionOutcome, DecisionRecord, Report};
pub use settings::{ConfigLocation, Settings, SettingsError};
pub use slack_relay::{RelayError, RelayReport, SlackRelay};
pub use sweep::{SweepReport, DEADLINE_MARGIN};

/// Logs as the Lambda runtime's default subscriber writes them: JSON (one object per line, the
/// default, so CloudWatch Logs Insights can answer "what did snapback do today" from the decision
/// lines) unless `AWS_LAMBDA_LOG_FORMAT` is `Text`; the level from `AWS_LAMBDA_LOG_LEVEL`, else
/// `RUST_LOG`, else info.
pub fn init_tracing() {
    let (json, filter) = log_settings(|name| std::env::var(name).ok());
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stdout);
    let _ = match json {
        true => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init(),
        false => builder.without_time().try_init(),
    };
}

/// (JSON?, level filter) from the Lambda logging variables. A level below info applies to
/// snapback's own crates only: the SDK's and hyper's debug output would drown the decisions.
fn log_settings(lookup: impl Fn(&str) -> Option<String>) -> (bool, String) {
    let json = !lookup("AWS_LAMBDA_LOG_FORMAT").is_some_and(|format| format.eq_ignore_ascii_case("text"));
    let level = match lookup("AWS_LAMBDA_LOG_LEVEL").map(|level| level.to_ascii_lowercase()) {
        // Lambda's FATAL has no tracing level of its own.
        Some(level) if level == "fatal" => "error".to_owned(),
        Some(level) if level == "trace" || level == "debug" => format!("info,snapback={level}"),
        Some(level) if ["info", "warn", "error"].contains(&level.as_str()) => level,
        _ => lookup("RUST_LOG").filter(|filter| !filter.trim().is_empty()).unwrap_or_else(|| "info".to_owned()),
    };
    (json, level)
}

#[cfg(test)]
mod log_tests {
    use super::log_settings;

    #[test]
    fn lambda_log_format_and_level_win_over_rust_log() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        };
        assert_eq!(log_settings(env(&[])), (true, "info".to_owned()));
        assert_eq!(log_settings(env(&[("RUST_LOG", "debug")])), (true, "debug".to_owned()));
        assert_eq!(
            log_settings(env(&[
                ("AWS_LAMBDA_LOG_FORMAT", "Text"),
                ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
                ("RUST_LOG", "debug")
            ])),
            (false, "warn".to_owned())
        );
        assert_eq!(
            log_settings(env(&[("AWS_LAMBDA_LOG_FORMAT", "JSON"), ("AWS_LAMBDA_LOG_LEVEL", "FATAL")])),
            (true, "error".to_owned())
        );
        assert_eq!(log_settings(env(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")])), (true, "info,snapback=debug".to_owned()));
    }
}

#[cfg(test)]
mod tests;
