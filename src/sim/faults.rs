//! The faults the simulator injects: bad answers to changes it made, garbage, the rate limit.

use std::time::{Duration, Instant};

use super::options::{Botch, Garbage};
use super::{Shared, SimRequest, SimResponse};

/// A bad answer to a change that was carried out.
pub(super) fn botch(
    kind: Botch,
    real: SimResponse,
    req: &SimRequest,
    server_error: Option<SimResponse>,
) -> SimResponse {
    match kind {
        Botch::Truncated => {
            let mut cut = real;
            let half = cut.body.len() / 2;
            cut.body.truncate(half);
            cut
        }
        Botch::Empty => SimResponse::new(200, "application/json", Vec::new()),
        Botch::Html => garbage(Garbage::Html),
        Botch::Error500 => {
            server_error.unwrap_or_else(|| SimResponse::text(500, "Internal Server Error"))
        }
        Botch::Echo => echo(req),
    }
}

/// An internal error that quotes the request it failed on, secrets and all, as some servers and
/// proxies do.
pub(super) fn echo(req: &SimRequest) -> SimResponse {
    SimResponse::new(
        500,
        "text/plain; charset=utf-8",
        format!(
            "Internal error while processing {} {}: {}",
            req.method,
            req.path,
            req.body_text()
        ),
    )
}

/// An answer no vendor should give, with status 200.
pub(super) fn garbage(kind: Garbage) -> SimResponse {
    match kind {
        Garbage::Html => SimResponse::new(
            200,
            "text/html",
            "<html><head><title>502 Proxy Error</title></head><body><h1>Proxy Error</h1>\
             <p>The proxy server received an invalid response from an upstream server.</p></body></html>",
        ),
        Garbage::Truncated => SimResponse::new(
            200,
            "application/json",
            r#"{"operation":{"result":{"status":"Succ"#,
        ),
        Garbage::Binary => SimResponse::new(
            200,
            "application/json",
            vec![0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0xa0],
        ),
        Garbage::Huge => {
            let mut body = br#"{"pad":""#.to_vec();
            body.resize(9 * 1024 * 1024, b'a');
            body.extend_from_slice(br#""}"#);
            SimResponse::new(200, "application/json", body)
        }
        Garbage::Empty | Garbage::Echo => SimResponse::new(200, "application/json", Vec::new()),
    }
}

pub(super) fn rate_limited(shared: &Shared) -> bool {
    let Some(limit) = shared.args.rate_limit else {
        return false;
    };
    let Ok(mut w) = shared.window.lock() else {
        return false;
    };
    if w.0.elapsed() >= Duration::from_secs(1) {
        *w = (Instant::now(), 0);
    }
    w.1 += 1;
    w.1 > limit
}
