//! A minimal Lambda Runtime API (the HTTP interface a bootstrap polls), for the benchmarks: it
//! hands out one event per `invocation/next` and timestamps the moment each answer arrives.
//! Several bootstraps may poll one API, as Lambda scales a function out: each takes the next
//! event.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the bootstrap did, in order.
#[derive(Debug, Clone)]
pub enum RuntimeEvent {
    /// It asked for the next invocation.
    Polled(Instant),
    /// It answered an invocation (response or error body) of `event`.
    Answered { at: Instant, ok: bool, body: String, event: String },
}

pub struct RuntimeApi {
    pub port: u16,
    events: Sender<String>,
    pub seen: Receiver<RuntimeEvent>,
}

impl RuntimeApi {
    pub fn start() -> RuntimeApi {
        RuntimeApi::start_with_timeout(Duration::from_secs(30))
    }

    /// An API whose invocations each have `timeout` to run (their `Lambda-Runtime-Deadline-Ms`).
    pub fn start_with_timeout(timeout: Duration) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (events, pending) = channel::<String>();
        let (report, seen) = channel::<RuntimeEvent>();
        let pending = Arc::new(Mutex::new(pending));
        let in_flight: InFlight = Arc::default();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (pending, report, in_flight) = (pending.clone(), report.clone(), in_flight.clone());
                std::thread::spawn(move || serve(stream, &pending, &report, &in_flight, timeout));
            }
        });
        RuntimeApi { port, events, seen }
    }

    /// Queues an event for the bootstrap's next poll.
    pub fn send(&self, event: &serde_json::Value) {
        self.events.send(event.to_string()).unwrap();
    }
}

/// Events handed out and not answered yet, by request id: the answer may come on another
/// connection than the poll that took the event.
type InFlight = Arc<Mutex<(u64, HashMap<String, String>)>>;

fn serve(
    stream: TcpStream,
    pending: &Mutex<Receiver<String>>,
    report: &Sender<RuntimeEvent>,
    in_flight: &InFlight,
    timeout: Duration,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut content_length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
        if request_line.starts_with("GET") && path.ends_with("/invocation/next") {
            let _ = report.send(RuntimeEvent::Polled(Instant::now()));
            let Ok(event) = pending.lock().unwrap().recv() else { return };
            let request_id = {
                let mut in_flight = in_flight.lock().unwrap();
                in_flight.0 += 1;
                let id = format!("bench-{}", in_flight.0);
                in_flight.1.insert(id.clone(), event.clone());
                id
            };
            let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
                + timeout.as_millis();
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {request_id}\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:sg-guard\r\n\
                 Content-Length: {}\r\n\r\n{event}",
                event.len()
            );
            if writer.write_all(response.as_bytes()).is_err() {
                return;
            }
        } else {
            let ok = path.ends_with("/response");
            // …/invocation/<request id>/response (or /error)
            let request_id = path.rsplit('/').nth(1).unwrap_or_default();
            let event = in_flight.lock().unwrap().1.remove(request_id).unwrap_or_default();
            let _ = report.send(RuntimeEvent::Answered {
                at: Instant::now(),
                ok,
                body: String::from_utf8_lossy(&body).into_owned(),
                event,
            });
            if writer.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n").is_err() {
                return;
            }
        }
    }
}
