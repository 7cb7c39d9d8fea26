//! `snapback replay s3://bucket/prefix/`: trail logs straight from S3, with the user's
//! credentials. The listing walks CloudTrail's key layout,
//! `AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz`, and prunes accounts,
//! regions and days outside the filters before anything is downloaded. Objects download a few at
//! a time and stream into the judging threads through bounded channels, so memory stays bounded
//! however large an object is.

use std::io::{self, Read};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use aws_sdk_s3::Client;
use time::Date;
use tokio::sync::{mpsc, Semaphore};

use super::progress::Counters;
use super::{is_record_file, Filters, Input};

/// Chunks of one object buffered ahead of its reader.
const CHUNKS_AHEAD: usize = 8;

/// A bucket and a key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    pub prefix: String,
}

impl Location {
    /// `s3://bucket/prefix/`; None when `text` is not an S3 URL at all.
    pub fn parse(text: &str) -> Option<Result<Location, String>> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Some(Err(format!("{text}: no bucket in the S3 URL (s3://bucket/prefix/)")));
        }
        Some(Ok(Location { bucket: bucket.to_owned(), prefix: prefix.to_owned() }))
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// The objects under `locations` that the filters admit, as inputs in the order their downloads
/// start, read as the judging threads ask for them. Listing and downloads run on `runtime`, at most
/// `concurrency` objects at a time; a listing that fails is an unreadable input.
pub fn inputs(
    runtime: &tokio::runtime::Handle,
    client: Client,
    locations: Vec<Location>,
    filters: Filters,
    concurrency: usize,
    counters: Arc<Counters>,
) -> impl Iterator<Item = Input> + Send {
    let (sender, mut receiver) = mpsc::channel::<Input>(concurrency.max(1));
    let (listed_keys, mut keys) = mpsc::channel::<Listed>(1000);
    runtime.spawn(async move {
        for location in locations {
            let client = in_bucket_region(&client, &location.bucket).await;
            list(&client, &Arc::new(location), &filters, &listed_keys, &counters).await;
        }
    });
    runtime.spawn(async move {
        let permits = Arc::new(Semaphore::new(concurrency.max(1)));
        while let Some(listed) = keys.recv().await {
            match listed {
                Listed::Key(client, location, key) => {
                    let Ok(permit) = permits.clone().acquire_owned().await else { return };
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        download(&client, &location, key, &sender).await;
                        drop(permit);
                    });
                }
                Listed::Failed(name, error) => {
                    if sender.send(Input { name, reader: Err(error) }).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    std::iter::from_fn(move || receiver.blocking_recv())
}

/// What the listing found: an object to replay, or a prefix it could not list.
enum Listed {
    /// The key, its location, and a client in the bucket's region.
    Key(Client, Arc<Location>, String),
    Failed(String, String),
}

/// A client in the bucket's region: the SDK does not follow S3's redirect to another region, so
/// HeadBucket asks (S3 names the region even when it refuses the request itself).
async fn in_bucket_region(client: &Client, bucket: &str) -> Client {
    let region = match client.head_bucket().bucket(bucket).send().await {
        Ok(head) => head.bucket_region().map(str::to_owned),
        Err(error) => {
            error.raw_response().and_then(|response| response.headers().get("x-amz-bucket-region")).map(str::to_owned)
        }
    };
    match region {
        Some(region) if Some(region.as_str()) != client.config().region().map(|r| r.as_ref()) => {
            let config = client.config().to_builder().region(aws_sdk_s3::config::Region::new(region)).build();
            Client::from_conf(config)
        }
        _ => client.clone(),
    }
}

/// Sends the object's input as soon as its body starts, then feeds the body to it.
async fn download(client: &Client, location: &Location, key: String, inputs: &mpsc::Sender<Input>) {
    let name = location.url(&key);
    let object = match client.get_object().bucket(&location.bucket).key(&key).send().await {
        Ok(object) => object,
        Err(error) => {
            let reason = aws_sdk_s3::error::DisplayErrorContext(&error).to_string();
            let _ = inputs.send(Input { name, reader: Err(reason) }).await;
            return;
        }
    };
    let (chunks, receiver) = mpsc::channel(CHUNKS_AHEAD);
    let reader = ChannelReader { chunks: receiver, current: io::Cursor::default() };
    if inputs.send(Input { name, reader: Ok(Box::new(reader)) }).await.is_err() {
        return;
    }
    let mut body = object.body;
    loop {
        let chunk = match body.try_next().await {
            Ok(Some(chunk)) => Ok(chunk.to_vec()),
            Ok(None) => return,
            Err(error) => Err(io::Error::other(format!("the download broke off: {error}"))),
        };
        let failed = chunk.is_err();
        if chunks.send(chunk).await.is_err() || failed {
            return;
        }
    }
}

/// A `Read` over an object's body as it arrives: the judging thread blocks until the next chunk.
struct ChannelReader {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    current: io::Cursor<Vec<u8>>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let read = self.current.read(buf)?;
            if read > 0 || buf.is_empty() {
                return Ok(read);
            }
            match self.chunks.blocking_recv() {
                None => return Ok(0),
                Some(chunk) => self.current = io::Cursor::new(chunk?),
            }
        }
    }
}

/// Where a key or prefix sits in CloudTrail's layout (what is known of it).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Layout<'k> {
    pub account: Option<&'k str>,
    /// `CloudTrail`, or `CloudTrail-Digest`, `CloudTrail-Insight` (which hold no API calls).
    pub kind: Option<&'k str>,
    pub region: Option<&'k str>,
    /// Year, month, day, as far as the key goes.
    pub date: Vec<u32>,
}

