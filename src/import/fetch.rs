//! Reading an import's source: a file, or an http(s) URL fetched with bounds (size of a
//! document, redirects followed, time per request). Web feeds are fetched with the same
//! hyper + rustls client as WebSub pings.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{HeaderValue, LOCATION, USER_AGENT};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use url::Url;

use super::ImportError;

/// Largest document read, bytes: a WordPress export of a large blog runs to tens of MB.
pub const MAX_BYTES: usize = 256 * 1024 * 1024;
/// Redirects followed for one document.
pub const MAX_REDIRECTS: usize = 5;
/// Time one request may take, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Where a document is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A local file.
    File(PathBuf),
    /// An http(s) URL.
    Web(Url),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Web(url) => write!(f, "{url}"),
        }
    }
}

impl Location {
    /// A source as given on the command line: an http(s) URL, else a file path.
    pub fn parse(source: &str) -> Location {
        match Url::parse(source) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Location::Web(url),
            _ => Location::File(PathBuf::from(source)),
        }
    }

    /// A link found in this document (an archive's address), resolved against it.
    pub fn join(&self, link: &str) -> Option<Location> {
        match self {
            Location::Web(url) => {
                let joined = url.join(link).ok()?;
                matches!(joined.scheme(), "http" | "https").then_some(Location::Web(joined))
            }
            Location::File(path) => match Url::parse(link) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => Some(Location::Web(url)),
                Ok(_) => None,
                Err(_) => Some(Location::File(path.parent()?.join(link))),
            },
        }
    }
}

/// Reads documents, one client for all.
pub struct Fetcher {
    client: Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        Empty<Bytes>,
    >,
}

impl Fetcher {
    /// A fetcher; must be used inside a tokio runtime.
    pub fn new() -> Fetcher {
        Fetcher {
            client: Client::builder(TokioExecutor::new()).build(crate::websub::https_connector()),
        }
    }

    /// The bytes of a document.
    pub async fn read(&self, location: &Location) -> Result<Bytes, ImportError> {
        let fail = |why: String| ImportError::Read {
            origin: location.to_string(),
            why,
        };
        match location {
            Location::File(path) => {
                let size = std::fs::metadata(path)
                    .map_err(|e| fail(e.to_string()))?
                    .len();
                if size > MAX_BYTES as u64 {
                    return Err(fail(format!("larger than {MAX_BYTES} bytes")));
                }
                std::fs::read(path)
                    .map(Bytes::from)
                    .map_err(|e| fail(e.to_string()))
            }
            Location::Web(url) => {
                let fetched = tokio::time::timeout(REQUEST_TIMEOUT, self.get(url.clone())).await;
                fetched.map_err(|_| fail("timed out".into()))?.map_err(fail)
            }
        }
    }

    /// `GET`, following redirects, the body bounded.
    async fn get(&self, mut url: Url) -> Result<Bytes, String> {
        for _ in 0..=MAX_REDIRECTS {
            let request = Request::get(url.as_str())
                .header(
                    USER_AGENT,
                    HeaderValue::from_static(concat!(
                        "dropfeed-import/",
                        env!("CARGO_PKG_VERSION")
                    )),
                )
                .body(Empty::new())
                .map_err(|e| e.to_string())?;
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            if status.is_redirection() {
                let to = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok());
                let to = to.ok_or_else(|| format!("{status} without a Location"))?;
                url = url
                    .join(to)
                    .map_err(|e| format!("bad redirect `{to}`: {e}"))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(format!("redirected to `{url}`, not http(s)"));
                }
                continue;
            }
            if !status.is_success() {
                return Err(format!("answered {status}"));
            }
            let body = Limited::new(response.into_body(), MAX_BYTES);
            let collected = body.collect().await.map_err(|e| e.to_string())?;
            return Ok(collected.to_bytes());
        }
        Err(format!("more than {MAX_REDIRECTS} redirects"))
    }
}

impl Default for Fetcher {
    fn default() -> Self {
        Fetcher::new()
    }
}
