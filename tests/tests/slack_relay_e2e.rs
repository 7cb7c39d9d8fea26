//! The built `slack-notifier` bootstrap under cargo-lambda's runtime: it receives an SNS event as
//! SNS delivers it, reads the webhook URL from moto's Secrets Manager, and posts to a local HTTP
//! listener started here, which checks the blocks and plays Slack's answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use snapback_notify::{sample_alert, Outcome};
use snapback_tests::lambda::{function_binary, LocalLambda};
use snapback_tests::{moto_url, sdk_config, World};

/// One HTTP request: (request line, headers lower-cased, body).
fn read_request(stream: &std::net::TcpStream) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers.iter().find(|(name, _)| name == "content-length").and_then(|(_, v)| v.parse().ok());
    let mut body = vec![0; length.unwrap_or(0)];
    reader.read_exact(&mut body).unwrap();
    (request_line.trim().to_owned(), headers, body)
}

/// A Slack stand-in: answers each POST with the next scripted (status, Retry-After), then 200.
struct Listener {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Listener {
    fn start(script: Vec<(u16, Option<&'static str>)>) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // The path carries a token, like a real webhook: it must never be printed.
        let url = format!("http://{}/services/T0SNAPBACK/B0SNAPBACK/secret-token-4f9a", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        std::thread::spawn(move || {
            let mut script = script.into_iter();
            for stream in listener.incoming().flatten() {
                let (_, _, body) = read_request(&stream);
                seen.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                let (status, retry_after) = script.next().unwrap_or((200, None));
                let mut answer = format!("HTTP/1.1 {status} Scripted\r\nContent-Length: 2\r\nConnection: close\r\n");
                if let Some(seconds) = retry_after {
                    answer += &format!("Retry-After: {seconds}\r\n");
                }
                answer += "\r\nok";
                let mut stream = stream;
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        Listener { url, bodies }
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

/// An SNS event as SNS delivers it to a Lambda subscriber, carrying the alert's JSON form.
fn sns_event(alert_json: &Value) -> Value {
    json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:snapback-alerts:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        "Sns": {
            "Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:snapback-alerts",
            "Subject": "[snapback] Reverted: sg-open-remote-admin on sg-0123456789abcdef0",
            "Message": alert_json.to_string(), "Timestamp": "2026-11-27T10:00:01.000Z",
            "SignatureVersion": "1", "Signature": "EXAMPLE", "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": {"rule": {"Type": "String", "Value": "sg-open-remote-admin"},
                                  "severity": {"Type": "String", "Value": "high"},
                                  "outcome": {"Type": "String", "Value": "remediated"}}
        }
    }]})
}

/// Stores the listener's URL as the webhook secret and starts the relay.
async fn relay_to(listener: &Listener, log: &std::path::Path) -> LocalLambda {
    let world = World::in_default_account().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config().await);
    let name = format!("snapback/slack-webhook-{}-{}", std::process::id(), log.file_name().unwrap().to_string_lossy());
    let arn = secrets.create_secret().name(name).secret_string(&listener.url).send().await.unwrap().arn.unwrap();
    let mut env = world.function_env();
    env.push(("SNAPBACK_SLACK_SECRET_ARN", arn));
    env.push(("RUST_LOG", "debug".to_owned()));
    env.push(("SNAPBACK_DOCS_URL", "https://github.com/example/snapback/blob/main/RULES.md".to_owned()));
    assert!(moto_url().starts_with("http://"));
    LocalLambda::start_logging(&function_binary("slack-notifier"), &env, Some(log))
}

fn log_file(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("slack-notifier-{}-{name}.log", std::process::id()))
}

#[tokio::test]
async fn an_alert_is_posted_as_block_kit() {
    let listener = Listener::start(vec![]);
    let relay = relay_to(&listener, &log_file("ok")).await;
    let alert = sample_alert(snapback_rules::rule("sg-open-remote-admin").unwrap(), Outcome::Remediated);

    let answer = relay.invoke(&sns_event(&alert.to_json()));

    assert_eq!(answer["posted"], 1, "{answer}");
    let bodies = listener.bodies();
    assert_eq!(bodies.len(), 1);
    let blocks = &bodies[0]["attachments"][0]["blocks"];
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(
        blocks[0]["text"]["text"],
        ":white_check_mark: [HIGH] Reverted: Remote administration (SSH/RDP) open to the internet"
    );
    let fields = blocks[1]["fields"].to_string();
    for expected in [
        "sg-0123456789abcdef0",
        "111122223333 / eu-west-1",
        "assumed-role/Admin/alice",
        "198.51.100.7",
        "2026-11-27T10:00:00Z",
    ] {
        assert!(fields.contains(expected), "{expected} in {fields}");
    }
    let all = blocks.to_string();
    assert!(all.contains("snapback:exempt=sg-open-remote-admin"), "{all}");
    assert!(
        all.contains("https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/events/"),
        "{all}"
    );
    assert!(all.contains("RULES.md#sg-open-remote-admin"), "{all}");
    assert!(blocks.as_array().unwrap().len() <= 50);
}

#[tokio::test]
async fn a_429_is_honoured_and_the_second_attempt_succeeds() {
    let listener = Listener::start(vec![(429, Some("1"))]);
    let relay = relay_to(&listener, &log_file("429")).await;
    let alert = sample_alert(snapback_rules::rule("eks-public-endpoint").unwrap(), Outcome::WouldRemediate);

    let started = std::time::Instant::now();
    let answer = relay.invoke(&sns_event(&alert.to_json()));

    assert_eq!(answer["attempts"], 2, "{answer}");
    assert_eq!(listener.bodies().len(), 2);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "it waited for Retry-After");
}

#[tokio::test]
async fn a_404_fails_at_once_naming_the_status_and_never_the_url() {
    let listener = Listener::start(vec![(404, None)]);
    let log = log_file("404");
    let relay = relay_to(&listener, &log).await;
    let alert = sample_alert(snapback_rules::rule("sg-open-kubelet").unwrap(), Outcome::Failed);

    let (ok, printed) = relay.invoke_result(&sns_event(&alert.to_json()));
    drop(relay);

    assert!(!ok, "the invocation fails: {printed}");
    assert!(printed.contains("HTTP 404"), "{printed}");
    assert_eq!(listener.bodies().len(), 1, "no retry after a 404");
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    for output in [&printed, &logs] {
        assert!(!output.contains("secret-token-4f9a") && !output.contains(&listener.url), "the URL leaked: {output}");
    }
}

/// Lambda's Invoke API, in front of the relay under cargo-lambda: each Invoke is handed to the
/// running bootstrap, then answered 202 as an asynchronous invocation is; (request line,
/// invocation type) of each is kept. The relay is stopped with the service.
struct LambdaService {
    url: String,
    invoked: Arc<Mutex<Vec<(String, String)>>>,
    relay: Arc<Mutex<Option<LocalLambda>>>,
}

impl LambdaService {
    fn start(relay: LocalLambda) -> LambdaService {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let invoked = Arc::new(Mutex::new(Vec::new()));
        let relay = Arc::new(Mutex::new(Some(relay)));
        let (seen, running) = (invoked.clone(), relay.clone());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let (request_line, headers, body) = read_request(&stream);
                let kind = headers.iter().find(|(name, _)| name == "x-amz-invocation-type").map(|(_, v)| v.clone());
                seen.lock().unwrap().push((request_line, kind.unwrap_or_default()));
                let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if let Some(relay) = running.lock().unwrap().as_ref() {
                    relay.invoke_result(&payload);
                }
                let _ = stream.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        LambdaService { url, invoked, relay }
    }
}

impl Drop for LambdaService {
    fn drop(&mut self) {
        // Stops the emulator and the bootstrap (the listener thread lives on, idle).
        self.relay.lock().unwrap().take();
    }
}

#[tokio::test]
async fn an_alert_the_deleted_topic_refuses_reaches_slack_through_the_relay_invoked_directly() {
    use snapback_aws::{AlertPublisher, RelayFallback, SnsPublisher};
    let listener = Listener::start(vec![]);
    let service = LambdaService::start(relay_to(&listener, &log_file("fallback")).await);
    let world = World::new().await;
    let lambda = aws_sdk_lambda::Client::new(&snapback_tests::sdk_config_at(&service.url).await);
    let deleted = format!("arn:aws:sns:{}:{}:snapback-alerts", snapback_tests::REGION, world.aws.account);
    let silenced = RelayFallback::new(
        Box::new(SnsPublisher::new(world.aws.sns.clone(), deleted)),
        lambda.clone(),
        "snapback-slack-notifier",
    );
    let alert = sample_alert(snapback_rules::rule("guard-alerts-silenced").unwrap(), Outcome::WouldRemediate);

    silenced.publish(&alert).await.expect("the relay was invoked");

    let invoked = service.invoked.lock().unwrap().clone();
    assert_eq!(invoked.len(), 1);
    assert!(invoked[0].0.starts_with("POST /2015-03-31/functions/snapback-slack-notifier/invocations"), "{invoked:?}");
    assert_eq!(invoked[0].1, "Event", "invoked asynchronously: the relay may outlast the watchdog");
    let bodies = listener.bodies();
    assert_eq!(bodies.len(), 1, "posted to Slack once");
    assert!(bodies[0]["attachments"][0]["blocks"].to_string().contains("guard-alerts-silenced"), "{}", bodies[0]);

    // A topic that takes the alert: the relay is not called.
    let working = RelayFallback::new(
        Box::new(SnsPublisher::new(world.aws.sns.clone(), &world.topic_arn)),
        lambda,
        "snapback-slack-notifier",
    );
    working.publish(&alert).await.unwrap();
    assert_eq!(service.invoked.lock().unwrap().len(), 1);
    assert_eq!(world.alerts().await.len(), 1);
}
