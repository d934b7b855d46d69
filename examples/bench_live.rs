//! The benchmark harness's bounded client for what wrk cannot measure (bench/run builds and runs
//! it after bench_seed):
//!
//!   bench_live send <url> <tokens-dir> <rate> <seconds>
//!       sends at a fixed rate from random customers into their conversations. Each send is
//!       started at its scheduled moment whatever the earlier ones are doing, and its latency is
//!       counted from that moment (not from when the client got round to it): no coordinated
//!       omission.
//!   bench_live live <url> <tokens-dir> <streams> <rate> <seconds> [server-pid]
//!       scenario L: opens <streams> live event streams (customers, the staff of every store,
//!       admins), then sends at <rate> as above. Every `message_sent` event must reach exactly the
//!       streams entitled to it (its customer's, the staff of its store; never an admin's or
//!       another customer's); reports the delivery latency (send acknowledged → event received),
//!       `/health` and inbox latency probed meanwhile, and the server's peak memory.
//!
//! Prints one JSON object.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct Customer {
    token: String,
    id: i64,
    conversation: i64,
    store: i64,
}

struct Parties {
    admins: Vec<String>,
    staff: Vec<(String, i64)>,
    customers: Vec<Customer>,
}

fn parties(dir: &str) -> anyhow::Result<Parties> {
    let text = std::fs::read_to_string(format!("{dir}/live_parties.txt"))?;
    let mut out = Parties {
        admins: vec![],
        staff: vec![],
        customers: vec![],
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["admin", token] => out.admins.push(token.to_string()),
            ["staff", token, store] => out.staff.push((token.to_string(), store.parse()?)),
            ["customer", token, id, conversation, store] => out.customers.push(Customer {
                token: token.to_string(),
                id: id.parse()?,
                conversation: conversation.parse()?,
                store: store.parse()?,
            }),
            _ => anyhow::bail!("bad line in live_parties.txt: {line}"),
        }
    }
    Ok(out)
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// Milliseconds at the given quantile of `values` (sorted here).
fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let index = ((values.len() as f64 - 1.0) * q).round() as usize;
    values[index]
}

/// One acknowledged send.
struct Sent {
    message_id: i64,
    customer: i64,
    store: i64,
    /// Scheduled start → answer.
    latency_ms: f64,
    acked: Instant,
}

/// Sends `rate` messages a second for `seconds`, each at its own scheduled moment.
async fn send_at_rate(
    client: &reqwest::Client,
    url: &str,
    customers: &[Customer],
    rate: f64,
    seconds: f64,
) -> (Vec<Sent>, usize) {
    let total = (rate * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    // A bound on sends in flight, far above what the rate needs while the server keeps up.
    let in_flight = Arc::new(Semaphore::new(20_000));
    let mut tasks = Vec::with_capacity(total);
    let mut rng = rand::rng();
    for n in 0..total {
        let at = start + interval.mul_f64(n as f64);
        tokio::time::sleep_until(at).await;
        let customer = customers.choose(&mut rng).expect("customers").clone();
        let (client, url, permit) = (
            client.clone(),
            url.to_string(),
            in_flight.clone().try_acquire_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let _permit = permit.ok()?;
            let response = client
                .post(format!(
                    "{url}/api/v1/shop/messages/{}/messages",
                    customer.conversation
                ))
                .bearer_auth(&customer.token)
                .json(&serde_json::json!({ "content": format!("live check {n}") }))
                .send()
                .await
                .ok()?;
            if response.status() != reqwest::StatusCode::CREATED {
                return None;
            }
            let body: serde_json::Value = response.json().await.ok()?;
            let acked = Instant::now();
            Some(Sent {
                message_id: body["id"].as_i64()?,
                customer: customer.id,
                store: customer.store,
                latency_ms: (tokio::time::Instant::now() - at).as_secs_f64() * 1000.0,
                acked,
            })
        }));
    }
    let mut sent = Vec::with_capacity(total);
    let mut errors = 0;
    for task in tasks {
        match task.await {
            Ok(Some(s)) => sent.push(s),
            _ => errors += 1,
        }
    }
    (sent, errors)
}

