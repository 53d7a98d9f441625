//! WebSub publishing (W3C WebSub §7; the `hub.mode=publish` ping hubs accept): after a new
//! snapshot changes a feed, the hub is told, one request per changed feed, so subscribers
//! need not poll. Pings run as tasks on the server's runtime with retries and exponential
//! backoff; serving never waits for them.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_TYPE, USER_AGENT};
use hyper::{Method, Request};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::runtime::Handle;
use url::Url;

/// Attempts per ping before giving up.
const ATTEMPTS: u32 = 5;
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends publish pings to a hub.
#[derive(Clone)]
pub struct Publisher {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    runtime: Handle,
    /// Wait before the first retry; doubled for each later one.
    first_backoff: Duration,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("first_backoff", &self.first_backoff)
            .finish()
    }
}

/// How a ping ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The hub accepted it (2xx).
    Accepted,
    /// The hub refused it for good (4xx other than 429): retrying would not help.
    Refused(u16),
    /// Every attempt failed.
    GaveUp(String),
}

impl Publisher {
    /// A publisher whose pings run on `runtime`.
    pub fn new(runtime: Handle) -> Publisher {
        let client = Client::builder(TokioExecutor::new()).build(https_connector());
        Publisher {
            client,
            runtime,
            first_backoff: Duration::from_secs(1),
        }
    }

    /// Sets the wait before the first retry (tests use a short one).
    pub fn with_backoff(mut self, first: Duration) -> Publisher {
        self.first_backoff = first;
        self
    }

    /// Pings the hub about each feed URL, in the background.
    pub fn publish(&self, hub: &Url, feeds: Vec<String>) {
        for feed in feeds {
            let this = self.clone();
            let hub = hub.clone();
            self.runtime.spawn(async move {
                match this.ping(&hub, &feed).await {
                    Outcome::Accepted => tracing::info!(hub = %hub, feed = %feed, "WebSub hub notified"),
                    Outcome::Refused(status) => tracing::warn!(hub = %hub, feed = %feed, status, "WebSub hub refused the ping"),
                    Outcome::GaveUp(why) => tracing::warn!(hub = %hub, feed = %feed, "WebSub ping failed: {why}"),
                }
            });
        }
    }

    /// One ping, with retries and exponential backoff on network errors, 429 and 5xx.
    pub async fn ping(&self, hub: &Url, feed: &str) -> Outcome {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "publish")
            .append_pair("hub.url", feed)
            .finish();
        let mut wait = self.first_backoff;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let request = Request::builder()
                .method(Method::POST)
                .uri(hub.as_str())
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .header(
                    USER_AGENT,
                    HeaderValue::from_static(concat!("dropfeed/", env!("CARGO_PKG_VERSION"))),
                )
                .body(Full::new(Bytes::from(body.clone())));
            let request = match request {
                Ok(r) => r,
                Err(e) => return Outcome::GaveUp(format!("bad hub URL: {e}")),
            };
            match tokio::time::timeout(ATTEMPT_TIMEOUT, self.client.request(request)).await {
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let _ = response.into_body().collect().await;
                    match status {
                        200..=299 => return Outcome::Accepted,
                        429 | 500..=599 => last = format!("hub answered {status}"),
                        _ => return Outcome::Refused(status),
                    }
                }
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => last = "timed out".into(),
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
        Outcome::GaveUp(last)
    }
}

/// An http and https connector trusting the web's root certificates (ring, HTTP/1): the
/// client of WebSub pings and of `dropfeed import`.
pub fn https_connector() -> HttpsConnector<HttpConnector> {
    let tls = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .map(|builder| {
        builder
            .with_root_certificates(rustls::RootCertStore {
                roots: webpki_roots_certs(),
            })
            .with_no_client_auth()
    })
    .expect("ring supports the default protocol versions");
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build()
}

fn webpki_roots_certs() -> Vec<rustls::pki_types::TrustAnchor<'static>> {
    webpki_roots::TLS_SERVER_ROOTS.to_vec()
}
