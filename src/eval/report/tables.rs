//! Markdown tables of the report that the evaluation modules do not already print: the headline
//! ratio per method, per-image reconstruction rows and the time per evaluation stage.

use crate::eval::recon::{Condition, Row, Score, StageClock};
use crate::pipeline::reconstruct::Method;
use crate::pipeline::upscale::Upscaler;
use std::fmt::Write as _;

/// The headline goal: NME at 32 px with the best upscaler at most this times NME at 128 px.
pub const GOAL_RATIO: f64 = 1.25;

/// One method's headline: NME at 128 px, the best upscaler at 32 px and the ratio.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Headline {
    /// The method.
    pub method: Method,
    /// Mean NME on the crops as rendered.
    pub nme_128: f64,
    /// The upscaler with the lowest mean NME at 32 px.
    pub best_upscaler: Upscaler,
    /// Its mean NME at 32 px.
    pub nme_32: f64,
    /// `nme_32 / nme_128`.
    pub ratio: f64,
}

/// The headline of every method that has rows at 128 and 32 px.
#[must_use]
pub fn headlines(rows: &[Row], methods: &[Method]) -> Vec<Headline> {
    methods
        .iter()
        .filter_map(|&method| {
            let mine = rows.iter().filter(|r| r.method == method);
            let clean = mine.clone().find(|r| r.condition.upscaler.is_none())?;
            let best = mine
                .filter(|r| r.condition.width == 32 && r.nme.0.is_finite())
                .min_by(|a, b| a.nme.0.total_cmp(&b.nme.0))?;
            Some(Headline {
                method,
                nme_128: clean.nme.0,
                best_upscaler: best.condition.upscaler?,
                nme_32: best.nme.0,
                ratio: best.nme.0 / clean.nme.0,
            })
        })
        .collect()
}

/// The headline table.
#[must_use]
pub fn headline_table(headlines: &[Headline]) -> String {
    let mut s = String::from(
        "| method | NME @128 px | best upscaler @32 px | NME @32 px | NME@32 / NME@128 | goal <= 1.25 |\n\
         |---|---|---|---|---|---|\n",
    );
    for h in headlines {
        let met = if h.ratio <= GOAL_RATIO {
            "met"
        } else {
            "not met"
        };
        let _ = writeln!(
            s,
            "| {} | {:.4} | {} | {:.4} | {:.3} | {met} |",
            h.method, h.nme_128, h.best_upscaler, h.nme_32, h.ratio
        );
    }
    s
}

/// Per-image NME: one row per sample x method x upscaler, one column per width (the 128 px
/// column is the crop as rendered, the same for every upscaler); `-` for a failure.
#[must_use]
pub fn per_image_table(
    scores: &[Score],
    samples: &[i64],
    methods: &[Method],
    widths: &[u32],
) -> String {
    let mut s = String::from("| sample | method | upscaler |");
    for w in widths {
        let _ = write!(s, " {w} px |");
    }
    s.push_str("\n|---|---|---|");
    s.push_str(&"---|".repeat(widths.len()));
    s.push('\n');
    for &id in samples {
        for &method in methods {
            for upscaler in Upscaler::ALL {
                let _ = write!(s, "| {id} | {method} | {upscaler} |");
                for &width in widths {
                    let condition = Condition {
                        width,
                        upscaler: (width < 128).then_some(upscaler),
                    };
                    let cell = scores
                        .iter()
                        .find(|x| x.sample == id && x.method == method && x.condition == condition)
                        .and_then(|x| x.nme)
                        .map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
                    let _ = write!(s, " {cell} |");
                }
                s.push('\n');
            }
        }
    }
    s
}

/// Mean milliseconds per call of each evaluation stage.
#[must_use]
pub fn clock_table(clock: &StageClock) -> String {
    let mut s = String::from("| stage | mean ms per call | calls |\n|---|---|---|\n");
    for (stage, ms, n) in clock.mean_ms() {
        let _ = writeln!(s, "| {stage} | {ms:.2} | {n} |");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: Method, width: u32, upscaler: Option<Upscaler>, nme: f64) -> Row {
        Row {
            method,
            condition: Condition { width, upscaler },
            nme: (nme, 0.0),
            median: nme,
            nme_visible: (nme, 0.0),
            depth_mae_px: None,
            count: 1,
            failures: 0,
        }
    }

    #[test]
    fn headline_takes_the_best_upscaler_at_32_px() {
        let rows = [
            row(Method::Vrn, 128, None, 0.10),
            row(Method::Vrn, 32, Some(Upscaler::Bilinear), 0.14),
            row(Method::Vrn, 32, Some(Upscaler::Espcn), 0.12),
            row(Method::Vrn, 64, Some(Upscaler::Espcn), 0.01),
        ];
        let h = headlines(&rows, &[Method::Vrn, Method::Pix2pix]);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].best_upscaler, Upscaler::Espcn);
        assert!((h[0].ratio - 1.2).abs() < 1e-9);
        assert!(headline_table(&h).contains("| vrn | 0.1000 | espcn | 0.1200 | 1.200 | met |"));
    }
}
