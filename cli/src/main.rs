//! `snapback`: inspect the rule registry, replay CloudTrail offline, audit an account.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use snapback_cli::scan::progress::Progress;
use snapback_cli::scan::{remediate, security_hub};
use snapback_cli::{replay, rules_table, scan};
use snapback_rules::Config;

#[derive(Parser)]
#[command(name = "snapback", version, about = "Guardrails for Amazon EKS that snap dangerous changes back")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every rule: id, severity, default mode, the events it listens to.
    Rules {
        /// One JSON object per rule, with rationale, IAM actions and options.
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// The catalog as Markdown (RULES.md).
        #[arg(long)]
        markdown: bool,
    },
    /// The deployment manifest (EventBridge patterns, IAM actions, rules per function) as JSON;
    /// Terraform reads the committed copy in infra/modules/snapback/manifest.json.
    Manifest,
    /// The configuration document in SSM Parameter Store (effective at the next refresh, ≤ 60 s).
    Config {
        /// The SSM parameter holding the document.
        #[arg(long, global = true, default_value = snapback_cli::config_cmd::DEFAULT_PARAMETER)]
        parameter: String,
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Alert tools.
    Alert {
        #[command(subcommand)]
        command: AlertCommand,
    },
    /// Audit what already exists, with your AWS credentials (read-only unless --remediate): every
    /// EKS cluster, nodegroup, security group, subnet, node, launch template, account default and
    /// public snapshot or AMI judged by the rules, with scope, exemptions and modes applied.
    Scan(ScanArgs),
    /// Evaluate recorded CloudTrail offline: what would each rule have done? Files are read with no
    /// AWS call; s3:// URLs are listed and downloaded with your AWS credentials.
    Replay(ReplayArgs),
}

#[derive(Args)]
struct ReplayArgs {
    /// Records, EventBridge envelopes, trail logs (.json, .json.gz), JSON Lines, directories of
    /// them, or s3://bucket/prefix/ (a trail's logs in S3).
    #[arg(required = true, value_name = "PATH|S3_URL")]
    paths: Vec<String>,
    /// table (default), json (one object per finding per line), markdown, or html (one
    /// self-contained page: counts by rule, actor and day, every finding with who and when).
    #[arg(long, default_value = "table", value_parser = ["table", "json", "markdown", "html"])]
    format: String,
    /// The same as --format json.
    #[arg(long, hide = true, conflicts_with = "format")]
    json: bool,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// A snapback configuration document (defaults otherwise).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Exit with status 1 when anything is found (for pipelines).
    #[arg(long)]
    fail_on_findings: bool,
    /// Only calls made on or after this day (UTC); S3 listings skip earlier days' folders.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = replay::parse_day)]
    since: Option<time::Date>,
    /// Only calls made on or before this day (UTC); S3 listings skip later days' folders.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = replay::parse_day)]
    until: Option<time::Date>,
    /// Only calls in these accounts (comma separated or repeated); S3 listings skip the others.
    #[arg(long = "account", value_name = "ACCOUNT_ID", value_delimiter = ',')]
    accounts: Vec<String>,
    /// Only calls in these regions (comma separated or repeated); S3 listings skip the others.
    /// (The bucket's own region is found with HeadBucket.)
    #[arg(long = "region", value_name = "REGION", value_delimiter = ',')]
    regions: Vec<String>,
    /// With s3:// URLs: a named profile of your AWS configuration.
    #[arg(long)]
    profile: Option<String>,
    /// With s3:// URLs: objects downloaded at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    max_concurrent_requests: u16,
}

