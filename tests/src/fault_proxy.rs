//! A small HTTP proxy between the AWS SDK and moto that answers the first N requests matching a
//! rule with a canned AWS error (or those over a rate, or every Nth: [`Limit`]), and forwards
//! everything else: throttling and busy resources that moto cannot produce on its own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Which requests to fault, how often, and how.
#[derive(Clone, Debug)]
pub struct Fault {
    /// A substring of the request line or body, e.g. `Action=RevokeSecurityGroupIngress`.
    pub matches: &'static str,
    /// Only requests with this method (`GET`, `POST`), or any.
    pub method: Option<&'static str>,
    /// How many matching requests are faulted before the rest pass through untouched.
    pub times: usize,
    pub kind: FaultKind,
    /// Instead of the first `times`: which matching requests are faulted.
    pub limit: Option<Limit>,
}

/// Which matching requests a [`Fault`] answers, shared by the proxy's connections.
#[derive(Clone, Debug)]
pub enum Limit {
    /// Those over a token bucket's rate: `rate` a second, `burst` at most (EC2's request limits).
    TokenBucket { rate: f64, burst: f64, state: Arc<Mutex<(f64, Instant)>> },
    /// Every `n`th.
    Every { n: usize, seen: Arc<AtomicUsize> },
}

impl Limit {
    pub fn token_bucket(rate: f64, burst: f64) -> Limit {
        Limit::TokenBucket { rate, burst, state: Arc::new(Mutex::new((burst, Instant::now()))) }
    }

    pub fn every(n: usize) -> Limit {
        Limit::Every { n, seen: Arc::new(AtomicUsize::new(0)) }
    }

    /// Whether this matching request is faulted.
    fn faults(&self) -> bool {
        match self {
            Limit::TokenBucket { rate, burst, state } => {
                let mut state = state.lock().unwrap();
                let (tokens, last) = *state;
                let now = Instant::now();
                let tokens = (tokens + (now - last).as_secs_f64() * rate).min(*burst);
                let (tokens, faulted) = if tokens >= 1.0 { (tokens - 1.0, false) } else { (tokens, true) };
                *state = (tokens, now);
                faulted
            }
            Limit::Every { n, seen } => (seen.fetch_add(1, Ordering::SeqCst) + 1) % n == 0,
        }
    }
}

#[derive(Clone, Debug)]
pub enum FaultKind {
    /// Answer instead of moto.
    Answer { status: u16, headers: Vec<(&'static str, &'static str)>, content_type: &'static str, body: String },
    /// Forward, then replace text in moto's answer (to report a state moto cannot hold).
    Rewrite { from: &'static str, to: &'static str },
}

impl Fault {
    /// Counts matching requests without changing them.
    pub fn count(matches: &'static str, method: Option<&'static str>) -> Fault {
        Fault { matches, method, times: 0, kind: FaultKind::Rewrite { from: "", to: "" }, limit: None }
    }

    /// The same answer, to the matching requests `limit` picks.
    pub fn limited(self, limit: Limit) -> Fault {
        Fault { limit: Some(limit), ..self }
    }

    /// EC2's answer to a call that failed on its side: 500 InternalError (query/XML).
    pub fn ec2_internal_error(matches: &'static str) -> Fault {
        Fault {
            matches,
            method: None,
            times: usize::MAX,
            kind: FaultKind::Answer {
                status: 500,
                headers: Vec::new(),
                content_type: "text/xml",
                body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InternalError</Code>\
                   <Message>An internal error has occurred.</Message></Error></Errors><RequestID>5f1a7c0e-internal</RequestID></Response>"
                    .into(),
            },
            limit: None,
        }
    }

    /// EKS's answer while another update runs: 409 ResourceInUseException (REST/JSON).
    pub fn eks_resource_in_use(times: usize) -> Fault {
        Fault {
            matches: "/update-config",
            method: Some("POST"),
            times,
            kind: FaultKind::Answer {
                status: 409,
                headers: vec![("x-amzn-ErrorType", "ResourceInUseException:http://internal.amazon.com/coral/com.amazonaws.eks/")],
                content_type: "application/json",
                body: r#"{"message":"Cluster has updates in progress","clusterName":null,"nodegroupName":null,"addonName":null,"subscriptionId":null}"#.into(),
            },
            limit: None,
        }
    }

