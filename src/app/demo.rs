//! Start-up options of the app (`visage [--photo P] [--mesh M] …`) and the small driver that
//! replays them: open files, compare, run, then optionally take a screenshot of the window and
//! quit (`tools/screenshots.sh`), and frame-time statistics (`--frame-stats`).

use super::command::Command;
use super::settings::{Settings, Tab};
use crate::viewport::Shading;
use std::path::PathBuf;
use std::time::Instant;

/// Frames to wait after the last job before a screenshot, so every texture is up to date.
const SETTLE_FRAMES: u32 = 8;

/// What to do at start-up (all optional; none of it is needed to use the app).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Startup {
    /// Open this photo at start-up.
    #[arg(long)]
    pub photo: Option<PathBuf>,
    /// Open this mesh file at start-up.
    #[arg(long)]
    pub mesh: Option<PathBuf>,
    /// Face rectangle in photo pixels, "x,y,width,height".
    #[arg(long, value_parser = parse_crop)]
    pub crop: Option<crate::worker::CropRect>,
    /// Simulate a low-resolution capture of this face width (pixels).
    #[arg(long)]
    pub simulate: Option<u32>,
    /// Compare the upscalers once the photo is open.
    #[arg(long)]
    pub compare: bool,
    /// Compare in 3D once the photo is open: one panel per upscaler or per method.
    #[arg(long, value_parser = ["upscalers", "methods"])]
    pub compare_3d: Option<String>,
    /// Upscaler to select (instead of the one saved from the last session).
    #[arg(long, value_enum)]
    pub upscaler: Option<crate::pipeline::upscale::Upscaler>,
    /// Window size in points, "width,height" (default 1280,800).
    #[arg(long, value_parser = parse_size)]
    pub window: Option<[f32; 2]>,
    /// Reconstruct once the photo is open.
    #[arg(long)]
    pub run: bool,
    /// Reconstruction method to select (instead of the one saved from the last session).
    #[arg(long, value_enum)]
    pub method: Option<crate::pipeline::reconstruct::Method>,
    /// Show this central view: viewport or compare.
    #[arg(long, value_parser = ["viewport", "compare"])]
    pub view: Option<String>,
    /// Viewport shading.
    #[arg(long, value_enum)]
    pub shading: Option<Shading>,
    /// Draw the wireframe overlay.
    #[arg(long)]
    pub wireframe: bool,
    /// Camera yaw and pitch in degrees, "yaw,pitch", applied after the mesh opens.
    #[arg(long, allow_hyphen_values = true)]
    pub orbit: Option<String>,
    /// Spin the mesh (turntable).
    #[arg(long)]
    pub turntable: bool,
    /// When everything above is done, save a screenshot of the window here and quit.
    #[arg(long)]
    pub screenshot: Option<PathBuf>,
    /// Print frame-time statistics (idle and while the worker is busy) when quitting.
    #[arg(long)]
    pub frame_stats: bool,
}

fn parse_size(s: &str) -> Result<[f32; 2], String> {
    let (w, h) = s.split_once(',').ok_or("expected width,height")?;
    let p = |v: &str| v.trim().parse::<f32>().map_err(|e| format!("{v}: {e}"));
    Ok([p(w)?, p(h)?])
}

fn parse_crop(s: &str) -> Result<crate::worker::CropRect, String> {
    let v: Vec<u32> = s
        .split(',')
        .map(|p| p.trim().parse::<u32>().map_err(|e| format!("{p}: {e}")))
        .collect::<Result<_, _>>()?;
    match v[..] {
        [x, y, width, height] => Ok(crate::worker::CropRect {
            x,
            y,
            width,
            height,
        }),
        _ => Err("expected x,y,width,height".into()),
    }
}

impl Startup {
    /// Overrides persisted settings with the start-up flags given.
    pub fn apply(&self, settings: &mut Settings) {
        if let Some(m) = self.method {
            settings.method = m;
        }
        if let Some(u) = self.upscaler {
            settings.upscaler = u;
        }
        match self.compare_3d.as_deref() {
            Some("methods") => settings.compare_axis = crate::worker::CompareAxis::Methods,
            Some(_) => settings.compare_axis = crate::worker::CompareAxis::Upscalers,
            None => {}
        }
        if let Some(s) = self.shading {
            settings.shading = s;
        }
        if let Some(w) = self.simulate {
            (settings.simulate, settings.face_width) = (true, w);
        }
        if self.screenshot.is_some() || self.frame_stats {
            settings.wireframe = self.wireframe;
            settings.turntable = self.turntable;
        }
        settings.tab = match self.view.as_deref() {
            Some("compare") => Tab::Compare,
            Some(_) => Tab::Viewport,
            None => settings.tab,
        };
    }
}

/// Replays [`Startup`] and measures frames.
pub struct Demo {
    steps: Vec<Command>,
    view: Option<String>,
    orbit: Option<(f32, f32)>,
    screenshot: Option<PathBuf>,
    frame_stats: bool,
    settled: u32,
    frame_start: Option<Instant>,
    last_frame: Option<Instant>,
    /// (frame interval ms, UI CPU ms, worker busy) per frame.
    frames: Vec<(f32, f32, bool)>,
}

