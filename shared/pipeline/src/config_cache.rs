use std::sync::Arc;
use std::time::{Duration, Instant};

use snapback_aws::{AwsError, ConfigSource, FileConfigSource, SsmConfigSource};

use crate::settings::ConfigLocation;
use snapback_rules::Config;
use tokio::sync::Mutex;

/// The configuration, fetched at most once per TTL. A bad document never replaces a good one:
/// the last good config (or the built-in defaults, before any) stays in force and every alert
/// carries a note saying so until the document is fixed.
pub struct ConfigCache {
    source: Option<Box<dyn ConfigSource>>,
    ttl: Duration,
    state: Mutex<State>,
}

struct State {
    config: Arc<Config>,
    note: Option<String>,
    fetched_at: Option<Instant>,
    ever_loaded: bool,
}

/// The config in force and, when it is not the one the source holds, why.
#[derive(Clone, Debug)]
pub struct CurrentConfig {
    pub config: Arc<Config>,
    pub note: Option<String>,
}

impl ConfigCache {
    /// `source` None means the built-in defaults, always.
    pub fn new(source: Option<Box<dyn ConfigSource>>, ttl: Duration) -> Self {
        ConfigCache {
            source,
            ttl,
            state: Mutex::new(State {
                config: Arc::new(Config::default()),
                note: None,
                fetched_at: None,
                ever_loaded: false,
            }),
        }
    }

    /// The source the function's settings name: a file, an SSM parameter, or the built-in defaults.
    pub fn from_settings(sdk: &snapback_aws::SdkConfig, settings: &crate::Settings) -> Self {
        let source: Option<Box<dyn ConfigSource>> = match &settings.config {
            ConfigLocation::BuiltIn => None,
            ConfigLocation::File(path) => Some(Box::new(FileConfigSource::new(path))),
            ConfigLocation::Ssm(name) => Some(Box::new(SsmConfigSource::new(aws_sdk_ssm::Client::new(sdk), name))),
        };
        ConfigCache::new(source, settings.config_ttl)
    }

    pub async fn current(&self) -> Result<CurrentConfig, AwsError> {
        let mut state = self.state.lock().await;
        let Some(source) = &self.source else {
            return Ok(CurrentConfig { config: state.config.clone(), note: None });
        };
        let fresh = state.fetched_at.is_some_and(|at| at.elapsed() < self.ttl);
        if !fresh {
            match source.fetch().await {
                Ok(text) => match Config::from_json(&text) {
                    Ok(config) => {
                        state.config = Arc::new(config);
                        state.note = None;
                        state.ever_loaded = true;
                    }
                    Err(error) => {
                        let kept = if state.ever_loaded { "the last good config" } else { "the built-in defaults" };
                        let note = format!("the config in {} is invalid ({error}); keeping {kept}", source.describe());
                        tracing::error!(config_source = source.describe(), %error, "config refused, keeping {kept}");
                        state.note = Some(note);
                    }
                },
                // Unreadable before anything was ever read: let Lambda retry rather than act
                // on defaults the operator may have changed.
                Err(error) if error.is_retryable() && !state.ever_loaded => return Err(error),
                Err(error) => {
                    let kept = if state.ever_loaded { "the last good config" } else { "the built-in defaults" };
                    tracing::error!(config_source = source.describe(), %error, "config unreadable, keeping {kept}");
                    state.note = Some(format!(
                        "the config could not be read from {} ({error}); keeping {kept}",
                        source.describe()
                    ));
                }
            }
            state.fetched_at = Some(Instant::now());
        }
        Ok(CurrentConfig { config: state.config.clone(), note: state.note.clone() })
    }
}
