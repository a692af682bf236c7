//! The report's figures: NME against input face width (one line per method x upscaler, drawn
//! with `plotters` into an RGB buffer) and a grid of rendered meshes of one face across methods
//! and widths (the viewport's headless renderer).
//!
//! Text uses the Ubuntu Light font egui ships (`epaint_default_fonts`), registered with
//! plotters' `ab_glyph` backend, so no system font is needed.

use crate::eval::recon::{Condition, LandmarkSource, Row, StageClock, TestSample, prepare_sample};
use crate::figure::{Panel, side_by_side, stacked};
use crate::pipeline::detect::Detector;
use crate::pipeline::reconstruct::Method;
use crate::pipeline::reconstruct::Reconstructor;
use crate::pipeline::upscale::Upscaler;
use crate::viewport::headless::HeadlessGpu;
use crate::viewport::{Shading, ViewOptions, framing_camera};
use anyhow::Context;
use image::RgbImage;
use image::imageops::{FilterType, resize};
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// Plot size, pixels.
const PLOT_SIZE: (u32, u32) = (1000, 640);
/// Line colours, one per method (Tableau 10).
const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// Side of one rendered mesh in the grid, pixels.
const TILE: u32 = 192;

/// Registers the bundled font as plotters' "sans-serif" once.
fn register_font() -> anyhow::Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        )
        .is_ok()
    });
    anyhow::ensure!(ok, "the bundled font is invalid");
    Ok(())
}

/// The (width, mean NME) points of one method with one upscaler: the clean crop (no upscaler,
/// shared by every upscaler) and the widths enlarged by `upscaler`, widest first.
#[must_use]
pub fn series(rows: &[Row], method: Method, upscaler: Upscaler) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r.method == method && r.condition.upscaler.is_none_or(|u| u == upscaler))
        .filter(|r| r.nme.0.is_finite())
        .map(|r| (f64::from(r.condition.width), r.nme.0))
        .collect();
    pts.sort_by(|a, b| b.0.total_cmp(&a.0));
    pts
}

/// Draws mean NME against face width (log axis), one line per method x upscaler, to a PNG. The
/// axis runs on past 128 px to leave the legend room on the right.
///
/// # Errors
/// No finite point to plot, drawing or writing errors.
pub fn nme_vs_width(rows: &[Row], methods: &[Method], path: &Path) -> anyhow::Result<()> {
    register_font()?;
    let all: Vec<(f64, f64)> = methods
        .iter()
        .flat_map(|&m| Upscaler::ALL.iter().flat_map(move |&u| series(rows, m, u)))
        .collect();
    anyhow::ensure!(!all.is_empty(), "no NME to plot");
    let (lo, hi) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(p.1), h.max(p.1)));
    let pad = ((hi - lo) * 0.1).max(0.002);
    let (w, h) = PLOT_SIZE;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("NME vs input face width", ("sans-serif", 28))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(
                (20f64..330f64)
                    .log_scale()
                    .with_key_points(vec![24.0, 32.0, 48.0, 64.0, 96.0, 128.0]),
                (lo - pad)..(hi + pad),
            )
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("face width (px, log scale)")
            .y_desc("NME (mean, / outer interocular distance)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.3}"))
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(plot_err)?;
        for (i, &method) in methods.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            for &upscaler in &Upscaler::ALL {
                let pts = series(rows, method, upscaler);
                if pts.is_empty() {
                    continue;
                }
                let style = colour.stroke_width(if upscaler == Upscaler::Espcn { 3 } else { 2 });
                let label = format!("{method} + {upscaler}");
                let dash = match upscaler {
                    Upscaler::Bilinear => 12,
                    Upscaler::Bicubic => 4,
                    Upscaler::Espcn => 0,
                };
                let anno = if dash == 0 {
                    chart
                        .draw_series(LineSeries::new(pts.clone(), style))
                        .map_err(plot_err)?
                } else {
                    chart
                        .draw_series(DashedLineSeries::new(pts.clone(), dash, 5, style))
                        .map_err(plot_err)?
                };
                anno.label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                    .map_err(plot_err)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    let img = RgbImage::from_raw(w, h, buf).context("plot buffer size")?;
    super::save_png(&img, path)
}

fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plot: {e}")
}

/// Renders `sample`'s mesh from every method at every width (enlarged with `upscaler`) into one
/// labelled grid PNG: a row of input crops, then one row per method. A method that fails on a
/// crop leaves a blank tile. Returns the renderer's adapter name.
///
/// # Errors
/// No GPU device (a software one such as lavapipe is enough), or writing errors.
pub fn mesh_grid(
    sample: &TestSample,
    methods: &[Box<dyn Reconstructor>],
    widths: &[u32],
    upscaler: Upscaler,
    detector: &Detector,
    path: &Path,
) -> anyhow::Result<String> {
    let gpu = HeadlessGpu::new().context("the mesh grid needs a GPU device")?;
    let conditions: Vec<Condition> = widths
        .iter()
        .map(|&width| Condition {
            width,
            upscaler: (width < 128).then_some(upscaler),
        })
        .collect();
    let mut inputs: Vec<(RgbImage, String)> = Vec::new();
    let mut tiles: Vec<Vec<(RgbImage, String)>> = vec![Vec::new(); methods.len()];
    let mut clock = StageClock::default();
    for c in &conditions {
        let prepared = prepare_sample(sample, *c, LandmarkSource::FaceMesh(detector), &mut clock);
        for (k, reconstructor) in methods.iter().enumerate() {
            let mesh = prepared
                .as_ref()
                .ok()
                .and_then(|(face, _, photo)| reconstructor.reconstruct(photo, face).ok());
            let tile = match mesh {
                Some(out) => {
                    let camera = framing_camera(&out.mesh);
                    let rgba = gpu.render(
                        &out.mesh,
                        &camera,
                        &ViewOptions::new(Shading::Lit),
                        [TILE, TILE],
                    )?;
                    image::DynamicImage::ImageRgba8(rgba).into_rgb8()
                }
                None => RgbImage::from_pixel(TILE, TILE, image::Rgb([60, 60, 60])),
            };
            let method = reconstructor.method();
            tiles[k].push((tile, format!("{method}, {} px", c.width)));
        }
        let label = format!("input {} px, {}", c.width, c.upscaler_name());
        let crop = prepared.as_ref().map_or_else(
            |_| RgbImage::from_pixel(TILE, TILE, image::Rgb([60, 60, 60])),
            |(face, _, _)| face.crop.image.clone(),
        );
        inputs.push((resize(&crop, TILE, TILE, FilterType::Nearest), label));
    }
    let row = |cells: &[(RgbImage, String)]| {
        let panels: Vec<Panel> = cells
            .iter()
            .map(|(image, label)| Panel {
                image,
                lines: vec![label.clone()],
            })
            .collect();
        side_by_side(&panels)
    };
    let mut rows = vec![row(&inputs)?];
    for t in &tiles {
        rows.push(row(t)?);
    }
    super::save_png(&stacked(&rows)?, path)?;
    Ok(gpu.adapter)
}