impl Demo {
    /// The driver of `startup`.
    #[must_use]
    pub fn new(startup: Startup) -> Self {
        let mut steps = Vec::new();
        steps.extend(startup.photo.map(Command::LoadPhoto));
        steps.extend(startup.crop.map(|c| Command::SetCrop(Some(c))));
        steps.extend(startup.mesh.map(Command::OpenMesh));
        steps.extend(startup.compare.then_some(Command::Compare));
        steps.extend(startup.compare_3d.is_some().then_some(Command::Compare3d));
        steps.extend(startup.run.then_some(Command::Run));
        steps.reverse();
        let orbit = startup.orbit.as_deref().and_then(|s| {
            let (a, b) = s.split_once(',')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        });
        Self {
            steps,
            view: startup.view,
            orbit,
            screenshot: startup.screenshot,
            frame_stats: startup.frame_stats,
            settled: 0,
            frame_start: None,
            last_frame: None,
            frames: Vec::new(),
        }
    }

    /// Marks the start of a frame.
    pub fn frame_started(&mut self) {
        self.frame_start = Some(Instant::now());
    }

    /// The next start-up step, once the worker is idle.
    pub fn commands(&mut self, idle: bool) -> Vec<Command> {
        if !idle {
            return Vec::new();
        }
        self.steps.pop().into_iter().collect()
    }

    /// True when all steps ran; the app then applies the view and orbit once.
    #[must_use]
    pub fn finished(&self) -> bool {
        self.steps.is_empty()
    }

    /// The camera orbit and central view asked for, taken once.
    pub fn take_view(&mut self) -> (Option<(f32, f32)>, Option<String>) {
        (self.orbit.take(), self.view.take())
    }

    /// Ends a frame: records its times and, when everything is done, takes the screenshot.
    pub fn frame_done(&mut self, ctx: &egui::Context, idle: bool) {
        let now = Instant::now();
        if let (Some(start), Some(last)) = (self.frame_start, self.last_frame) {
            let cpu = (now - start).as_secs_f32() * 1e3;
            let wall = (start - last).as_secs_f32() * 1e3;
            self.frames.push((wall, cpu, !idle));
        }
        self.last_frame = self.frame_start;
        if !(idle && self.steps.is_empty()) {
            self.settled = 0;
            return;
        }
        self.settled += 1;
        if self.settled < SETTLE_FRAMES {
            ctx.request_repaint();
            return;
        }
        if let Some(path) = self.screenshot.take() {
            self.print_stats();
            let ctx2 = ctx.clone();
            ctx.request_screenshot(move |image| {
                let size = [image.width() as u32, image.height() as u32];
                let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
                match image::RgbaImage::from_raw(size[0], size[1], rgba).map(|i| i.save(&path)) {
                    Some(Ok(())) => println!("wrote {}", path.display()),
                    _ => eprintln!("error: cannot write {}", path.display()),
                }
                ctx2.send_viewport_cmd(egui::ViewportCommand::Close);
            });
        }
    }

    fn print_stats(&mut self) {
        if !self.frame_stats || self.frames.is_empty() {
            return;
        }
        self.frame_stats = false;
        for busy in [false, true] {
            let mut wall: Vec<f32> = self
                .frames
                .iter()
                .filter(|f| f.2 == busy)
                .map(|f| f.0)
                .collect();
            let mut cpu: Vec<f32> = self
                .frames
                .iter()
                .filter(|f| f.2 == busy)
                .map(|f| f.1)
                .collect();
            let label = if busy { "worker busy" } else { "worker idle" };
            println!(
                "frames ({label}): {}; interval ms median {:.1} p95 {:.1} max {:.1}; UI CPU ms median {:.2} max {:.2}",
                wall.len(),
                quantile(&mut wall, 0.5),
                quantile(&mut wall, 0.95),
                quantile(&mut wall, 1.0),
                quantile(&mut cpu, 0.5),
                quantile(&mut cpu, 1.0),
            );
        }
        self.frames.clear();
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.print_stats();
    }
}

fn quantile(v: &mut [f32], q: f32) -> f32 {
    if v.is_empty() {
        return f32::NAN;
    }
    v.sort_by(f32::total_cmp);
    let i = ((v.len() - 1) as f32 * q).round() as usize;
    v[i]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::reconstruct::Method;

    #[test]
    fn start_up_flags_override_saved_settings_only_when_given() {
        let mut settings = Settings {
            method: Method::Vrn,
            ..Settings::default()
        };
        Startup::default().apply(&mut settings);
        assert_eq!(settings.method, Method::Vrn);
        let startup = Startup {
            method: Some(Method::MorphableCgan),
            ..Startup::default()
        };
        startup.apply(&mut settings);
        assert_eq!(settings.method, Method::MorphableCgan);
    }
}