#[derive(Args)]
struct ScanArgs {
    /// A named profile of your AWS configuration.
    #[arg(long)]
    profile: Option<String>,
    /// A region to scan; repeat for several (default: your configuration's region).
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// Every region enabled for the account (ec2:DescribeRegions).
    #[arg(long, conflicts_with = "regions")]
    all_regions: bool,
    /// Scan these accounts (comma separated or repeated) through a role in each, --role-name,
    /// assumed with your credentials; every account and region at once, four at a time.
    #[arg(long = "accounts", value_name = "ACCOUNT_ID", value_delimiter = ',')]
    accounts: Vec<String>,
    /// Scan every active account of your organization (organizations:ListAccounts, from the
    /// management or a delegated administrator account): yours with your credentials, the others
    /// through --role-name.
    #[arg(long, conflicts_with = "accounts")]
    org: bool,
    /// With --accounts or --org: the role to assume in each account.
    #[arg(long, value_name = "ROLE_NAME", default_value = "snapback-member")]
    role_name: String,
    /// A snapback configuration document (defaults otherwise).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// table (default), json (every finding an object), markdown, html (one self-contained page
    /// with charts), or asff (the AWS Security Finding Format, for Security Hub).
    #[arg(long, default_value = "table", value_parser = ["table", "json", "markdown", "html", "asff"])]
    format: String,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with status 1 when anything at or above this severity is found (low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = ["low", "medium", "high", "critical"])]
    fail_on: Option<String>,
    /// Import the findings into Security Hub (BatchImportFindings) in each region scanned.
    #[arg(long)]
    to_security_hub: bool,
    /// After the report, restore what it found in remediate mode, once you confirm the plan.
    #[arg(long)]
    remediate: bool,
    /// With --remediate: restore without asking (needed when stdin is not a terminal).
    #[arg(long, requires = "remediate")]
    yes: bool,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (the stored document over the defaults); with --account,
    /// the configuration that holds in that account (its units' and its own overrides applied).
    Show {
        /// A 12-digit account id.
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: Option<String>,
        /// With --account: an organizational unit (or root) the account is in, outermost first;
        /// repeat it for the whole path.
        #[arg(long = "organizational-unit", value_name = "OU_ID", requires = "account")]
        organizational_units: Vec<String>,
    },
    /// Set one rule's mode: off, notify or remediate.
    SetMode { rule: String, mode: String },
    /// Validate a configuration document file.
    Check { file: PathBuf },
}

#[derive(Subcommand)]
enum AlertCommand {
    /// Print the Slack payload and the email text of a sample alert for RULE.
    Preview {
        /// A rule id (see `snapback rules`).
        rule: String,
        /// remediated, would-remediate, exempt or failed.
        #[arg(long, default_value = "remediated")]
        outcome: String,
        /// Base URL of RULES.md, for the Slack message's documentation link.
        #[arg(long)]
        docs_url: Option<String>,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Rules { json, markdown } => {
            let text = match (json, markdown) {
                (true, _) => rules_table::render_json(),
                (_, true) => rules_table::render_markdown(),
                _ => rules_table::render_table(),
            };
            print!("{text}");
            ExitCode::SUCCESS
        }
        Command::Config { parameter, command } => config(&parameter, command),
        Command::Scan(args) => {
            let config = match args.config.as_deref().map(load_config).transpose() {
                Ok(config) => config.unwrap_or_default(),
                Err(message) => {
                    eprintln!("snapback: {message}");
                    return ExitCode::from(2);
                }
            };
            run_scan(args, &config)
        }
        Command::Manifest => {
            println!(
                "{}",
                serde_json::to_string_pretty(&snapback_rules::manifest::manifest()).expect("manifest serializes")
            );
            ExitCode::SUCCESS
        }
        Command::Alert { command: AlertCommand::Preview { rule, outcome, docs_url } } => {
            let Some(meta) = snapback_rules::rule(&rule) else {
                eprintln!("snapback: unknown rule {rule:?}; `snapback rules` lists them");
                return ExitCode::from(2);
            };
            let Some(outcome) = snapback_notify::Outcome::parse(&outcome) else {
                eprintln!("snapback: --outcome {outcome:?} is not one of remediated, would-remediate, exempt, failed");
                return ExitCode::from(2);
            };
            let alert = snapback_notify::sample_alert(meta, outcome);
            let slack = snapback_notify::slack_payload(&alert, docs_url.as_deref());
            println!("== Slack (incoming webhook payload) ==");
            println!("{}", serde_json::to_string_pretty(&slack).expect("payloads serialize"));
            println!("\n== Email (subject: {}) ==", alert.subject());
            print!("{}", alert.email_text());
            ExitCode::SUCCESS
        }
        Command::Replay(args) => run_replay(args),
    }
}

