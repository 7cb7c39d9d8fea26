//! Acting where an event happened. A central deployment judges events from every account of an
//! organization and acts in the event's account and region: in its own account directly, in a
//! member account through a role there (`snapback-member` by default), assumed with
//! sts:AssumeRole. Adapters are kept per account, region and role across invocations,
//! credentials per account and role (every region of an account shares them), renewed before
//! they expire.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::identity::IdentityCache;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::{error::CredentialsError, future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::Mutex;

use crate::{AwsError, ServiceAdapter};

/// The adapters of one account and region.
pub type Adapters = Arc<Vec<Box<dyn ServiceAdapter>>>;

/// Builds a function's adapters over an SDK configuration (its slices, its protected principals).
pub type BuildAdapters = Arc<dyn Fn(&SdkConfig) -> Vec<Box<dyn ServiceAdapter>> + Send + Sync>;

/// Credentials are renewed when they have less than this left, so no call starts with
/// credentials about to expire.
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);

/// The longest session name STS accepts.
const SESSION_NAME_MAX: usize = 64;

/// At most this many (account, region, role) places keep their adapters (about 0.14 MB each):
/// the least recently used is dropped first, and its credentials with it once no region of the
/// account holds them. A warm function of an organization with more places assumes the role again
/// when an evicted one comes back.
pub const MAX_PLACES_KEPT: usize = 256;

/// The accounts and regions a function acts in, from its own (home) account.
pub struct Accounts {
    home_account: String,
    home_region: Option<String>,
    partition: String,
    base: SdkConfig,
    sts: aws_sdk_sts::Client,
    build: BuildAdapters,
    /// Nothing is awaited while either map is held: plain mutexes.
    reached: std::sync::Mutex<HashMap<Place, Reached>>,
    /// Counts uses, so the least recently used place is the one with the smallest mark.
    uses: std::sync::atomic::AtomicU64,
    /// Credentials per (account, role): IAM is global, so every region of an account shares them.
    credentials: std::sync::Mutex<HashMap<(String, String), Arc<MemberCredentials>>>,
}

/// (account, region, role name).
type Place = (String, String, String);

#[derive(Clone)]
struct Reached {
    adapters: Adapters,
    /// None in the home account (another region of it needs no role).
    credentials: Option<Arc<MemberCredentials>>,
    /// When it was last used, in `Accounts::uses`.
    last_used: u64,
}