async fn fixed_rate(url: &str, dir: &str, rate: f64, seconds: f64) -> anyhow::Result<()> {
    let parties = parties(dir)?;
    let client = client();
    let (mut sent, errors) = send_at_rate(&client, url, &parties.customers, rate, seconds).await;
    let mut latencies: Vec<f64> = sent.iter_mut().map(|s| s.latency_ms).collect();
    println!(
        "{}",
        serde_json::json!({
            "rate": rate,
            "seconds": seconds,
            "acknowledged": sent.len(),
            "errors": errors,
            "p50_ms": quantile(&mut latencies, 0.50),
            "p99_ms": quantile(&mut latencies, 0.99),
            "max_ms": quantile(&mut latencies, 1.0),
        })
    );
    Ok(())
}

/// Who a stream belongs to.
#[derive(Clone, Copy)]
enum Viewer {
    Admin,
    Staff { store: i64 },
    Customer { id: i64 },
}

#[derive(Deserialize)]
struct EventData {
    message_id: Option<i64>,
}

/// Reads one stream until `stop`; returns the `message_sent` events it got, with when. Holds
/// `connecting` until the stream answers.
async fn watch(
    client: reqwest::Client,
    url: String,
    area: &'static str,
    token: String,
    connecting: tokio::sync::OwnedSemaphorePermit,
    opened: Arc<Semaphore>,
    stop: CancellationToken,
) -> Option<Vec<(i64, Instant)>> {
    let mut response = client
        .get(format!("{url}/api/v1/{area}/messages/stream"))
        .bearer_auth(&token)
        .timeout(Duration::from_secs(3600))
        .send()
        .await
        .ok()?;
    drop(connecting);
    if response.status() != reqwest::StatusCode::OK {
        return None;
    }
    opened.add_permits(1);
    let mut got = Vec::new();
    let mut buffer = String::new();
    loop {
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk.ok()??,
            _ = stop.cancelled() => return Some(got),
        };
        let at = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if !block.contains("event: message_sent\n") {
                continue;
            }
            let data = block.lines().find_map(|l| l.strip_prefix("data: "));
            if let Some(id) = data
                .and_then(|d| serde_json::from_str::<EventData>(d).ok())
                .and_then(|e| e.message_id)
            {
                got.push((id, at));
            }
        }
    }
}

/// Requests `path` every `every` from a fixed schedule; latencies from each scheduled moment.
async fn probe(
    client: reqwest::Client,
    url: String,
    token: Option<String>,
    every: Duration,
    until: tokio::time::Instant,
) -> Vec<f64> {
    let mut latencies = Vec::new();
    let mut at = tokio::time::Instant::now();
    while at < until {
        tokio::time::sleep_until(at).await;
        let mut request = client.get(&url);
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        if request.send().await.is_ok_and(|r| r.status().is_success()) {
            latencies.push((tokio::time::Instant::now() - at).as_secs_f64() * 1000.0);
        } else {
            latencies.push(f64::INFINITY);
        }
        at += every;
    }
    latencies
}

fn peak_rss_mb(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024)
}