fn run_replay(args: ReplayArgs) -> ExitCode {
    use replay::progress::ProgressLine;
    use replay::{s3, Filters, Input, Replay};
    use std::sync::atomic::Ordering;

    let refuse = |message: String| {
        eprintln!("snapback: {message}");
        ExitCode::from(2)
    };
    let config = match args.config.as_deref().map(load_config).transpose() {
        Ok(config) => config.unwrap_or_default(),
        Err(message) => return refuse(message),
    };
    if let (Some(since), Some(until)) = (args.since, args.until) {
        if since > until {
            return refuse(format!("--since {since} is after --until {until}"));
        }
    }
    if let Some(bad) = args.accounts.iter().find(|account| !snapback_rules::is_account_id(account)) {
        return refuse(format!("--account: expected a 12-digit account id, got {bad:?}"));
    }
    if let Some(path) = args.output.as_ref().filter(|path| REPORT_FORMATS.iter().any(|f| path.as_os_str() == *f)) {
        return refuse(format!("--output names the report file; for the format use --format {}", path.display()));
    }
    let mut locations = Vec::new();
    let mut paths = Vec::new();
    for path in &args.paths {
        match s3::Location::parse(path) {
            Some(Ok(location)) => locations.push(location),
            Some(Err(message)) => return refuse(message),
            None => paths.push(PathBuf::from(path)),
        }
    }
    let filters = Filters { since: args.since, until: args.until, accounts: args.accounts, regions: args.regions };
    let replay = Replay::new(&config, &filters);
    let (files, unlisted) = replay::local_inputs(&paths);
    replay.counters.listed.fetch_add(files.len() as u64, Ordering::Relaxed);
    let local = files.iter().map(|path| Input::file(path));
    // S3: listing and downloads on a small runtime of their own; judging on rayon's threads.
    let runtime = (!locations.is_empty()).then(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime")
    });
    let remote = runtime.as_ref().map(|runtime| {
        let client = runtime.block_on(s3_client(args.profile.as_deref()));
        let concurrency = usize::from(args.max_concurrent_requests);
        s3::inputs(runtime.handle(), client, locations, filters.clone(), concurrency, replay.counters.clone())
    });
    let progress = ProgressLine::on_stderr(replay.counters.clone());
    let mut summary = replay.run(local.chain(remote.into_iter().flatten()));
    drop(progress);
    summary.unreadable_inputs.extend(unlisted);

    let format = if args.json { "json" } else { args.format.as_str() };
    let report = match format {
        "json" => summary.findings.iter().map(|found| format!("{}\n", found.to_json())).collect(),
        "markdown" | "html" => {
            let (findings, coverage) = replay::report::scan_findings(&summary, &filters);
            if format == "html" {
                scan::html::render(&findings, &coverage)
            } else {
                scan::render_replay_markdown(&findings, &coverage)
            }
        }
        _ if summary.findings.is_empty() => String::new(),
        _ => replay::render_findings(&summary.findings),
    };
    match &args.output {
        Some(path) => {
            if let Err(error) = std::fs::write(path, &report) {
                return refuse(format!("{}: {error}", path.display()));
            }
        }
        None => print!("{report}"),
    }
    eprint!("{}", summary.render());
    if !summary.unreadable_inputs.is_empty() {
        ExitCode::from(2)
    } else if args.fail_on_findings && !summary.findings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// An S3 client with the user's configuration. A custom endpoint (AWS_ENDPOINT_URL: MinIO, a
/// local emulator) gets path-style addressing, which such endpoints serve; AWS's own gets the
/// default virtual-hosted style.
async fn s3_client(profile: Option<&str>) -> aws_sdk_s3::Client {
    // Listing and downloading a bucket is bulk reading: the sweeps' retries and timeouts.
    let sdk = with_profile(snapback_aws::sweep_sdk_config_loader(), profile).load().await;
    let config = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(sdk.endpoint_url().is_some()).build();
    aws_sdk_s3::Client::from_conf(config)
}

