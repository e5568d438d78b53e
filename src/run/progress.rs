//! Progress of `--each`: a bar on a terminal, plain periodic lines otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::script::print;

/// How far a bulk run is.
pub struct Progress {
    total: u64,
    started: Instant,
    bar: Option<ProgressBar>,
    /// Plain lines when stderr is not a terminal.
    plain: bool,
    last_line: Instant,
    last_tenth: u64,
}

impl Progress {
    pub fn new(total: u64, quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} rows  {rate}  ETA {eta}  {msg}",
            )
            .map(|s| {
                // indicatif's own `{per_sec}` shows four decimals.
                s.progress_chars("=> ").with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.1} rows/s", state.per_sec());
                    },
                )
            })
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        if let Some(b) = &bar {
            print::step_around(Some(b.clone()));
        }
        Progress {
            total,
            started: Instant::now(),
            bar,
            plain: !quiet && !terminal,
            last_line: Instant::now(),
            last_tenth: 0,
        }
    }

    /// `done` rows finished, `failed` of them failed.
    pub fn update(&mut self, done: u64, failed: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            if failed > 0 {
                bar.set_message(format!("{failed} failed"));
            }
            return;
        }
        if !self.plain {
            return;
        }
        // A line at every tenth of the rows, and at least every 5 seconds.
        let tenth = done * 10 / self.total.max(1);
        if tenth > self.last_tenth || self.last_line.elapsed() >= Duration::from_secs(5) {
            self.last_tenth = tenth;
            self.last_line = Instant::now();
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            let rate = done as f64 / secs;
            let eta = if rate > 0.0 && done < self.total {
                format!(", ETA {:.0} s", (self.total - done) as f64 / rate)
            } else {
                String::new()
            };
            let _ = writeln!(
                std::io::stderr().lock(),
                "onboard: {done}/{} rows ({}%), {rate:.1} rows/s, {failed} failed{eta}",
                self.total,
                done * 100 / self.total.max(1)
            );
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        print::step_around(None);
    }
}
