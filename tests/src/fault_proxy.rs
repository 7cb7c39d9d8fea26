//! A small HTTP proxy between the AWS SDK and moto that answers the first N requests matching a
//! rule with a canned AWS error, and forwards everything else: throttling and busy resources
//! that moto cannot produce on its own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Which requests to fail, how often, and with what answer.
#[derive(Clone, Debug)]
pub struct Fault {
    /// A substring of the request line or body, e.g. `Action=RevokeSecurityGroupIngress`.
    pub matches: &'static str,
    /// How many matching requests fail before the rest pass through.
    pub times: usize,
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Fault {
    /// EC2's throttling answer (query protocol, XML).
    pub fn ec2_throttling(action: &'static str, times: usize) -> Fault {
        Fault {
            matches: action,
            times,
            status: 503,
            content_type: "text/xml",
            body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
                   <Message>Request limit exceeded.</Message></Error></Errors><RequestID>5f1a7c0e-throttled</RequestID></Response>"
                .into(),
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
    let is_match = head.lines().next().unwrap_or_default().contains(fault.matches)
        || String::from_utf8_lossy(&body).contains(fault.matches);
    if is_match && matched.fetch_add(1, Ordering::SeqCst) < fault.times {
        failed.fetch_add(1, Ordering::SeqCst);
        let answer = format!(
            "HTTP/1.1 {} Fault\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            fault.status,
            fault.content_type,
            fault.body.len(),
            fault.body
        );
        return writer.write_all(answer.as_bytes());
    }
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(head.as_bytes())?;
    server.write_all(b"Connection: close\r\n\r\n")?;
    server.write_all(&body)?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    writer.write_all(&answer)
}