/// `loader` with `--profile`, when given.
fn with_profile(loader: aws_config::ConfigLoader, profile: Option<&str>) -> aws_config::ConfigLoader {
    match profile {
        Some(profile) => loader.profile_name(profile),
        None => loader,
    }
}

fn load_config(path: &std::path::Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?;
    Config::from_json(&text).map_err(|error| format!("{}: {error}", path.display()))
}

fn config(parameter: &str, command: ConfigCommand) -> ExitCode {
    use snapback_cli::config_cmd::{self, ConfigCommandError};
    let result: Result<String, ConfigCommandError> = match command {
        ConfigCommand::Check { file } => std::fs::read_to_string(&file)
            .map_err(|error| ConfigCommandError::Refused(format!("{}: {error}", file.display())))
            .and_then(|text| config_cmd::check(&text))
            .map(|_| format!("{}: valid", file.display())),
        command => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
            runtime.block_on(async {
                let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                let ssm = aws_sdk_ssm::Client::new(&sdk);
                match command {
                    ConfigCommand::Show { account, organizational_units } => {
                        config_cmd::show(&ssm, parameter, account.as_deref(), &organizational_units)
                            .await
                            .map(|value| serde_json::to_string_pretty(&value).expect("config serializes"))
                    }
                    ConfigCommand::SetMode { rule, mode } => {
                        config_cmd::set_mode(&ssm, parameter, &rule, &mode).await.map(|_| {
                            format!("{rule} is now {mode} in {parameter}; the functions pick it up within a minute")
                        })
                    }
                    ConfigCommand::Check { .. } => unreachable!("handled above"),
                }
            })
        }
    };
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error @ ConfigCommandError::Refused(_)) => {
            eprintln!("snapback: {error}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("snapback: {error}");
            ExitCode::from(1)
        }
    }
}

/// Report formats (scan's and replay's): `--output` names a file, so a format given there is
/// refused, not written.
const REPORT_FORMATS: &[&str] = &["table", "json", "text", "markdown", "html", "asff"];

/// The AWS CLI's status for a command that ran but got errors from the service.
const SCAN_INCOMPLETE: u8 = 254;

/// One region as scanned: its SDK configuration (for the import and the restores after the
/// report) and who the credentials are there.
struct ScannedRegion {
    region: Option<String>,
    account: Option<String>,
    caller: Option<String>,
    sdk: aws_config::SdkConfig,
}

