//! Stage timings from `tracing` spans: the one clock behind `visage reconstruct --timings`,
//! `visage bench` and the evaluation's time per stage.
//!
//! The pipeline wraps each stage in a span named after it (`detect`, `landmarks`, `shrink`,
//! `crop`, `network`, `fit`, `refine`, `mesh`, `load`). [`StageLayer`] adds up the time spent
//! inside spans by name; [`measure`] runs a closure under a subscriber with that layer and
//! returns the totals, so any caller (a test too) can time a run without global state.
//! [`init`] installs the process-wide subscriber of the binary: log lines filtered by
//! `RUST_LOG` (warnings by default) on stderr.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tracing::span::Id;
use tracing::{Subscriber, subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Time spent in each stage, in order of first completion.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stages(pub Vec<(&'static str, Duration)>);

impl Stages {
    /// The total of stage `name` (zero when it never ran).
    #[must_use]
    pub fn get(&self, name: &str) -> Duration {
        self.0
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, d)| *d)
            .sum()
    }

    /// Adds `d` to stage `name`.
    pub fn add(&mut self, name: &'static str, d: Duration) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += d,
            None => self.0.push((name, d)),
        }
    }

    /// "detect 12.3 ms, landmarks 4.5 ms, ..." for a terminal line.
    #[must_use]
    pub fn line(&self) -> String {
        self.0
            .iter()
            .map(|(n, d)| format!("{n} {:.1} ms", d.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// When a span was last entered (kept in its extensions).
struct Entered(Instant);

/// A `tracing` layer that sums the time spent inside spans, by span name. Nested spans count
/// for themselves and their parents alike.
#[derive(Clone, Debug, Default)]
pub struct StageLayer {
    totals: Arc<Mutex<Stages>>,
}

impl StageLayer {
    /// The totals so far.
    #[must_use]
    pub fn stages(&self) -> Stages {
        self.totals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl<S> Layer<S> for StageLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().replace(Entered(Instant::now()));
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let Some(Entered(t)) = span.extensions_mut().remove::<Entered>() else {
            return;
        };
        self.totals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add(span.name(), t.elapsed());
    }
}

/// Runs `f` on this thread under a subscriber that times its spans; returns `f`'s value and the
/// time per stage.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Stages) {
    let layer = StageLayer::default();
    let sub = Registry::default().with(layer.clone());
    let value = subscriber::with_default(sub, f);
    (value, layer.stages())
}

/// Installs the binary's subscriber: log events filtered by `RUST_LOG` (default: Visage's own warnings only) to
/// stderr. Does nothing when one is already installed.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("visage=warn"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    // An error only means a subscriber exists already (e.g. a test harness set one).
    let _ = subscriber::set_global_default(Registry::default().with(fmt));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_spans_add_up_by_name() {
        let ((), stages) = measure(|| {
            for _ in 0..2 {
                let _outer = tracing::info_span!("outer").entered();
                std::thread::sleep(Duration::from_millis(5));
                let _inner = tracing::info_span!("inner").entered();
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let names: Vec<&str> = stages.0.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["inner", "outer"]);
        assert!(stages.get("inner") >= Duration::from_millis(10));
        assert!(stages.get("outer") >= stages.get("inner") + Duration::from_millis(10));
        assert_eq!(stages.get("missing"), Duration::ZERO);
    }
}
