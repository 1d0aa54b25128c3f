//! The metrics endpoint: `GET /metrics` (see
//! [`prometheus`]: OpenMetrics 1.0, or the Prometheus
//! text format 0.0.4 when the request's `Accept` ranks `text/plain` above
//! `application/openmetrics-text`) and `GET /health` (JSON), served by a
//! shard over glommio's io_uring TCP.
//!
//! Each connection is a task of its own on the shard, so a client that is
//! slow to send or to read waits on io_uring, never in the shard's way; it
//! gets [`REQUEST_DEADLINE`] to send its request and [`IO_TIMEOUT`] per
//! write, then loses the connection. Requests are parsed by `httparse`
//! (hyper's HTTP/1 parser). A request whose head exceeds
//! [`MAX_REQUEST_HEAD`] bytes or [`MAX_HEADERS`] headers gets 431, a
//! malformed one 400, an unknown path 404, a method other than GET or HEAD
//! 405; each response closes its connection and only that one. At most
//! [`MAX_CONNECTIONS`] connections are served at once; more are closed as
//! they come.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};
use whirl_executor::System;

use crate::prometheus;

/// Bytes a request's head (request line and headers) may take.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// Headers a request may have.
pub const MAX_HEADERS: usize = 32;
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 64;
/// Time a client has to send its whole request.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// Time one write of the response may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Time the shards have to answer a scrape: a shard stuck in a handler (or
/// whose injection queue waits behind a full mailbox) makes the scrape 503
/// instead of hanging.
pub const SNAPSHOT_DEADLINE: Duration = Duration::from_secs(2);

/// What `query` resolves to, or `None` if the shards did not all answer
/// within [`SNAPSHOT_DEADLINE`].
async fn in_time<T>(query: impl std::future::Future<Output = T>) -> Option<T> {
    let late = async {
        glommio::timer::sleep(SNAPSHOT_DEADLINE).await;
        None
    };
    futures_lite::future::or(async { Some(query.await) }, late).await
}

/// Serves `/metrics` and `/health` for `system` on `listener` until the
/// task running it is dropped. `Runtime::builder().metrics_endpoint(addr)`
/// runs it on shard 0; a program embedding whirl runs it on an executor of
/// its choice (one of its shards', say).
pub async fn serve_metrics(system: System, listener: TcpListener) {
    let open = Rc::new(Cell::new(0usize));
    loop {
        let stream = match listener.accept().await {
            Ok(stream) => stream,
            Err(error) => {
                // Out of file descriptors, say: wait a little, not spin.
                tracing::warn!(%error, "the metrics endpoint could not accept a connection");
                glommio::timer::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if open.get() >= MAX_CONNECTIONS {
            continue; // Dropped: closed.
        }
        open.set(open.get() + 1);
        let (system, open) = (system.clone(), open.clone());
        glommio::spawn_local(async move {
            if let Err(error) = serve_connection(&system, stream).await {
                tracing::debug!(%error, "a metrics connection ended early");
            }
            open.set(open.get() - 1);
        })
        .detach();
    }
}

/// What was wrong with a request.
#[derive(Debug)]
enum BadRequest {
    /// Not HTTP/1.x.
    Malformed,
    /// Its head is too long, or has too many headers.
    TooLarge,
    /// The client closed the connection, failed, or took too long.
    Gone(io::Error),
}

/// A request's method and path (without its query), and whether it asked
/// for the Prometheus text format 0.0.4 rather than OpenMetrics.
struct Request {
    head: bool,
    get: bool,
    path: String,
    text_format: bool,
}

async fn serve_connection(system: &System, mut stream: TcpStream) -> io::Result<()> {
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let deadline = async {
        glommio::timer::sleep(REQUEST_DEADLINE).await;
        Err(BadRequest::Gone(io::Error::new(io::ErrorKind::TimedOut, "request too slow")))
    };
    let request = futures_lite::future::or(read_request(&mut stream), deadline).await;
    let response = match request {
        Ok(request) => respond(system, &request).await,
        Err(BadRequest::Malformed) => plain(400, "Bad Request", "malformed HTTP request\n"),
        Err(BadRequest::TooLarge) => {
            plain(431, "Request Header Fields Too Large", "request head over 8 KiB or 32 headers\n")
        }
        Err(BadRequest::Gone(error)) => return Err(error),
    };
    stream.write_all(&response).await?;
    stream.flush().await?;
    stream.shutdown(std::net::Shutdown::Both).await.map_err(io::Error::from)
}

/// Reads until a request's head is complete.
async fn read_request(stream: &mut TcpStream) -> Result<Request, BadRequest> {
    let mut buffer = vec![0u8; MAX_REQUEST_HEAD];
    let mut filled = 0;
    loop {
        let read = stream.read(&mut buffer[filled..]).await.map_err(BadRequest::Gone)?;
        if read == 0 {
            let closed = io::Error::new(io::ErrorKind::UnexpectedEof, "closed mid-request");
            return Err(BadRequest::Gone(closed));
        }
        filled += read;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buffer[..filled]) {
            Ok(httparse::Status::Complete(_)) => {
                let method = request.method.unwrap_or_default();
                let path = request.path.unwrap_or_default();
                let path = path.split('?').next().unwrap_or_default().to_owned();
                let accept =
                    request.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("accept"));
                let text_format = prefers_text_format(accept.map(|h| h.value));
                let (head, get) = (method == "HEAD", method == "GET");
                return Ok(Request { head, get, path, text_format });
            }
            Ok(httparse::Status::Partial) if filled == buffer.len() => {
                return Err(BadRequest::TooLarge)
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(BadRequest::TooLarge),
            Err(_) => return Err(BadRequest::Malformed),
        }
    }
}

async fn respond(system: &System, request: &Request) -> Vec<u8> {
    if !request.get && !request.head {
        return plain(405, "Method Not Allowed", "only GET and HEAD\n");
    }
    let (status, reason, content_type, body) = match request.path.as_str() {
        "/metrics" => match in_time(system.snapshot()).await {
            Some(snapshot) if request.text_format => {
                (200, "OK", prometheus::TEXT_CONTENT_TYPE, prometheus::render_text(snapshot))
            }
            Some(snapshot) => (200, "OK", prometheus::CONTENT_TYPE, prometheus::render(snapshot)),
            None => {
                return plain(503, "Service Unavailable", "the shards did not answer in time\n")
            }
        },
        "/health" => {
            let (healthy, body) = health(system).await;
            let (status, reason) = if healthy { (200, "OK") } else { (503, "Service Unavailable") };
            (status, reason, "application/json", body)
        }
        _ => return plain(404, "Not Found", "try /metrics or /health\n"),
    };
    let mut out = response(status, reason, content_type, body.as_bytes());
    if request.head {
        out.truncate(out.len() - body.len());
    }
    out
}

/// Whether the `Accept` headers rank the Prometheus text format 0.0.4
/// (`text/plain`) above OpenMetrics (`application/openmetrics-text`), as
/// their `q` values say. OpenMetrics wins ties and when neither is named
/// (no header, `*/*`): it is what Prometheus asks for first.
fn prefers_text_format<'a>(accept: impl Iterator<Item = &'a [u8]>) -> bool {
    let (mut openmetrics, mut text) = (-1.0f32, -1.0f32);
    for value in accept {
        for range in String::from_utf8_lossy(value).split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts.find_map(|p| {
                let (name, value) = p.split_once('=')?;
                name.trim().eq_ignore_ascii_case("q").then(|| value.trim().parse::<f32>())
            });
            // A q outside 0..=1 (or not a number) makes the range void.
            let q = match q {
                None => 1.0,
                Some(Ok(q)) if (0.0..=1.0).contains(&q) => q,
                Some(_) => continue,
            };
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(q),
                "text/plain" => text = text.max(q),
                _ => {}
            }
        }
    }
    text > 0.0 && text > openmetrics
}