impl Accounts {
    /// `home_account` is the function's own account (`partition` its ARN partition); `base` its
    /// SDK configuration, whose region is home.
    pub fn new(home_account: &str, partition: &str, base: &SdkConfig, build: BuildAdapters) -> Accounts {
        Accounts {
            home_account: home_account.to_owned(),
            home_region: base.region().map(|region| region.to_string()),
            partition: partition.to_owned(),
            base: base.clone(),
            sts: aws_sdk_sts::Client::new(base),
            build,
            reached: std::sync::Mutex::new(HashMap::new()),
            uses: std::sync::atomic::AtomicU64::new(0),
            credentials: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The function's own account.
    pub fn home_account(&self) -> &str {
        &self.home_account
    }

    /// Whether `account` and `region` are where the function runs (no role, its own clients).
    pub fn is_home(&self, account: &str, region: &str) -> bool {
        account == self.home_account && self.home_region.as_deref().is_none_or(|home| home == region)
    }

    /// The role ARN of `role_name` in `account`.
    pub fn role_arn(&self, account: &str, role_name: &str) -> String {
        format!("arn:{}:iam::{account}:role/{role_name}", self.partition)
    }

    /// The adapters for `account` and `region`, through `role_name` outside the home account.
    /// The first event for an account assumes the role (its session named after `session`);
    /// later ones reuse the credentials until shortly before they expire. A role that is missing
    /// or does not trust this function is a permanent error that names the role and the fix.
    pub async fn adapters(
        &self,
        account: &str,
        region: &str,
        role_name: &str,
        session: &str,
    ) -> Result<Adapters, AwsError> {
        let key = (account.to_owned(), region.to_owned(), role_name.to_owned());
        let now = self.uses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let reached = {
            let mut reached = self.reached.lock().expect("no panic while held");
            if !reached.contains_key(&key) && reached.len() >= MAX_PLACES_KEPT {
                self.evict_least_recent(&mut reached);
            }
            let place = reached.entry(key).or_insert_with(|| self.reach(account, region, role_name));
            place.last_used = now;
            place.clone()
        };
        if let Some(credentials) = &reached.credentials {
            credentials.current(Some(session)).await?;
        }
        Ok(reached.adapters)
    }

    fn reach(&self, account: &str, region: &str, role_name: &str) -> Reached {
        let mut sdk = self.base.to_builder().region(Region::new(region.to_owned()));
        let credentials = (account != self.home_account).then(|| {
            let mut credentials = self.credentials.lock().expect("no panic while held");
            let shared = credentials.entry((account.to_owned(), role_name.to_owned())).or_insert_with(|| {
                Arc::new(MemberCredentials {
                    sts: self.sts.clone(),
                    role_arn: self.role_arn(account, role_name),
                    account: account.to_owned(),
                    state: Mutex::new(None),
                })
            });
            shared.clone()
        });
        if let Some(credentials) = &credentials {
            // The member credentials keep themselves fresh; a second cache would only hide when.
            sdk = sdk
                .credentials_provider(SharedCredentialsProvider::new(MemberProvider(credentials.clone())))
                .identity_cache(IdentityCache::no_cache());
        }
        Reached { adapters: Arc::new((self.build)(&sdk.build())), credentials, last_used: 0 }
    }

    /// Drops the least recently used place, and its account's credentials when no other place
    /// holds them.
    fn evict_least_recent(&self, reached: &mut HashMap<Place, Reached>) {
        let Some(oldest) = reached.iter().min_by_key(|(_, place)| place.last_used).map(|(key, _)| key.clone()) else {
            return;
        };
        let (account, _, role_name) = &oldest;
        tracing::debug!(account, region = oldest.1, "adapters of the least recently used account dropped");
        reached.remove(&oldest);
        let still_held = reached.keys().any(|(other, _, role)| other == account && role == role_name);
        if !still_held {
            self.credentials.lock().expect("no panic while held").remove(&(account.clone(), role_name.clone()));
        }
    }

    /// How many places and member credentials are kept now.
    pub fn kept(&self) -> (usize, usize) {
        let places = self.reached.lock().expect("no panic while held").len();
        (places, self.credentials.lock().expect("no panic while held").len())
    }
}

/// One member role's credentials, assumed on first use and renewed before they expire.
struct MemberCredentials {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    account: String,
    state: Mutex<Option<Credentials>>,
}

impl MemberCredentials {
    /// Credentials with at least [`RENEW_BEFORE`] left, assuming the role when there are none.
    async fn current(&self, session: Option<&str>) -> Result<Credentials, AwsError> {
        let mut state = self.state.lock().await;
        let fresh = state
            .as_ref()
            .filter(|credentials| credentials.expiry().is_none_or(|expiry| expiry > SystemTime::now() + RENEW_BEFORE));
        if let Some(credentials) = fresh {
            return Ok(credentials.clone());
        }
        let assumed = self.assume(&session_name(session.unwrap_or("renewal"))).await?;
        *state = Some(assumed.clone());
        Ok(assumed)
    }

    async fn assume(&self, session_name: &str) -> Result<Credentials, AwsError> {
        let request = self.sts.assume_role().role_arn(&self.role_arn).role_session_name(session_name);
        let output = match request.send().await {
            Ok(output) => output,
            Err(error) => {
                let refusal = error.as_service_error().map(|e| {
                    format!("{}: {}", e.code().unwrap_or("no error code"), e.message().unwrap_or("no message"))
                });
                let failed = AwsError::from_sdk("sts:AssumeRole", error);
                let Some(refusal) = refusal.filter(|_| !failed.is_retryable()) else { return Err(failed) };
                return Err(AwsError::permanent(
                    "sts:AssumeRole",
                    format!(
                        "cannot act in account {account}: assuming {role} was refused ({refusal}). Deploy the \
                         snapback-member module in account {account} (it creates the role and lets this deployment's \
                         function roles assume it), or set `member_role` in the configuration to the role's name",
                        account = self.account,
                        role = self.role_arn,
                    ),
                ));
            }
        };
        let Some(assumed) = output.credentials() else {
            return Err(AwsError::permanent("sts:AssumeRole", format!("{} returned no credentials", self.role_arn)));
        };
        let expiry = SystemTime::try_from(*assumed.expiration()).ok();
        tracing::info!(role = %self.role_arn, session = session_name, "assumed the member role");
        Ok(Credentials::new(
            assumed.access_key_id(),
            assumed.secret_access_key(),
            Some(assumed.session_token().to_owned()),
            expiry,
            "snapback-member-role",
        ))
    }
}

/// The SDK's view of [`MemberCredentials`]: renewals between events keep the last session name.
#[derive(Clone)]
struct MemberProvider(Arc<MemberCredentials>);

impl std::fmt::Debug for MemberProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberProvider").field("role_arn", &self.0.role_arn).finish()
    }
}

impl ProvideCredentials for MemberProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(
            async move { self.0.current(None).await.map_err(CredentialsError::provider_error) },
        )
    }
}

/// An STS session name for `what` (an event id): `snapback-` and the characters STS accepts
/// (letters, digits, `+=,.@-`), at most 64.
pub fn session_name(what: &str) -> String {
    let mut name = String::from("snapback-");
    name.extend(what.chars().map(|c| if c.is_ascii_alphanumeric() || "+=,.@-".contains(c) { c } else { '-' }));
    name.truncate(SESSION_NAME_MAX);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_keep_to_what_sts_accepts() {
        assert_eq!(
            session_name("6f1c2b9e-0d4e-4c59-9f3a-2a1b3c4d5e6f"),
            "snapback-6f1c2b9e-0d4e-4c59-9f3a-2a1b3c4d5e6f"
        );
        assert_eq!(session_name("sweep 1/2"), "snapback-sweep-1-2");
        let long = session_name(&"x".repeat(100));
        assert_eq!(long.len(), SESSION_NAME_MAX);
        assert!(long.starts_with("snapback-x"));
    }
}