impl<'k> Layout<'k> {
    /// The layout of `key` (a key, or a prefix ending in `/`); None outside `AWSLogs/`.
    pub fn of(key: &'k str) -> Option<Layout<'k>> {
        let mut segments: Vec<&str> = key.split('/').collect();
        // The last segment is a file name or, for a prefix, empty: not a directory.
        segments.pop();
        let start = segments.iter().rposition(|segment| *segment == "AWSLogs")? + 1;
        let mut rest = segments[start..].iter().copied().peekable();
        rest.next_if(|segment| segment.starts_with("o-"));
        let mut layout = Layout { account: rest.next(), kind: rest.next(), region: rest.next(), date: Vec::new() };
        for segment in rest.take(3) {
            match segment.parse() {
                Ok(number) => layout.date.push(number),
                Err(_) => break,
            }
        }
        Some(layout)
    }

    /// Can this key or prefix hold records the filters admit? Delivery lags the call by up to
    /// about fifteen minutes, so a day's calls may be in the next day's folder.
    pub fn admitted(&self, filters: &Filters) -> bool {
        if self.kind.is_some_and(|kind| kind != "CloudTrail") {
            return false;
        }
        if let Some(account) = self.account.filter(|_| !filters.accounts.is_empty()) {
            if !filters.accounts.iter().any(|a| a == account) {
                return false;
            }
        }
        if let Some(region) = self.region.filter(|_| !filters.regions.is_empty()) {
            if !filters.regions.iter().any(|r| r == region) {
                return false;
            }
        }
        let Some((first, last)) = self.days() else { return true };
        let last_folder = filters.until.and_then(|until| until.next_day());
        filters.since.is_none_or(|since| last >= since) && last_folder.is_none_or(|until| first <= until)
    }

    /// The first and last day the date folders so far can hold.
    fn days(&self) -> Option<(Date, Date)> {
        let year = i32::try_from(*self.date.first()?).ok()?;
        let month = |number: u32| u8::try_from(number).ok().and_then(|m| time::Month::try_from(m).ok());
        let (first_month, last_month) = match self.date.get(1) {
            Some(&number) => (month(number)?, month(number)?),
            None => (time::Month::January, time::Month::December),
        };
        let first = Date::from_calendar_date(year, first_month, 1).ok()?;
        let last = Date::from_calendar_date(year, last_month, last_month.length(year)).ok()?;
        match self.date.get(2) {
            Some(&day) => {
                let day = Date::from_calendar_date(year, first_month, u8::try_from(day).ok()?).ok()?;
                Some((day, day))
            }
            None => Some((first, last)),
        }
    }
}

/// Region listings at once: an organization's month is thousands of them.
const REGION_LISTINGS: usize = 8;

/// Sends the record objects under `location` that the filters admit to `keys`. Above the region
/// level it lists folder by folder and skips the folders the filters exclude; each region's keys
/// are then listed flat, from the first day of the window to its end, several regions at once.
async fn list(
    client: &Client,
    location: &Arc<Location>,
    filters: &Filters,
    keys: &mpsc::Sender<Listed>,
    counters: &Arc<Counters>,
) {
    if Layout::of(&location.prefix).is_some_and(|layout| !layout.admitted(filters)) {
        return;
    }
    let permits = Arc::new(Semaphore::new(REGION_LISTINGS));
    let mut flat_listings = tokio::task::JoinSet::new();
    let mut folders = vec![location.prefix.clone()];
    while let Some(prefix) = folders.pop() {
        if Layout::of(&prefix).is_some_and(|layout| layout.region.is_some()) {
            let Ok(permit) = permits.clone().acquire_owned().await else { return };
            let (client, location, filters) = (client.clone(), location.clone(), filters.clone());
            let (keys, counters) = (keys.clone(), counters.clone());
            flat_listings.spawn(async move {
                list_folder(&client, &location, prefix, &filters, &keys, &counters).await;
                drop(permit);
            });
        } else {
            let children = list_folder(client, location, prefix, filters, keys, counters).await;
            folders.extend(children.into_iter().rev());
        }
    }
    while flat_listings.join_next().await.is_some() {}
}

/// Lists one folder: sends its admitted record objects to `keys` and returns its admitted
/// subfolders (none from a region down, where the listing is flat). A folder that cannot be
/// listed is sent as a failure; its siblings are listed all the same.
async fn list_folder(
    client: &Client,
    location: &Arc<Location>,
    prefix: String,
    filters: &Filters,
    keys: &mpsc::Sender<Listed>,
    counters: &Counters,
) -> Vec<String> {
    let layout = Layout::of(&prefix);
    let flat = layout.as_ref().is_some_and(|layout| layout.region.is_some());
    let start_after = match (&layout, filters.since) {
        (Some(layout), Some(since)) if layout.region.is_some() && layout.date.is_empty() => {
            Some(format!("{prefix}{:04}/{:02}/{:02}", since.year(), u8::from(since.month()), since.day()))
        }
        _ => None,
    };
    let last_folder = filters.until.and_then(|until| until.next_day());
    let mut token = None;
    let mut children = Vec::new();
    loop {
        let mut request = client.list_objects_v2().bucket(&location.bucket).prefix(&prefix);
        if !flat {
            request = request.delimiter("/");
        }
        if let Some(after) = &start_after {
            request = request.start_after(after);
        }
        let page = match request.set_continuation_token(token.take()).send().await {
            Ok(page) => page,
            Err(error) => {
                let error = format!("listing: {}", aws_sdk_s3::error::DisplayErrorContext(&error));
                let _ = keys.send(Listed::Failed(location.url(&prefix), error)).await;
                return children;
            }
        };
        let mut past_window = false;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            let admitted = Layout::of(key).is_none_or(|layout| {
                past_window |= layout.days().is_some_and(|(first, _)| last_folder.is_some_and(|end| first > end));
                layout.admitted(filters)
            });
            if admitted && is_record_file(key) {
                counters.listed.fetch_add(1, Ordering::Relaxed);
                if keys.send(Listed::Key(client.clone(), location.clone(), key.to_owned())).await.is_err() {
                    return children;
                }
            }
        }
        for folder in page.common_prefixes() {
            if let Some(folder) = folder.prefix() {
                if Layout::of(folder).is_none_or(|layout| layout.admitted(filters)) {
                    children.push(folder.to_owned());
                }
            }
        }
        token = page.next_continuation_token().map(str::to_owned);
        // Keys come in order: once a day after the window shows, the rest is later still.
        if token.is_none() || (flat && past_window) {
            return children;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::parse_day;

    #[test]
    fn urls_name_a_bucket_and_a_prefix() {
        assert_eq!(
            Location::parse("s3://trail/AWSLogs/o-1/"),
            Some(Ok(Location { bucket: "trail".into(), prefix: "AWSLogs/o-1/".into() }))
        );
        assert_eq!(Location::parse("s3://trail"), Some(Ok(Location { bucket: "trail".into(), prefix: String::new() })));
        assert!(Location::parse("s3:///x").unwrap().is_err());
        assert_eq!(Location::parse("logs/2026"), None);
    }

    #[test]
    fn the_layout_reads_organization_and_account_trails() {
        let key = "logs/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/11/27/f.json.gz";
        let layout = Layout::of(key).unwrap();
        assert_eq!(layout.account, Some("111122223333"));
        assert_eq!(layout.kind, Some("CloudTrail"));
        assert_eq!(layout.region, Some("eu-west-1"));
        assert_eq!(layout.date, [2026, 11, 27]);
        let prefix = Layout::of("AWSLogs/111122223333/CloudTrail/").unwrap();
        assert_eq!((prefix.account, prefix.kind, prefix.region), (Some("111122223333"), Some("CloudTrail"), None));
        assert_eq!(Layout::of("exports/2026/part-0.json"), None);
    }

    #[test]
    fn folders_outside_the_filters_are_pruned_with_a_day_of_delivery_lag() {
        let filters = Filters {
            since: Some(parse_day("2026-11-10").unwrap()),
            until: Some(parse_day("2026-11-20").unwrap()),
            accounts: vec!["111122223333".into()],
            regions: vec!["eu-west-1".into()],
        };
        let admitted = |key: &str| Layout::of(key).unwrap().admitted(&filters);
        assert!(admitted("AWSLogs/o-1/111122223333/"));
        assert!(!admitted("AWSLogs/o-1/444455556666/"));
        assert!(!admitted("AWSLogs/o-1/111122223333/CloudTrail-Digest/"));
        assert!(!admitted("AWSLogs/o-1/111122223333/CloudTrail/us-east-1/"));
        assert!(admitted("AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2026/"));
        assert!(!admitted("AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2025/"));
        assert!(!admitted("AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2026/10/"));
        assert!(!admitted("AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2026/11/09/x.json.gz"));
        assert!(admitted("AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2026/11/10/x.json.gz"));
        assert!(admitted("AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2026/11/21/x.json.gz"), "delivery lag");
        assert!(!admitted("AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2026/11/22/x.json.gz"));
        assert!(Layout::of("AWSLogs/o-1/444455556666/").unwrap().admitted(&Filters::default()));
    }
}
