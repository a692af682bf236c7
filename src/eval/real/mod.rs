//! `visage eval real`: every method on real photos with 3D ground truth, the first thing every
//! accuracy number in Visage is measured on (protocol: `../shared/real-eval/README.md`).
//!
//! - AFLW2000-3D photos ([`data::load_aflw`]): for each photo and condition (full width, or the
//!   photo shrunk so the true 68-landmark box is `w` pixels wide, with each upscaler) the photo
//!   goes through the app's own path ([`crate::pipeline::reconstruct::photo_to_mesh`]); each
//!   method's mesh is moved to the photo frame and scored by [`metrics`]: the front end's 2D NME,
//!   depth51 (the mesh's front-most depth at the true inner-51 landmarks, median offset
//!   removed), flat51 (a plane, the floor), 3D NME (the method's own 68 points). The peer
//!   3DDFA_V2's landmarks give the reference row (its depth51 on a surface through its 68
//!   points).
//! - The james head scan ([`james`]): rendered with its real texture at several poses, lights
//!   and face widths, then scored like a photo plus the dense scan-to-mesh distance.
//!
//! Frames: [`metrics`] works in the image frame (x right, y down, z towards the camera, photo
//! pixels); a photo-frame mesh ([`crate::pipeline::reconstruct::MeshFrame::Photo`], y up) maps to
//! it by negating y.

pub mod data;
pub mod james;

pub use crate::metrics::face3d as metrics;