/// Whether the runtime is running with every shard answering (a closure
/// run on each, reading nothing), and a JSON object that says so.
async fn health(system: &System) -> (bool, String) {
    let unanswered = in_time(system.mesh().unanswered_shards()).await;
    let answering = unanswered.map_or(0, |late| system.shards() - late.len());
    let shutting_down = system.mesh().is_shutting_down();
    let healthy = !shutting_down && answering == system.shards();
    let status = match (shutting_down, healthy) {
        (true, _) => "shutting_down",
        (false, true) => "ok",
        (false, false) => "degraded",
    };
    let stats = system.stats();
    let body = format!(
        "{{\"status\":\"{status}\",\"shards\":{},\"shards_answering\":{},\"actors\":{},\
         \"restarts\":{},\"dead_letters\":{}}}\n",
        system.shards(),
        answering,
        stats.actors,
        stats.restarts,
        stats.dead_letters,
    );
    (healthy, body)
}

fn plain(status: u16, reason: &str, body: &str) -> Vec<u8> {
    response(status, reason, "text/plain; charset=utf-8", body.as_bytes())
}

fn response(status: u16, reason: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::prefers_text_format;

    fn prefers(accept: &[&str]) -> bool {
        prefers_text_format(accept.iter().map(|a| a.as_bytes()))
    }

    #[test]
    fn accept_decides_the_format() {
        // What Prometheus 2.x sends: OpenMetrics first.
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                          version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(!prefers(&[prometheus]));
        assert!(prefers(&["text/plain; version=0.0.4"]));
        assert!(prefers(&["text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5"]));
        assert!(prefers(&["Text/Plain"]));
        assert!(!prefers(&[]));
        assert!(!prefers(&["*/*"]));
        assert!(!prefers(&["text/plain;q=0"]));
        assert!(!prefers(&["text/plain;q=0.5,application/openmetrics-text;q=0.5"]));
        assert!(prefers(&["application/json", "text/plain"]));
        // Parameters are case-insensitive; a q that is not one is void.
        assert!(!prefers(&["text/plain;Q=0"]));
        assert!(!prefers(&["text/plain;q=5"]));
        assert!(prefers(&["application/openmetrics-text;q=NaN, text/plain;q=0.1"]));
        assert!(!prefers(&["text/plain;q=NaN"]));
        assert!(prefers(&["text/plain; q = 0.9 , application/openmetrics-text;q=0.8"]));
    }
}