    /// DescribeCluster reporting the cluster UPDATING.
    pub fn eks_cluster_updating(times: usize) -> Fault {
        Fault {
            matches: "/clusters/",
            method: Some("GET"),
            times,
            kind: FaultKind::Rewrite { from: "\"status\": \"ACTIVE\"", to: "\"status\": \"UPDATING\"" },
            limit: None,
        }
    }

    /// STS refusing every AssumeRole (a member role that is missing or does not trust the caller).
    pub fn sts_access_denied() -> Fault {
        Fault::sts_assume_role_error(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole")
    }

    /// STS throttling every AssumeRole, past the SDK's own retries.
    pub fn sts_throttling() -> Fault {
        Fault::sts_assume_role_error(400, "Throttling", "Rate exceeded")
    }

    fn sts_assume_role_error(status: u16, code: &str, message: &str) -> Fault {
        Fault {
            matches: "Action=AssumeRole",
            method: Some("POST"),
            times: usize::MAX,
            kind: FaultKind::Answer {
                status,
                headers: Vec::new(),
                content_type: "text/xml",
                body: format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
                     <RequestId>faulted</RequestId></ErrorResponse>"
                ),
            },
            limit: None,
        }
    }

    /// EC2's throttling answer (query protocol, XML).
    pub fn ec2_throttling(action: &'static str, times: usize) -> Fault {
        Fault {
            matches: action,
            method: None,
            times,
            kind: FaultKind::Answer {
                status: 503,
                headers: Vec::new(),
                content_type: "text/xml",
                body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
                   <Message>Request limit exceeded.</Message></Error></Errors><RequestID>5f1a7c0e-throttled</RequestID></Response>"
                    .into(),
            },
            limit: None,
        }
    }
}

pub struct FaultProxy {
    pub url: String,
    failed: Arc<AtomicUsize>,
    matched: Arc<AtomicUsize>,
}

impl FaultProxy {
    pub fn start(upstream: &str, fault: Fault) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let failed = Arc::new(AtomicUsize::new(0));
        let matched = Arc::new(AtomicUsize::new(0));
        let (failed_count, matched_count) = (failed.clone(), matched.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (fault, upstream) = (fault.clone(), upstream.clone());
                let (failed, matched) = (failed_count.clone(), matched_count.clone());
                std::thread::spawn(move || {
                    let _ = serve(client, &upstream, &fault, &failed, &matched);
                });
            }
        });
        FaultProxy { url, failed, matched }
    }

    /// Matching requests answered with the fault so far.
    pub fn failed(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }

    /// Matching requests seen so far (failed or forwarded).
    pub fn matched(&self) -> usize {
        self.matched.load(Ordering::SeqCst)
    }
}

/// One request per connection: the answer closes it, so no response framing is needed.
fn serve(
    client: TcpStream,
    upstream: &str,
    fault: &Fault,
    failed: &AtomicUsize,
    matched: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut writer = client;
    let mut head = String::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
            if name.eq_ignore_ascii_case("connection") {
                continue;
            }
        }
        head.push_str(&line);
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    let is_match = fault.method.is_none_or(|method| request_line.starts_with(method))
        && (request_line.contains(fault.matches) || String::from_utf8_lossy(&body).contains(fault.matches));
    let faulted = is_match
        && match &fault.limit {
            Some(limit) => {
                matched.fetch_add(1, Ordering::SeqCst);
                limit.faults()
            }
            None => matched.fetch_add(1, Ordering::SeqCst) < fault.times,
        };
    if faulted {
        failed.fetch_add(1, Ordering::SeqCst);
        if let FaultKind::Answer { status, headers, content_type, body } = &fault.kind {
            let mut answer = format!("HTTP/1.1 {status} Fault\r\nContent-Type: {content_type}\r\n");
            for (name, value) in headers {
                answer += &format!("{name}: {value}\r\n");
            }
            answer += &format!("Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            return writer.write_all(answer.as_bytes());
        }
    }
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(head.as_bytes())?;
    server.write_all(b"Connection: close\r\n\r\n")?;
    server.write_all(&body)?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    if let (true, FaultKind::Rewrite { from, to }) = (faulted, &fault.kind) {
        answer = rewrite(&answer, from, to);
    }
    writer.write_all(&answer)
}

/// Replaces text in an HTTP answer's body and fixes its Content-Length.
fn rewrite(answer: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return answer.to_vec() };
    let body = body.replace(from, to);
    let head: Vec<String> = head
        .lines()
        .map(|line| {
            if line.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                line.to_owned()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}