use crate::pipeline::degrade::{DegradeMethod, shrink_face};
use crate::pipeline::detect::Detector;
use crate::pipeline::detect::contour68::contour_68;
use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::face::face_width;
use crate::pipeline::reconstruct::morphable::MorphableModel;
use crate::pipeline::reconstruct::morphable::landmarks::fitted_68;
use crate::pipeline::reconstruct::{
    FacePick, Prepared, Reconstruction, Reconstructor, prepare_face,
};
use crate::pipeline::upscale::Upscaler;
use anyhow::Context;
use image::RgbImage;
use metrics::{DepthProbe, depth51, flat51, mesh_from_points_68, nme_2d, nme_2d_inner, nme_3d};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A face width condition (serialised as `"full"` or `"32 px"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Width {
    /// The photo as it is.
    Full,
    /// The photo shrunk so the face is this many pixels wide.
    Px(u32),
}

impl std::fmt::Display for Width {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Full => f.write_str("full"),
            Self::Px(w) => write!(f, "{w} px"),
        }
    }
}

impl Serialize for Width {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::str::FromStr for Width {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "full" => Ok(Self::Full),
            t => match t.trim_end_matches("px").trim().parse::<u32>() {
                Ok(w) if (8..=1024).contains(&w) => Ok(Self::Px(w)),
                _ => Err(format!(
                    "a face width is `full` or 8-1024 pixels, got `{s}`"
                )),
            },
        }
    }
}

/// What `visage eval real` runs.
#[derive(Clone, Debug)]
pub struct RealOptions {
    /// The real-eval folder (`aflw-dev/`, `james/`, `peer-3ddfa_v2/`).
    pub data: PathBuf,
    /// Face widths.
    pub widths: Vec<Width>,
    /// Upscalers for the shrunk widths (the full width uses the first).
    pub upscalers: Vec<Upscaler>,
    /// Render and score the james scan too.
    pub james: bool,
    /// The upscaler of the james renders at shrunk widths.
    pub james_upscaler: Upscaler,
}

/// One scored row: one photo (or render), one method, one condition.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// `aflw` or `james`.
    pub set: &'static str,
    /// Photo name (or render description).
    pub image: String,
    /// Method name, `front end`, `flat plane` or `3DDFA_V2 (peer)`.
    pub method: String,
    /// Face width condition.
    pub width: Width,
    /// Upscaler name (`-` where it does not apply).
    pub upscaler: String,
    /// 2D NME of the front end's 68 points, %.
    pub nme_2d: Option<f32>,
    /// depth51, %.
    pub depth51: Option<f32>,
    /// Share of the 51 inner landmarks the mesh covers.
    pub coverage: Option<f32>,
    /// 3D NME of the method's own 68 points, %.
    pub nme_3d: Option<f32>,
    /// Mean scan-to-mesh distance over the scan's face region, % of the outer interocular
    /// distance (james only).
    pub scan_pct: Option<f32>,
    /// The same in the scan's units (about millimetres).
    pub scan_mm: Option<f32>,
    /// Why the method gave nothing, if it failed.
    pub error: Option<String>,
}

impl Row {
    fn new(set: &'static str, image: &str, method: &str, width: Width, upscaler: &str) -> Self {
        Self {
            set,
            image: image.to_owned(),
            method: method.to_owned(),
            width,
            upscaler: upscaler.to_owned(),
            nme_2d: None,
            depth51: None,
            coverage: None,
            nme_3d: None,
            scan_pct: None,
            scan_mm: None,
            error: None,
        }
    }
}

/// The loaded networks an evaluation runs.
pub struct Runner<'a> {
    /// The front end.
    pub detector: &'a Detector,
    /// The methods, in table order.
    pub methods: &'a [Box<dyn Reconstructor>],
}

/// A mesh in the image frame (x right, y down, z nearer) and its probe.
pub struct ImageMesh {
    /// Vertex positions, image frame, photo pixels.
    pub positions: Vec<[f32; 3]>,
    /// Triangles.
    pub triangles: Vec<[u32; 3]>,
}

impl ImageMesh {
    /// A crop-frame reconstruction of `prepared`'s face, in its photo's image frame.
    #[must_use]
    pub fn of(prepared: &Prepared, mesh: &Mesh) -> Self {
        let photo = prepared.face.to_photo_frame(mesh);
        Self {
            positions: photo
                .positions
                .iter()
                .map(|p| [p[0], -p[1], p[2]])
                .collect(),
            triangles: photo.triangles,
        }
    }

    /// The ray caster over it.
    #[must_use]
    pub fn probe(&self) -> DepthProbe {
        DepthProbe::new(&self.positions, &self.triangles)
    }
}

/// The method's own 68 points in the image frame; points the mesh does not cover take the front
/// end's (x, y) and the median depth of the others.
#[must_use]
pub fn own_landmarks(prepared: &Prepared, result: &Reconstruction) -> Vec<[f32; 3]> {
    let pts: Vec<Option<[f32; 3]>> = result
        .landmarks68(&prepared.face)
        .into_iter()
        .map(|p| {
            p.map(|p| {
                let q = prepared.face.photo_frame_point(p);
                [q[0], -q[1], q[2]]
            })
        })
        .collect();
    let mut zs: Vec<f32> = pts.iter().flatten().map(|p| p[2]).collect();
    zs.sort_by(f32::total_cmp);
    let median = zs.get(zs.len() / 2).copied().unwrap_or(0.0);
    let front = front_end_68(prepared);
    pts.iter()
        .zip(&front)
        .map(|(p, f)| p.unwrap_or([f[0], f[1], median]))
        .collect()
}

/// The front end's 68 points (x, y in the prepared photo's pixels).
#[must_use]
pub fn front_end_68(prepared: &Prepared) -> Vec<[f32; 2]> {
    to_68(&prepared.landmarks.points)
        .unwrap_or_default()
        .iter()
        .map(|p| [p[0], p[1]])
        .collect()
}

/// Scores of one method's reconstruction against the truth (image frame).
fn score(row: &mut Row, prepared: &Prepared, result: &Reconstruction, truth: &[[f32; 3]]) {
    let mesh = ImageMesh::of(prepared, &result.mesh);
    if let Some(d) = depth51(&mesh.probe(), truth) {
        row.depth51 = Some(d.mean_pct);
        let coverage = d.covered as f32 / d.total.max(1) as f32;
        row.coverage = Some(coverage);
    }
    row.nme_3d = nme_3d(&own_landmarks(prepared, result), truth);
}

/// The photo shrunk so the truth's face is `width` wide, with the truth scaled alike.
///
/// # Errors
/// A width that leaves no pixels.
pub fn at_width(
    photo: &RgbImage,
    truth: &[[f32; 3]],
    width: Width,
) -> anyhow::Result<(RgbImage, Vec<[f32; 3]>)> {
    let Width::Px(w) = width else {
        return Ok((photo.clone(), truth.to_vec()));
    };
    let now = face_width(&truth.iter().map(|p| [p[0], p[1]]).collect::<Vec<_>>());
    let (small, s) = shrink_face(photo, now, w as f32, DegradeMethod::Bicubic)?;
    Ok((small, truth.iter().map(|p| p.map(|v| v * s)).collect()))
}

/// The (width, upscaler) conditions of `options`: the full width once (with the first
/// upscaler, used only when the face is smaller than the crop), each shrunk width with every
/// upscaler.
#[must_use]
pub fn conditions(options: &RealOptions) -> Vec<(Width, Upscaler)> {
    let first = options.upscalers.first().copied().unwrap_or_default();
    options
        .widths
        .iter()
        .flat_map(|&w| match w {
            Width::Full => vec![(w, first)],
            Width::Px(_) => options.upscalers.iter().map(|&u| (w, u)).collect(),
        })
        .collect()
}

/// Extra scoring of one method's result (the james scan distance).
pub type ExtraScore<'a> = dyn FnMut(&mut Row, &Prepared, &Reconstruction) + 'a;

/// Every method on one image under one condition (`truth` in the image's pixels), plus the
/// front end's 2D NME when `front_end` is set; `extra` adds scores to each method's row.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_image(
    runner: &Runner,
    set: &'static str,
    name: &str,
    image: &RgbImage,
    truth: &[[f32; 3]],
    condition: (Width, Upscaler),
    front_end: bool,
    extra: &mut ExtraScore,
) -> Vec<Row> {
    let (width, upscaler) = condition;
    let up = upscaler.name();
    let prepared = prepare_for(runner.detector, image, truth, upscaler);
    let mut out = Vec::new();
    if front_end {
        // The front end's 68 points: the fitted morphable model's (what `visage detect
        // --landmarks p68` prints), the contour-68 ridge map of FaceMesh's points, and the fixed
        // 468 -> 68 map the networks were trained with.
        let mut fitted = Row::new(set, name, FRONT_END, width, "-");
        let mut inner = Row::new(set, name, FRONT_END_INNER, width, "-");
        let mut ridge = Row::new(set, name, FRONT_END_RIDGE, width, "-");
        let mut fixed = Row::new(set, name, FRONT_END_FIXED, width, "-");
        let xy = |points: Vec<[f32; 3]>| points.iter().map(|q| [q[0], q[1]]).collect::<Vec<_>>();
        match &prepared {
            Ok(p) => {
                let points = &p.landmarks.points;
                let fitted_xy = MorphableModel::shared()
                    .and_then(|m| fitted_68(m, points))
                    .ok()
                    .map(xy);
                fitted.nme_2d = fitted_xy.as_ref().and_then(|f| nme_2d(f, truth));
                inner.nme_2d = fitted_xy.as_ref().and_then(|f| nme_2d_inner(f, truth));
                ridge.nme_2d = contour_68(points)
                    .ok()
                    .flatten()
                    .and_then(|c| nme_2d(&xy(c), truth));
                fixed.nme_2d = nme_2d(&front_end_68(p), truth);
            }
            Err(e) => {
                for row in [&mut fitted, &mut inner, &mut ridge, &mut fixed] {
                    row.error = Some(e.to_string());
                }
            }
        }
        out.extend([fitted, inner, ridge, fixed]);
    }
    for method in runner.methods {
        let mut row = Row::new(set, name, method.method().name(), width, up);
        let result = prepared
            .as_ref()
            .map_err(ToString::to_string)
            .and_then(|p| {
                method
                    .reconstruct(&p.photo, &p.face)
                    .map_err(|e| e.to_string())
            });
        match (&prepared, result) {
            (Ok(p), Ok(r)) => {
                score(&mut row, p, &r, truth);
                extra(&mut row, p, &r);
            }
            (_, Err(e)) => row.error = Some(e),
            (Err(e), Ok(_)) => row.error = Some(e.to_string()),
        }
        out.push(row);
    }
    out
}