async fn live(
    url: &str,
    dir: &str,
    streams: usize,
    rate: f64,
    seconds: f64,
    pid: Option<u32>,
) -> anyhow::Result<()> {
    let parties = parties(dir)?;
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let client = client();
    // Every staff member and admin watches (one stream each), the rest are customers, each their
    // own account.
    let mut viewers: Vec<(Viewer, &'static str, String)> = Vec::with_capacity(streams);
    for token in &parties.admins {
        viewers.push((Viewer::Admin, "admin", token.clone()));
    }
    for (token, store) in &parties.staff {
        viewers.push((Viewer::Staff { store: *store }, "vendor", token.clone()));
    }
    let customer_streams = streams.saturating_sub(viewers.len());
    anyhow::ensure!(
        customer_streams <= parties.customers.len(),
        "{streams} streams need {customer_streams} customers; the dataset has {}",
        parties.customers.len()
    );
    for c in &parties.customers[..customer_streams] {
        viewers.push((Viewer::Customer { id: c.id }, "shop", c.token.clone()));
    }

    let opening = Instant::now();
    let opened = Arc::new(Semaphore::new(0));
    let stop = CancellationToken::new();
    // At most 256 streams connecting at once.
    let connecting = Arc::new(Semaphore::new(256));
    let mut watchers = Vec::with_capacity(viewers.len());
    for (_, area, token) in &viewers {
        let permit = connecting.clone().acquire_owned().await?;
        watchers.push(tokio::spawn(watch(
            client.clone(),
            url.to_string(),
            area,
            token.clone(),
            permit,
            opened.clone(),
            stop.clone(),
        )));
    }
    let setup = Duration::from_secs(120);
    let all_open = tokio::time::timeout(setup, opened.acquire_many(viewers.len() as u32)).await;
    let open_seconds = opening.elapsed().as_secs_f64();
    let all_open = all_open.is_ok();

    // Sends at the fixed rate, probes meanwhile.
    let probing_until = tokio::time::Instant::now() + Duration::from_secs_f64(seconds);
    let health = tokio::spawn(probe(
        client.clone(),
        format!("{url}/health"),
        None,
        Duration::from_millis(50),
        probing_until,
    ));
    let inbox = tokio::spawn(probe(
        client.clone(),
        format!("{url}/api/v1/vendor/messages?limit=20"),
        Some(parties.staff[0].0.clone()),
        Duration::from_millis(50),
        probing_until,
    ));
    let (sent, send_errors) = send_at_rate(&client, url, &parties.customers, rate, seconds).await;
    let mut health = health.await?;
    let mut inbox = inbox.await?;
    // Let the last events arrive, then end the streams.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_mb = peak_rss_mb(pid);

    stop.cancel();
    let mut received: HashMap<i64, Vec<(usize, Instant)>> = HashMap::new();
    let mut streams_failed = 0;
    for (index, watcher) in watchers.into_iter().enumerate() {
        match watcher.await {
            Ok(Some(got)) => {
                for (message, at) in got {
                    received.entry(message).or_default().push((index, at));
                }
            }
            _ => streams_failed += 1,
        }
    }
    let mut by_customer: HashMap<i64, Vec<usize>> = HashMap::new();
    let mut by_store: HashMap<i64, Vec<usize>> = HashMap::new();
    for (index, (viewer, _, _)) in viewers.iter().enumerate() {
        match viewer {
            Viewer::Customer { id } => by_customer.entry(*id).or_default().push(index),
            Viewer::Staff { store } => by_store.entry(*store).or_default().push(index),
            Viewer::Admin => {}
        }
    }
    let (mut expected, mut delivered, mut missing, mut unexpected) =
        (0usize, 0usize, 0usize, 0usize);
    let mut latencies = Vec::new();
    for s in &sent {
        let mut entitled: Vec<usize> = by_store.get(&s.store).cloned().unwrap_or_default();
        entitled.extend(by_customer.get(&s.customer).cloned().unwrap_or_default());
        expected += entitled.len();
        let got = received.remove(&s.message_id).unwrap_or_default();
        for (stream, at) in &got {
            if entitled.contains(stream) {
                delivered += 1;
                latencies.push(at.saturating_duration_since(s.acked).as_secs_f64() * 1000.0);
            } else {
                unexpected += 1;
            }
        }
        let reached: std::collections::HashSet<usize> = got.iter().map(|(s, _)| *s).collect();
        missing += entitled.iter().filter(|e| !reached.contains(e)).count();
    }
    println!(
        "{}",
        serde_json::json!({
            "streams": viewers.len(),
            "all_open": all_open,
            "open_seconds": open_seconds,
            "streams_failed": streams_failed,
            "rate": rate,
            "seconds": seconds,
            "acknowledged": sent.len(),
            "send_errors": send_errors,
            "events_expected": expected,
            "events_delivered": delivered,
            "events_missing": missing,
            "events_unexpected": unexpected,
            "delivery_p50_ms": quantile(&mut latencies.clone(), 0.50),
            "delivery_p99_ms": quantile(&mut latencies, 0.99),
            "delivery_max_ms": quantile(&mut latencies, 1.0),
            "health_p99_ms": quantile(&mut health, 0.99),
            "inbox_p99_ms": quantile(&mut inbox, 0.99),
            "server_peak_rss_mb": rss_mb,
        })
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |n: usize| args.get(n).map(String::as_str).unwrap_or_default();
    match arg(1) {
        "send" => fixed_rate(arg(2), arg(3), arg(4).parse()?, arg(5).parse()?).await,
        "live" => {
            live(
                arg(2),
                arg(3),
                arg(4).parse()?,
                arg(5).parse()?,
                arg(6).parse()?,
                arg(7).parse().ok(),
            )
            .await
        }
        _ => anyhow::bail!(
            "usage: bench_live send <url> <tokens-dir> <rate> <seconds> | live <url> <tokens-dir> <streams> <rate> <seconds> [server-pid]"
        ),
    }
}