fn run_scan(args: ScanArgs, config: &Config) -> ExitCode {
    if let Some(path) =
        args.output.as_ref().filter(|path| REPORT_FORMATS.iter().any(|format| path.as_os_str() == *format))
    {
        eprintln!("snapback: --output names the report file; for the format use --format {}", path.display());
        return ExitCode::from(2);
    }
    if args.remediate && !args.yes && !std::io::stdin().is_terminal() {
        eprintln!(
            "snapback: --remediate asks before changing anything, and stdin is not a terminal to ask on; \
             add --yes to restore without asking"
        );
        return ExitCode::from(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let started = time::OffsetDateTime::now_utc();
    let progress = Progress::on_stderr();
    let (mut findings, errors, scanned) = runtime.block_on(scan_regions(&args, config, &progress));
    progress.finish();
    scan::sort(&mut findings);
    let report = match args.format.as_str() {
        "json" => scan::render_json(&findings),
        "markdown" => scan::render_markdown(&findings),
        "html" => {
            let coverage = scan::Coverage {
                accounts: scanned
                    .iter()
                    .filter_map(|r| r.account.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                regions: scanned.iter().filter_map(|r| r.region.clone()).collect(),
                at: started,
                gaps: errors.clone(),
                replayed: None,
            };
            scan::html::render(&findings, &coverage)
        }
        "asff" => security_hub::render(&findings, &rfc3339(started)),
        _ => scan::render_table(&findings),
    };
    match &args.output {
        Some(path) => {
            if let Err(error) = std::fs::write(path, &report) {
                eprintln!("snapback: {}: {error}", path.display());
                return ExitCode::from(2);
            }
        }
        None => print!("{report}"),
    }
    eprint!("{}", scan::render_summary(&findings));
    for error in &errors {
        eprintln!("snapback: not scanned: {error}");
    }
    let mut incomplete = !errors.is_empty();
    if args.to_security_hub {
        let records = security_hub::records(&findings, &rfc3339(started));
        incomplete |= !runtime.block_on(import_to_security_hub(&records, &scanned));
    }
    if args.remediate {
        incomplete |= !runtime.block_on(remediate(&findings, &scanned, args.yes));
    }
    let threshold = args.fail_on.and_then(|level| serde_json::from_value(serde_json::Value::from(level)).ok());
    if incomplete {
        return ExitCode::from(SCAN_INCOMPLETE);
    }
    match threshold {
        Some(threshold) if scan::fails(&findings, threshold) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).expect("the time formats")
}

/// How many accounts and regions `--accounts` scans at once (each scan makes its own calls
/// several at a time).
const CONCURRENT_SCANS: usize = 4;

/// Sweeps and judges each account and region asked for: the findings, what could not be
/// scanned, and the regions scanned.
async fn scan_regions(
    args: &ScanArgs,
    config: &Config,
    progress: &Progress,
) -> (Vec<scan::ScanFinding>, Vec<String>, Vec<ScannedRegion>) {
    use futures_util::stream::{self, StreamExt};
    let mut errors = Vec::new();
    if let Some(bad) = args.accounts.iter().find(|account| !snapback_rules::is_account_id(account)) {
        errors.push(format!("--accounts: expected 12-digit account ids, got {bad:?}"));
        return (Vec::new(), errors, Vec::new());
    }
    let regions: Vec<Option<String>> = if args.all_regions {
        match enabled_regions(args.profile.as_deref()).await {
            Ok(regions) => regions.into_iter().map(Some).collect(),
            Err(error) => {
                errors.push(error);
                Vec::new()
            }
        }
    } else if args.regions.is_empty() {
        vec![None]
    } else {
        args.regions.iter().cloned().map(Some).collect()
    };
    // Other accounts: your own account, the organization (for --org, and for the units an
    // account is in when the configuration overrides units), each found out once.
    let organization = match args.org || !args.accounts.is_empty() {
        true => Some(ScanOrganization::load(args.profile.as_deref()).await),
        false => None,
    };
    let listed = match (&organization, args.org) {
        (Some(organization), true) => match organization.organization.active_accounts().await {
            Ok(listed) => listed,
            Err(error) => {
                errors.push(format!(
                    "--org: {error} (run it from the management account or a delegated administrator, or list \
                     the accounts with --accounts)"
                ));
                return (Vec::new(), errors, Vec::new());
            }
        },
        _ => args.accounts.clone(),
    };
    let accounts: Vec<Option<&str>> =
        if listed.is_empty() { vec![None] } else { listed.iter().map(|a| Some(a.as_str())).collect() };
    let targets: Vec<(Option<&str>, Option<String>)> =
        accounts.iter().flat_map(|account| regions.iter().map(move |region| (*account, region.clone()))).collect();
    let results: Vec<Result<(scan::Scanned, ScannedRegion), String>> = stream::iter(targets)
        .map(|(account, region)| scan_one(args, config, progress, organization.as_ref(), account, region))
        .buffered(CONCURRENT_SCANS)
        .collect()
        .await;
    let (mut findings, mut scanned) = (Vec::new(), Vec::new());
    for result in results {
        match result {
            Ok((found, region)) => {
                let where_ = region.region.clone().unwrap_or_else(|| "the default region".to_owned());
                // With --accounts, say which account each error is about.
                let place = match (&region.account, listed.is_empty()) {
                    (Some(account), false) => format!("account {account} in {where_}"),
                    _ => where_,
                };
                findings.extend(found.findings);
                errors.extend(found.errors.into_iter().map(|error| format!("{place}: {error}")));
                scanned.push(region);
            }
            Err(error) => errors.push(error),
        }
    }
    (findings, errors, scanned)
}

/// What scanning other accounts needs to know once: whose credentials these are, and the
/// organization.
struct ScanOrganization {
    /// The account of your credentials: it needs no role.
    own_account: Option<String>,
    organization: snapback_aws::Organization,
}

impl ScanOrganization {
    async fn load(profile: Option<&str>) -> ScanOrganization {
        let sdk = with_profile(snapback_aws::sweep_sdk_config_loader(), profile).load().await;
        let own_account =
            aws_sdk_sts::Client::new(&sdk).get_caller_identity().send().await.ok().and_then(|id| id.account);
        ScanOrganization { own_account, organization: snapback_aws::Organization::from_sdk(&sdk) }
    }

    /// The configuration that holds in `account`: its units' overrides (looked up in the
    /// organization when the document has any) and its own; a gap when the units are unknown.
    async fn config_in(&self, config: &Config, account: &str) -> (Config, Option<String>) {
        if !config.overrides_units() {
            return (config.for_account(account, &[]), None);
        }
        match self.organization.units_of(account).await {
            Ok(units) => (config.for_account(account, &units.iter().map(String::as_str).collect::<Vec<_>>()), None),
            Err(error) => (
                config.for_account(account, &[]),
                Some(format!("organizational units unknown ({error}): their overrides are not applied")),
            ),
        }
    }
}

/// One account (yours, or `account` through `--role-name`) in one region.
async fn scan_one(
    args: &ScanArgs,
    config: &Config,
    progress: &Progress,
    organization: Option<&ScanOrganization>,
    account: Option<&str>,
    region: Option<String>,
) -> Result<(scan::Scanned, ScannedRegion), String> {
    // An audit reads whole accounts: the sweeper's retries and timeouts, not a guard's.
    let mut loader = with_profile(snapback_aws::sweep_sdk_config_loader(), args.profile.as_deref());
    if let Some(region) = &region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let mut sdk = loader.load().await;
    let region = sdk.region().map(|region| region.to_string());
    let where_ = region.clone().unwrap_or_else(|| "the default region".to_owned());
    // Your own account needs no role (an organization's list includes the management account).
    let own = organization.and_then(|organization| organization.own_account.as_deref());
    if let Some(account) = account.filter(|account| own != Some(*account)) {
        let partition = match region.as_deref() {
            Some(region) if region.starts_with("cn-") => "aws-cn",
            Some(region) if region.starts_with("us-gov-") => "aws-us-gov",
            _ => "aws",
        };
        let role = format!("arn:{partition}:iam::{account}:role/{}", args.role_name);
        let assumed = aws_config::sts::AssumeRoleProvider::builder(&role)
            .session_name(snapback_aws::session_name("scan"))
            .configure(&sdk)
            .build()
            .await;
        sdk = sdk
            .into_builder()
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(assumed))
            .build();
    }
    progress.region(&where_);
    let identity =
        aws_sdk_sts::Client::new(&sdk).get_caller_identity().send().await.map_err(|error| match account {
            Some(account) => format!(
            "account {account} in {where_}: cannot assume role {} there ({}); deploy the snapback-member module in \
             that account, or name a role you may assume with --role-name",
            args.role_name,
            aws_sdk_sts::error::DisplayErrorContext(&error)
        ),
            None => format!("{where_}: sts:GetCallerIdentity: {}", aws_sdk_sts::error::DisplayErrorContext(&error)),
        })?;
    let (account, caller) = (identity.account().map(str::to_owned), identity.arn().map(str::to_owned));
    let adapters: Vec<_> = snapback_rules::registry::services()
        .filter_map(|service| snapback_aws::adapter(service.name(), &sdk, &[]))
        .collect();
    progress.note(&format!("snapback: scanning account {} in {where_}", account.as_deref().unwrap_or("unknown")));
    // Another account's overrides hold in it, as they do for the functions.
    let (config, gap) = match (organization, account.as_deref()) {
        (Some(organization), Some(account)) => organization.config_in(config, account).await,
        (None, Some(account)) => (config.for_account(account, &[]), None),
        (_, None) => (config.clone(), None),
    };
    let mut found = scan::scan(&adapters, &config, account.as_deref(), region.as_deref(), progress).await;
    found.errors.extend(gap);
    Ok((found, ScannedRegion { region, account, caller, sdk }))
}

/// Imports the records into each scanned region's Security Hub, reporting on stderr; false when
/// any failed.
async fn import_to_security_hub(records: &[security_hub::AsffFinding], scanned: &[ScannedRegion]) -> bool {
    if records.is_empty() {
        eprintln!("snapback: Security Hub: nothing to import");
        return true;
    }
    let mut complete = true;
    for region in scanned {
        let name = region.region.as_deref().unwrap_or("unknown");
        let batch: Vec<security_hub::AsffFinding> = records.iter().filter(|r| r.region() == name).cloned().collect();
        if batch.is_empty() {
            continue;
        }
        let client = aws_sdk_securityhub::Client::new(&region.sdk);
        let result = security_hub::import(&client, &batch).await;
        eprintln!("snapback: Security Hub in {name}: {} imported, {} failed", result.imported, result.failed);
        for error in &result.errors {
            eprintln!("snapback: not imported: {error}");
        }
        complete &= result.failed == 0;
    }
    complete
}

/// `--remediate`: the plan, the confirmation (unless `yes`), then each region's restores, one
/// line per action on stderr. False when any action failed.
async fn remediate(findings: &[scan::ScanFinding], scanned: &[ScannedRegion], yes: bool) -> bool {
    let planned = remediate::restorable(findings);
    if planned.is_empty() {
        eprintln!("snapback: nothing to restore: no finding is in remediate mode");
        return true;
    }
    eprint!("{}", remediate::render_plan(&planned));
    if !yes {
        let confirmed =
            remediate::confirm(remediate::resources(&planned), &mut std::io::stdin().lock(), &mut std::io::stderr());
        match confirmed {
            Ok(true) => {}
            Ok(false) => {
                eprintln!("snapback: nothing restored");
                return true;
            }
            Err(error) => {
                eprintln!("snapback: nothing restored: cannot read the answer: {error}");
                return true;
            }
        }
    }
    let mut complete = true;
    for region in scanned {
        let here: Vec<&scan::ScanFinding> =
            planned.iter().copied().filter(|f| f.region == region.region && f.account == region.account).collect();
        if here.is_empty() {
            continue;
        }
        // Never take away the access of whoever runs the restore.
        let protected: Vec<String> = region.caller.iter().map(|arn| remediate::caller_principal(arn)).collect();
        let adapters: Vec<_> = snapback_rules::registry::services()
            .filter_map(|service| snapback_aws::adapter(service.name(), &region.sdk, &protected))
            .collect();
        let name = region.region.as_deref().unwrap_or("the default region");
        eprintln!("snapback: restoring in {name} (account {})", region.account.as_deref().unwrap_or("unknown"));
        let ran = remediate::run(&remediate::merged_actions(&here), &adapters).await;
        for action in &ran {
            eprintln!("snapback: {}", action.line());
        }
        complete &= !ran.iter().any(remediate::Ran::failed);
    }
    complete
}

/// The regions enabled for the account, from the configured region's EC2 endpoint.
async fn enabled_regions(profile: Option<&str>) -> Result<Vec<String>, String> {
    let sdk = with_profile(snapback_aws::sdk_config_loader(), profile).load().await;
    let answer = aws_sdk_ec2::Client::new(&sdk).describe_regions().send().await.map_err(|error| {
        format!("ec2:DescribeRegions (for --all-regions): {}", aws_sdk_ec2::error::DisplayErrorContext(&error))
    })?;
    let mut regions: Vec<String> =
        answer.regions().iter().filter_map(|region| region.region_name().map(str::to_owned)).collect();
    regions.sort();
    Ok(regions)
}