/// The evaluation's preparation of the face of `image` whose true landmarks are `truth`: the
/// app's own [`prepare_face`], picking the detected face nearest the truth's centre.
///
/// # Errors
/// No face, or a failed crop.
pub fn prepare_for<'a>(
    detector: &Detector,
    image: &'a RgbImage,
    truth: &[[f32; 3]],
    upscaler: Upscaler,
) -> Result<Prepared<'a>, crate::pipeline::reconstruct::MethodError> {
    let centre = centroid(truth);
    prepare_face(detector, image, FacePick::Near(centre), upscaler, None)
}

/// Mean x, y of points.
fn centroid(points: &[[f32; 3]]) -> [f32; 2] {
    let n = points.len().max(1) as f32;
    let s = points
        .iter()
        .fold([0.0, 0.0], |a, p| [a[0] + p[0], a[1] + p[1]]);
    [s[0] / n, s[1] / n]
}

/// The AFLW rows: every photo under every condition, plus the flat plane and the peer.
///
/// # Errors
/// Missing or unreadable data.
pub fn evaluate_aflw(runner: &Runner, options: &RealOptions) -> anyhow::Result<Vec<Row>> {
    let photos = data::load_aflw(&options.data)?;
    anyhow::ensure!(
        !photos.is_empty(),
        "{}: no AFLW photos",
        options.data.display()
    );
    let mut rows = Vec::new();
    for p in &photos {
        let image = Photo::load(&p.path)?.rgb;
        let mut flat = Row::new("aflw", &p.name, "flat plane", Width::Full, "-");
        flat.depth51 = flat51(&p.truth);
        rows.push(flat);
        if let Some(peer) = &p.peer {
            rows.push(peer_row(&p.name, peer, &p.truth));
        }
        let mut last_width = None;
        for condition in conditions(options) {
            let (small, truth) = at_width(&image, &p.truth, condition.0)?;
            let front_end = last_width != Some(condition.0);
            last_width = Some(condition.0);
            rows.extend(evaluate_image(
                runner,
                "aflw",
                &p.name,
                &small,
                &truth,
                condition,
                front_end,
                &mut |_, _, _| {},
            ));
        }
        eprintln!("{}: done", p.name);
    }
    Ok(rows)
}

