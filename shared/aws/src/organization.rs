//! The organization around a central deployment: its active accounts (what the sweeps cover) and
//! the organizational units an account sits in (whose configuration overrides hold there). An
//! account's units are looked up once and kept for an hour: accounts seldom move.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_organizations::types::ParentType;
use tokio::sync::Mutex;

use crate::AwsError;

/// How long an account's units are trusted before they are looked up again.
const UNITS_TTL: Duration = Duration::from_secs(3600);

/// An organization's deepest nesting (a root and five levels of units), with one to spare: a
/// longer walk means the answers are not a tree.
const MAX_DEPTH: usize = 7;

pub struct Organization {
    client: aws_sdk_organizations::Client,
    units: Mutex<HashMap<String, (Instant, Vec<String>)>>,
}

impl Organization {
    pub fn new(client: aws_sdk_organizations::Client) -> Organization {
        Organization { client, units: Mutex::new(HashMap::new()) }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Organization {
        Organization::new(aws_sdk_organizations::Client::new(sdk))
    }

    /// The root and the units `account` is in, outermost first (`["r-ab12", "ou-ab12-1", ...]`).
    pub async fn units_of(&self, account: &str) -> Result<Vec<String>, AwsError> {
        if let Some((at, units)) = self.units.lock().await.get(account) {
            if at.elapsed() < UNITS_TTL {
                return Ok(units.clone());
            }
        }
        let mut path = Vec::new();
        let mut child = account.to_owned();
        for _ in 0..MAX_DEPTH {
            let answer = self.client.list_parents().child_id(&child).send().await;
            let answer = answer.map_err(|error| AwsError::from_sdk("organizations:ListParents", error))?;
            let Some(parent) = answer.parents().first() else { break };
            let Some(id) = parent.id() else { break };
            path.push(id.to_owned());
            if parent.r#type() == Some(&ParentType::Root) {
                break;
            }
            child = id.to_owned();
        }
        path.reverse();
        self.units.lock().await.insert(account.to_owned(), (Instant::now(), path.clone()));
        Ok(path)
    }

    /// The organization's active accounts, every page.
    pub async fn active_accounts(&self) -> Result<Vec<String>, AwsError> {
        let mut pages = self.client.list_accounts().into_paginator().send();
        let mut accounts = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| AwsError::from_sdk("organizations:ListAccounts", error))?;
            accounts.extend(
                page.accounts()
                    .iter()
                    .filter(|account| account.state().is_none_or(|state| state.as_str() == "ACTIVE"))
                    .filter_map(|account| account.id().map(str::to_owned)),
            );
        }
        Ok(accounts)
    }
}
