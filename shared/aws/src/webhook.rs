use std::future::Future;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// What a webhook answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAnswer {
    pub status: u16,
    /// `Retry-After`, in seconds, when given.
    pub retry_after: Option<u64>,
}

/// A POST that never reached an answer. Its text never contains the URL: a webhook URL is a
/// credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the webhook could not be reached: {0}")]
pub struct WebhookUnreachable(pub String);

/// Posts JSON to an incoming webhook.
pub trait Webhook: Send + Sync {
    fn post(&self, url: &str, json: &str) -> impl Future<Output = Result<WebhookAnswer, WebhookUnreachable>> + Send;
}

/// [`Webhook`] over hyper with rustls and the system's root certificates (plain http for local
/// listeners in tests).
#[derive(Clone)]
pub struct HyperWebhook {
    client: Client<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, Full<Bytes>>,
}

impl HyperWebhook {
    pub fn new() -> Result<HyperWebhook, std::io::Error> {
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_native_roots()?.https_or_http().enable_http1().build();
        Ok(HyperWebhook { client: Client::builder(TokioExecutor::new()).build(connector) })
    }
}

impl Webhook for HyperWebhook {
    async fn post(&self, url: &str, json: &str) -> Result<WebhookAnswer, WebhookUnreachable> {
        let hide = |text: String| WebhookUnreachable(text.replace(url, "<webhook URL>"));
        let request = hyper::Request::post(url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(json.to_owned())))
            .map_err(|_| WebhookUnreachable("the webhook URL is not a valid URL".into()))?;
        let response = self.client.request(request).await.map_err(|error| hide(format!("{error}")))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse().ok());
        // Drain the body so the connection can be reused.
        let _ = response.into_body().collect().await;
        Ok(WebhookAnswer { status, retry_after })
    }
}