/// The reference row of the peer 3DDFA_V2 on one photo: 2D and 3D NME of its 68 points, depth51
/// on a surface through them.
#[must_use]
pub fn peer_row(name: &str, peer: &[[f32; 3]], truth: &[[f32; 3]]) -> Row {
    let mut row = Row::new("aflw", name, PEER, Width::Full, "-");
    let xy: Vec<[f32; 2]> = peer.iter().map(|p| [p[0], p[1]]).collect();
    row.nme_2d = nme_2d(&xy, truth);
    row.nme_3d = nme_3d(peer, truth);
    let (positions, triangles) = mesh_from_points_68(peer);
    if let Some(d) = depth51(&DepthProbe::new(&positions, &triangles), truth) {
        row.depth51 = Some(d.mean_pct);
        let coverage = d.covered as f32 / d.total.max(1) as f32;
        row.coverage = Some(coverage);
    }
    row
}

/// Name of the front end's rows (the fitted morphable model's 68 landmarks).
pub const FRONT_END: &str = "front end";
/// Name of the rows that score the front end's 51 inner points only (the jaw line left out, the
/// norm still that of all 68).
pub const FRONT_END_INNER: &str = "front end, inner 51";
/// Name of the rows of the contour-68 ridge map of FaceMesh's points.
pub const FRONT_END_RIDGE: &str = "front end, ridge map";
/// Name of the rows of the fixed 468 -> 68 map.
pub const FRONT_END_FIXED: &str = "front end, fixed map";

/// Name of the peer's rows.
pub const PEER: &str = "3DDFA_V2 (peer)";

/// Mean of each metric over a group of rows, with its failures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Rows in the group.
    pub count: usize,
    /// Rows whose method failed.
    pub failures: usize,
    /// Means over the rows that have the metric.
    pub nme_2d: Option<f32>,
    /// Mean depth51.
    pub depth51: Option<f32>,
    /// Mean coverage.
    pub coverage: Option<f32>,
    /// Mean 3D NME.
    pub nme_3d: Option<f32>,
    /// Mean scan distance, %.
    pub scan_pct: Option<f32>,
    /// Mean scan distance, scan units.
    pub scan_mm: Option<f32>,
}

/// The mean of the present values.
fn mean(values: impl Iterator<Item = Option<f32>>) -> Option<f32> {
    let v: Vec<f32> = values.flatten().collect();
    (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32)
}

/// A group of rows: set, width, upscaler, method.
pub type GroupKey = (&'static str, Width, String, String);

/// Summaries by (set, width, upscaler, method), in first-seen order of methods.
#[must_use]
pub fn summarise(rows: &[Row]) -> Vec<(GroupKey, Summary)> {
    let mut order: Vec<GroupKey> = Vec::new();
    let mut groups: BTreeMap<GroupKey, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        let key = (r.set, r.width, r.upscaler.clone(), r.method.clone());
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(r);
    }
    order
        .into_iter()
        .map(|k| {
            let g = &groups[&k];
            let s = Summary {
                count: g.len(),
                failures: g.iter().filter(|r| r.error.is_some()).count(),
                nme_2d: mean(g.iter().map(|r| r.nme_2d)),
                depth51: mean(g.iter().map(|r| r.depth51)),
                coverage: mean(g.iter().map(|r| r.coverage)),
                nme_3d: mean(g.iter().map(|r| r.nme_3d)),
                scan_pct: mean(g.iter().map(|r| r.scan_pct)),
                scan_mm: mean(g.iter().map(|r| r.scan_mm)),
            };
            (k, s)
        })
        .collect()
}

