//! `visage eval real` on the real-photo data beside the repository (`../shared/real-eval`, also
//! there in CI): the compiled-in real-photo numbers the app shows are what the evaluation
//! measures today, and a missing data folder is one clear error.

use candle_core::Device;
use std::path::{Path, PathBuf};
use std::process::Command;
use visage::eval::real::{RealOptions, Runner, Width, evaluate, summarise};
use visage::pipeline::detect::Detector;
use visage::pipeline::reconstruct::{Method, Reconstructor, load};
use visage::pipeline::upscale::Upscaler;

fn data() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-eval");
    dir.join("aflw-dev").is_dir().then_some(dir)
}

#[test]
fn the_apps_real_photo_numbers_are_current() {
    let Some(dir) = data() else {
        eprintln!("no ../shared/real-eval here: skipped");
        return;
    };
    let detector = Detector::new(&Device::Cpu).unwrap();
    let methods: Vec<Box<dyn Reconstructor>> = Method::ALL
        .iter()
        .map(|&m| load(m, &Device::Cpu, None).unwrap())
        .collect();
    let options = RealOptions {
        data: dir,
        widths: vec![Width::Full, Width::Px(64), Width::Px(32), Width::Px(24)],
        upscalers: vec![Upscaler::Espcn],
        james: true,
        james_upscaler: Upscaler::Espcn,
    };
    let runner = Runner {
        detector: &detector,
        methods: &methods,
    };
    let rows = evaluate(&runner, &options).unwrap();
    let sums = summarise(&rows);
    for m in Method::ALL {
        let at = |w: Width| {
            sums.iter()
                .find(|((set, width, _, method), _)| {
                    *set == "aflw" && *width == w && method == m.name()
                })
                .and_then(|(_, s)| s.depth51)
                .unwrap()
        };
        let want = m.real_score();
        assert!(
            (at(Width::Full) - want.full).abs() < 0.006,
            "{m}: measured {} at full width, compiled {}",
            at(Width::Full),
            want.full
        );
        for (w, compiled) in [(64, want.at_64px), (32, want.at_32px), (24, want.at_24px)] {
            let measured = at(Width::Px(w));
            assert!(
                (measured - compiled).abs() < 0.006,
                "{m}: measured {measured} at {w} px, compiled {compiled}"
            );
        }
    }
    for m in Method::ALL {
        let james = sums
            .iter()
            .find(|((set, width, _, method), _)| {
                *set == "james" && *width == Width::Full && method == m.name()
            })
            .and_then(|(_, s)| s.depth51)
            .unwrap();
        let compiled = m.real_score().james;
        assert!(
            (james - compiled).abs() < 0.006,
            "{m}: measured {james} on the james renders, compiled {compiled}"
        );
    }
    // The peer and the plane are there as references, and nothing failed.
    assert!(rows.iter().any(|r| r.method == visage::eval::real::PEER));
    assert!(rows.iter().all(|r| r.error.is_none()), "a method failed");
}

#[test]
fn missing_data_is_one_clear_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_visage"))
        .args(["eval", "real", "--data", "/nonexistent/real-eval"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("/nonexistent/real-eval"), "{err}");
    assert!(err.contains("missing"), "{err}");
}
