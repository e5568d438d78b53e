//! `onboard sim`'s options: where it listens, the faults it injects, each vendor's own knobs.

use std::path::PathBuf;

use super::Knobs;

// The simulator's options: where it listens, the faults it injects, and each vendor's own
// knobs (declared in the vendor's simulator file). Not a doc comment: `onboard sim`'s arguments
// are built deferred, after its summary, which a doc comment here would replace.
#[derive(clap::Args, Debug, Clone)]
#[group(skip)]
pub struct Options {
    /// The port to listen on (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Serve HTTPS with a certificate made at start; its CA is written to --ca-out.
    #[arg(long)]
    pub tls: bool,
    /// Where to write the CA certificate with --tls (default: a new private folder in the temp
    /// folder). A file or link already there is replaced, never written through.
    #[arg(long, value_name = "PATH")]
    pub ca_out: Option<PathBuf>,
    /// Answer every Nth vendor request with a 500 error (and change nothing).
    #[arg(long, value_name = "N")]
    pub fail_every: Option<u64>,
    /// Wait this long before answering each vendor request.
    #[arg(long, value_name = "MS")]
    pub latency_ms: Option<u64>,
    /// Answer 429 with Retry-After beyond N vendor requests per second.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Carry out every Nth vendor request, then cut the connection in the middle of the answer.
    #[arg(long, value_name = "N")]
    pub drop_every: Option<u64>,
    /// Carry out every Nth vendor request, then wait --stall-ms before answering.
    #[arg(long, value_name = "N")]
    pub stall_every: Option<u64>,
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub stall_ms: u64,
    /// Answer every Nth vendor request with garbage (see --garbage) instead of carrying it out.
    #[arg(long, value_name = "N")]
    pub garbage_every: Option<u64>,
    #[arg(long, value_enum, default_value_t = Garbage::Html)]
    pub garbage: Garbage,
    /// Carry out every Nth request that changes something (a create, a delete), then answer it
    /// badly (see --botch): the change is made, the answer says otherwise or nothing.
    #[arg(long, value_name = "N")]
    pub botch_every: Option<u64>,
    #[arg(long, value_enum, default_value_t = Botch::Truncated)]
    pub botch: Botch,
    #[command(flatten)]
    pub vendors: Knobs,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 0,
            tls: false,
            ca_out: None,
            fail_every: None,
            latency_ms: None,
            rate_limit: None,
            drop_every: None,
            stall_every: None,
            stall_ms: 5000,
            garbage_every: None,
            garbage: Garbage::Html,
            botch_every: None,
            botch: Botch::Truncated,
            vendors: Knobs::default(),
        }
    }
}

/// Kinds of garbage answers.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Garbage {
    /// A proxy's HTML error page, with status 200.
    Html,
    /// JSON or XML cut off in the middle.
    Truncated,
    /// Bytes that are not UTF-8.
    Binary,
    /// An answer larger than any client should read (9 MiB).
    Huge,
    /// An empty body.
    Empty,
    /// HTTP 500 with the request's body quoted in the error text.
    Echo,
}

/// Bad answers to a change that was carried out.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Botch {
    /// The real answer cut in half.
    Truncated,
    /// An empty body, with status 200.
    Empty,
    /// A proxy's HTML error page, with status 200.
    Html,
    /// The vendor's own internal-error answer (HTTP 500).
    #[value(name = "500")]
    Error500,
    /// HTTP 500 with the request's body quoted in the error text, as some servers and proxies do.
    Echo,
}

pub(super) fn describe_faults(args: &Options) -> String {
    let mut f = Vec::new();
    if let Some(n) = args.fail_every {
        f.push(format!("every {n}th request fails with 500"));
    }
    if let Some(ms) = args.latency_ms {
        f.push(format!("{ms} ms latency"));
    }
    if let Some(n) = args.rate_limit {
        f.push(format!("429 beyond {n} requests/s"));
    }
    if let Some(n) = args.drop_every {
        f.push(format!(
            "every {n}th request is carried out, then its connection cut"
        ));
    }
    if let Some(n) = args.stall_every {
        f.push(format!(
            "every {n}th request is carried out, then answered after {} ms",
            args.stall_ms
        ));
    }
    if let Some(n) = args.garbage_every {
        f.push(format!(
            "every {n}th request gets a {:?} garbage answer",
            args.garbage
        ));
    }
    if let Some(n) = args.botch_every {
        f.push(format!(
            "every {n}th change is carried out, then answered badly ({:?})",
            args.botch
        ));
    }
    f.join(", ")
}