/// The summaries of one set as Markdown tables, one per (width, upscaler).
#[must_use]
pub fn tables(rows: &[Row], set: &str) -> String {
    let summaries = summarise(rows);
    let mut conds: Vec<(Width, String)> = Vec::new();
    for ((s, w, u, _), _) in &summaries {
        let c = (*w, u.clone());
        if *s == set && u != "-" && !conds.contains(&c) {
            conds.push(c);
        }
    }
    let f = |v: Option<f32>, d: usize| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.d$}"));
    let mut out = String::new();
    for (width, upscaler) in conds {
        let _ = writeln!(
            out,
            "\n#### {set}: face width {width}, upscaler {upscaler}\n\n| method | 2D NME % | \
             depth51 % | coverage | 3D NME % | scan dist % | scan dist mm | images | failures \
             |\n|---|---|---|---|---|---|---|---|---|"
        );
        for ((s, w, u, m), sum) in &summaries {
            let extra = u == "-" && (*w == width || m == "flat plane" || m == PEER);
            if *s != set || !(*w == width && *u == upscaler || extra) {
                continue;
            }
            if (m == "flat plane" || m == PEER) && width != Width::Full {
                continue;
            }
            let _ = writeln!(
                out,
                "| {m} | {} | {} | {} | {} | {} | {} | {} | {} |",
                f(sum.nme_2d, 2),
                f(sum.depth51, 2),
                sum.coverage
                    .map_or_else(|| "-".to_owned(), |c| format!("{:.0} %", 100.0 * c)),
                f(sum.nme_3d, 2),
                f(sum.scan_pct, 2),
                f(sum.scan_mm, 2),
                sum.count,
                sum.failures
            );
        }
    }
    out
}

/// The headline table: per method, depth51 (and the front end's 2D NME) at every width, the
/// shrunk widths with the last upscaler of `options` (ESPCN by default), for both sets.
#[must_use]
pub fn summary_table(rows: &[Row], options: &RealOptions) -> String {
    let summaries = summarise(rows);
    let upscaler = options.upscalers.last().copied().unwrap_or_default().name();
    let mut out = format!(
        "### Summary: depth51 % (lower is better; front end: 2D NME %), shrunk widths with \
         {upscaler}\n\n| set | method |"
    );
    for w in &options.widths {
        let _ = write!(out, " {w} |");
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(options.widths.len()));
    out.push('\n');
    let mut keys: Vec<(&'static str, String)> = Vec::new();
    for ((set, _, _, method), _) in &summaries {
        let k = (*set, method.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for (set, method) in keys {
        let _ = write!(out, "| {set} | {method} |");
        for &w in &options.widths {
            let cell = summaries
                .iter()
                .filter(|((s, sw, u, m), _)| {
                    *s == set
                        && m == &method
                        && (*sw == w || (u == "-" && *sw == Width::Full && w == Width::Full))
                        && (u == "-" || w == Width::Full || u == upscaler)
                })
                .find_map(|(_, sum)| {
                    if method.starts_with(FRONT_END) {
                        sum.nme_2d
                    } else {
                        sum.depth51
                    }
                });
            let _ = write!(
                out,
                " {} |",
                cell.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"))
            );
        }
        out.push('\n');
    }
    out
}

/// The whole evaluation: rows of every set.
///
/// # Errors
/// Missing data (the error names the folder).
pub fn evaluate(runner: &Runner, options: &RealOptions) -> anyhow::Result<Vec<Row>> {
    anyhow::ensure!(
        options.data.is_dir(),
        "{}: the real-photo evaluation data is missing (expected aflw-dev/, james/ and \
         peer-3ddfa_v2/ there; see --data)",
        options.data.display()
    );
    let mut rows = evaluate_aflw(runner, options)
        .with_context(|| format!("{}: AFLW photos", options.data.display()))?;
    if options.james {
        rows.extend(
            james::evaluate(runner, options)
                .with_context(|| format!("{}: the james scan", options.data.display()))?,
        );
    }
    Ok(rows)
}

/// Writes every row as JSON with the command line and the commit.
///
/// # Errors
/// An unwritable file.
pub fn write_json(path: &Path, rows: &[Row], command: &str) -> anyhow::Result<()> {
    let json = serde_json::json!({
        "command": command,
        "commit": commit(),
        "summary": summarise(rows)
            .into_iter()
            .map(|((set, width, upscaler, method), s)| serde_json::json!({
                "set": set, "width": width, "upscaler": upscaler, "method": method, "summary": s,
            }))
            .collect::<Vec<_>>(),
        "rows": rows,
    });
    std::fs::write(path, serde_json::to_string_pretty(&json)?)
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// The checked-out commit (`git rev-parse --short HEAD`), or `unknown`.
#[must_use]
pub fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned())
}
