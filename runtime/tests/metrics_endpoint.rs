//! The metrics endpoint over real HTTP: `/metrics` parses as Prometheus
//! text with the exact counts, `/health` answers JSON; bad requests get
//! 400/404/405/431 and close only their own connection; a client that
//! sends slowly stalls neither the shard nor other scrapes.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::{Counter, CounterMsg};
use whirl::Runtime;

/// A runtime of two shards serving the endpoint on a free port.
fn runtime() -> (Runtime, SocketAddr) {
    let rt = common::builder(2).metrics_endpoint(([127, 0, 0, 1], 0)).build().unwrap();
    let addr = rt.metrics_addr().expect("an endpoint");
    (rt, addr)
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    match ureq::get(&format!("http://{addr}{path}")).call() {
        Ok(response) => (response.status(), response.into_string().unwrap()),
        Err(ureq::Error::Status(code, response)) => (code, response.into_string().unwrap()),
        Err(error) => panic!("GET {path}: {error}"),
    }
}

/// Sends `request` on a connection of its own and reads the whole answer.
fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The value of the sample `name` whose labels include `labels`.
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"));
    match &sample.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => *v,
        other => panic!("{name}: not a number: {other:?}"),
    }
}

#[test]
fn a_scrape_parses_as_prometheus_text_with_exact_counts() {
    common::within(120, || {
        let (rt, addr) = runtime();
        let sys = rt.system();
        let counter = sys.spawn_on(1, || Counter { n: 0 }).unwrap();
        sys.register("counter", counter).unwrap();
        for _ in 0..250 {
            counter.send_blocking(CounterMsg::Add(1)).unwrap();
        }
        assert_eq!(counter.ask_blocking(CounterMsg::Get, Duration::from_secs(30)), Ok(250));

        let (status, body) = get(addr, "/metrics");
        assert_eq!(status, 200);
        assert!(body.ends_with("# EOF\n"), "OpenMetrics text ends with # EOF");
        let lines = body.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
        let actor = [("shard", "1"), ("actor", "counter")];
        assert_eq!(value(&scrape, "whirl_actor_handled_total", &actor), 251.0);
        assert_eq!(value(&scrape, "whirl_actor_mailbox_depth", &actor), 0.0);
        assert_eq!(value(&scrape, "whirl_actor_restarts_total", &actor), 0.0);
        assert_eq!(value(&scrape, "whirl_actors", &[]), 1.0);
        assert_eq!(value(&scrape, "whirl_shards", &[]), 2.0);
        assert_eq!(value(&scrape, "whirl_dead_letters_total", &[("cause", "stopped")]), 0.0);
        assert!(value(&scrape, "whirl_shard_busy_seconds_total", &[("shard", "0")]) > 0.0);
        assert_eq!(
            value(&scrape, "whirl_shard_ready", &[("shard", "1"), ("priority", "normal")]),
            0.0
        );
        // Every family has HELP and TYPE, and the histogram has its series.
        assert!(body.contains("# TYPE whirl_shard_handling_seconds histogram"));
        assert!(body.contains("whirl_shard_handling_seconds_bucket{le=\"+Inf\",shard=\"0\"}"));

        let (status, health) = get(addr, "/health");
        assert_eq!(status, 200);
        assert!(health.starts_with("{\"status\":\"ok\",\"shards\":2,"), "{health}");
        rt.shutdown();
    });
}

/// Asked for the Prometheus text format 0.0.4, `/metrics` answers in it:
/// every sample's family has HELP and TYPE lines under the sample's own
/// name (what `promtool check metrics` wants; `.ci/run` runs promtool on
/// it), the same counts, and no OpenMetrics-only lines.
#[test]
fn accept_text_plain_gets_the_0_0_4_text_format() {
    common::within(120, || {
        let (rt, addr) = runtime();
        let counter = rt.system().spawn_on(1, || Counter { n: 0 }).unwrap();
        rt.system().register("counter", counter).unwrap();
        for _ in 0..10 {
            counter.send_blocking(CounterMsg::Add(1)).unwrap();
        }
        assert_eq!(counter.ask_blocking(CounterMsg::Get, Duration::from_secs(30)), Ok(10));
        let answer = raw(
            addr,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain; version=0.0.4\r\n\r\n",
        );
        let (head, body) = answer.split_once("\r\n\r\n").expect("a response");
        assert!(head.contains("Content-Type: text/plain; version=0.0.4"), "{head}");
        assert!(!body.contains("# EOF") && !body.contains("# UNIT"), "OpenMetrics lines");
        let typed: Vec<&str> =
            body.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.split(' ').next()).collect();
        let helped: Vec<&str> =
            body.lines().filter_map(|l| l.strip_prefix("# HELP ")?.split(' ').next()).collect();
        for sample in body.lines().filter(|l| !l.starts_with('#')) {
            let name = sample.split(['{', ' ']).next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix).filter(|f| typed.contains(f)))
                .unwrap_or(name);
            assert!(typed.contains(&family) && helped.contains(&family), "{sample}: no TYPE/HELP");
        }
        let lines = body.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
        let actor = [("shard", "1"), ("actor", "counter")];
        assert_eq!(value(&scrape, "whirl_actor_handled_total", &actor), 11.0);
        // Without a preference for text/plain: OpenMetrics.
        let (_, openmetrics) = get(addr, "/metrics");
        assert!(openmetrics.ends_with("# EOF\n"));
        rt.shutdown();
    });
}

#[test]
fn bad_requests_get_their_status_and_close_only_their_connection() {
    common::within(120, || {
        let (rt, addr) = runtime();
        // A client that has sent half a request and waits.
        let mut patient = TcpStream::connect(addr).unwrap();
        patient.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();

        assert_eq!(get(addr, "/nothing").0, 404);
        let garbage = raw(addr, b"\x00\x01 not http\r\n\r\n");
        assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
        let big = format!("GET /metrics HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(9000));
        assert!(raw(addr, big.as_bytes()).starts_with("HTTP/1.1 431 "));
        let many: String = (0..40).map(|i| format!("X-{i}: y\r\n")).collect();
        let many = format!("GET /metrics HTTP/1.1\r\n{many}\r\n");
        assert!(raw(addr, many.as_bytes()).starts_with("HTTP/1.1 431 "));
        let post = raw(addr, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405 "), "{post}");

        // The patient client's connection was untouched: it finishes its
        // request and gets its answer.
        patient.write_all(b"\r\n").unwrap();
        let mut answer = String::new();
        patient.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        rt.shutdown();
    });
}

#[test]
fn a_slow_client_stalls_neither_the_shard_nor_other_scrapes() {
    common::within(120, || {
        let (rt, addr) = runtime();
        let sys = rt.system();
        // Clients that send a byte and then nothing, on the endpoint's
        // shard (0).
        let slow: Vec<TcpStream> = (0..8)
            .map(|_| {
                let mut stream = TcpStream::connect(addr).unwrap();
                stream.write_all(b"G").unwrap();
                stream
            })
            .collect();
        // Shard 0 goes on handling messages...
        let counter = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
        for round in 1..=1000 {
            counter.send_blocking(CounterMsg::Add(1)).unwrap();
            if round % 100 == 0 {
                let n = counter.ask_blocking(CounterMsg::Get, Duration::from_secs(30));
                assert_eq!(n, Ok(round));
            }
        }
        // ...and other clients are served.
        assert_eq!(get(addr, "/metrics").0, 200);
        assert_eq!(get(addr, "/health").0, 200);
        drop(slow);
        rt.shutdown();
    });
}
