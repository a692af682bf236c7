//! The desktop app (eframe + egui, wgpu renderer). It owns no pipeline logic: panels return
//! [`Command`]s, [`VisageApp::execute`] turns them into worker [`Job`]s, and the worker's
//! [`Event`]s are drained once per frame and drawn. See `docs/gui.md` for the controls.

pub mod command;
pub mod compare3d;
pub mod compare_view;
pub mod demo;
pub mod dialogs;
pub mod photo_view;
pub mod session;
pub mod settings;
pub mod side_panel;
pub mod view3d;

pub use command::{Command, Dialog};
pub use demo::Startup;
pub use session::Session;
pub use settings::{Settings, Tab};

use crate::pipeline::mesh::Mesh;
use crate::viewport::Shading;
use crate::worker::{CompareAxis, Event, Job, ReconstructJob, Worker};
use std::path::Path;
use std::sync::Arc;

/// The app.
pub struct VisageApp {
    /// Persisted settings.
    pub settings: Settings,
    /// Transient state.
    pub session: Session,
    /// The 3D viewport (absent without a wgpu renderer).
    pub view: Option<view3d::View3d>,
    /// The 3D comparison (its panels have viewports of their own).
    pub compare3d: Option<compare3d::Compare3d>,
    gpu: Option<eframe::egui_wgpu::RenderState>,
    worker: Worker,
    dialogs: dialogs::Dialogs,
    demo: demo::Demo,
}

impl VisageApp {
    /// Creates the app: settings from storage, the worker thread, the viewport on eframe's
    /// wgpu device.
    ///
    /// # Errors
    /// When the worker thread cannot start.
    pub fn new(cc: &eframe::CreationContext<'_>, startup: Startup) -> anyhow::Result<Self> {
        let mut settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
            .unwrap_or_default();
        startup.apply(&mut settings);
        let worker = Worker::spawn(cc.egui_ctx.clone())?;
        let view = cc.wgpu_render_state.clone().map(view3d::View3d::new);
        let mut session = Session::default();
        if view.is_none() {
            session
                .errors
                .push("The 3D view needs the wgpu renderer; it is unavailable here.".into());
        }
        Ok(Self {
            settings,
            session,
            view,
            compare3d: None,
            gpu: cc.wgpu_render_state.clone(),
            worker,
            dialogs: dialogs::Dialogs::default(),
            demo: demo::Demo::new(startup),
        })
    }

    /// True when no job is queued or running.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.session.pending == 0
    }

    /// Runs one command.
    pub fn execute(&mut self, ctx: &egui::Context, command: Command) {
        let result = match command {
            Command::Dialog(d) => self
                .dialogs
                .show(
                    ctx,
                    d,
                    self.settings.last_dir.as_deref(),
                    self.settings.mesh_format,
                )
                .map_err(anyhow::Error::from),
            Command::LoadPhoto(path) => {
                self.remember_dir(&path);
                self.send(Job::LoadPhoto(path))
            }
            Command::OpenMesh(path) => {
                self.remember_dir(&path);
                self.send(Job::OpenMesh(path))
            }
            Command::Run => self.run_job(false),
            Command::Compare => self.run_job(true),
            Command::Compare3d => self.run_compare3d(),
            Command::SaveComparison3d(dir) => self.save_comparison3d(dir),
            Command::Cancel => {
                self.worker.cancel();
                Ok(())
            }
            Command::SaveMesh(path) => self.save_mesh(path),
            Command::SaveComparison(path) => match &self.session.comparison {
                Some(t) => self.send(Job::SaveComparison {
                    comparison: Arc::clone(&t.comparison),
                    path,
                }),
                None => Err(anyhow::anyhow!("no comparison to save yet")),
            },
            Command::SaveDepth(path) => self.save_depth(path),
            Command::SetCrop(crop) => {
                self.session.crop = crop;
                Ok(())
            }
            Command::ResetCamera => {
                if let Some(v) = &mut self.view {
                    v.reset_camera();
                }
                Ok(())
            }
            Command::SetDevice(choice) => self.send(Job::SetDevice(choice)),
            Command::DismissError(i) => {
                if i < self.session.errors.len() {
                    self.session.errors.remove(i);
                }
                Ok(())
            }
        };
        if let Err(e) = result {
            self.session.errors.push(format!("{e:#}"));
        }
    }

    fn send(&mut self, job: Job) -> anyhow::Result<()> {
        self.worker.send(job)?;
        self.session.pending += 1;
        Ok(())
    }

    fn remember_dir(&mut self, path: &Path) {
        self.settings.last_dir = path.parent().map(Path::to_path_buf);
    }

    fn run_job(&mut self, compare: bool) -> anyhow::Result<()> {
        let photo = self
            .session
            .photo
            .clone()
            .ok_or_else(|| anyhow::anyhow!("open a photo first"))?;
        let (crop, simulation) = (self.session.crop, self.settings.simulation());
        self.send(if compare {
            Job::Compare {
                photo,
                crop,
                simulation,
            }
        } else {
            Job::Reconstruct(ReconstructJob {
                photo,
                crop,
                simulation,
                upscaler: self.settings.upscaler,
                method: self.settings.method,
            })
        })
    }

    fn reconstruct_job(&self) -> anyhow::Result<ReconstructJob> {
        let photo = self
            .session
            .photo
            .clone()
            .ok_or_else(|| anyhow::anyhow!("open a photo first"))?;
        Ok(ReconstructJob {
            photo,
            crop: self.session.crop,
            simulation: self.settings.simulation(),
            upscaler: self.settings.upscaler,
            method: self.settings.method,
        })
    }

    fn run_compare3d(&mut self) -> anyhow::Result<()> {
        let job = self.reconstruct_job()?;
        let axis = self.settings.compare_axis;
        let count = match axis {
            CompareAxis::Upscalers => crate::pipeline::upscale::Upscaler::ALL.len(),
            CompareAxis::Methods => crate::worker::Method::ALL.len(),
        };
        let simulated = job.simulation.map(|s| s.face_width);
        self.compare3d = Some(compare3d::Compare3d::new(axis, simulated, count));
        self.settings.tab = Tab::Compare3d;
        self.send(Job::Compare3d { job, axis })
    }

    fn save_comparison3d(&mut self, dir: std::path::PathBuf) -> anyhow::Result<()> {
        let c = self
            .compare3d
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no 3D comparison to save yet"))?;
        let image = Arc::new(c.image()?);
        let meshes = c
            .done()
            .map(|p| (p.info.label.clone(), Arc::clone(&p.info.mesh)))
            .collect();
        self.remember_dir(&dir.join("x"));
        self.send(Job::SaveComparison3d { image, meshes, dir })
    }

    fn save_mesh(&mut self, path: std::path::PathBuf) -> anyhow::Result<()> {
        let mesh = self
            .session
            .mesh
            .clone()
            .ok_or_else(|| anyhow::anyhow!("no mesh to save yet"))?;
        self.remember_dir(&path);
        let format = self.settings.mesh_format;
        self.send(Job::SaveMesh { mesh, path, format })
    }

    fn save_depth(&mut self, path: std::path::PathBuf) -> anyhow::Result<()> {
        let view = self
            .view
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no 3D view"))?;
        let image = Arc::new(view.depth_image(1024)?);
        self.send(Job::SaveImage { image, path })
    }

    /// Applies every waiting worker event.
    fn drain_events(&mut self, ctx: &egui::Context) {
        while let Some(event) = self.worker.try_recv() {
            self.apply(ctx, event);
        }
    }

    fn apply(&mut self, ctx: &egui::Context, event: Event) {
        let s = &mut self.session;
        match event {
            Event::Started(name) => (s.busy, s.progress) = (Some(name), None),
            Event::Progress { stage, fraction } => s.progress = Some((stage, fraction)),
            Event::PhotoLoaded {
                photo,
                faces,
                sizes,
            } => {
                s.face_sizes = sizes;
                let size = [photo.width() as usize, photo.height() as usize];
                let image = egui::ColorImage::from_rgb(size, photo.rgb.as_raw());
                s.photo_texture =
                    Some(ctx.load_texture("photo", image, egui::TextureOptions::LINEAR));
                s.crop = faces.first().copied();
                (s.photo, s.faces, s.comparison) = (Some(photo), faces, None);
                s.status = "Photo opened".into();
            }
            Event::Mesh {
                mesh,
                source,
                stages,
            } => {
                s.stages = stages;
                self.show_mesh(mesh, source);
            }
            Event::Panel(panel) => {
                let (Some(c), Some(gpu)) = (&mut self.compare3d, &self.gpu) else {
                    return;
                };
                if let Err(e) = c.add(gpu, panel) {
                    s.errors.push(format!("3D comparison: {e}"));
                }
            }
            Event::Comparison(c) => {
                s.comparison = Some(compare_view::textures(ctx, c));
                self.settings.tab = Tab::Compare;
            }
            Event::Saved(paths) => {
                let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                s.status = format!("Saved {}", names.join(", "));
            }
            Event::Device {
                choice,
                description,
            } => (s.device, s.device_label) = (choice, description),
            Event::Error(message) => s.errors.push(message),
            Event::Cancelled => s.status = "Cancelled".into(),
            Event::Finished => {
                s.pending = s.pending.saturating_sub(1);
                (s.busy, s.progress) = (None, None);
            }
        }
    }

    fn show_mesh(&mut self, mesh: Arc<Mesh>, source: String) {
        if let Some(view) = &mut self.view
            && let Err(e) = view.set_mesh(&mesh)
        {
            self.session.errors.push(format!("{source}: {e}"));
            return;
        }
        self.session.status = format!(
            "{source}: {} vertices, {} triangles",
            mesh.vertex_count(),
            mesh.triangles.len()
        );
        (self.session.mesh, self.session.mesh_source) = (Some(mesh), source);
        self.settings.tab = Tab::Viewport;
    }

    fn apply_startup_view(&mut self) {
        let (orbit, tab) = self.demo.take_view();
        if let (Some((yaw, pitch)), Some(view)) = (orbit, &mut self.view) {
            view.reset_camera();
            view.orbit(yaw, pitch);
        }
        match tab.as_deref() {
            Some("compare") => self.settings.tab = Tab::Compare,
            Some(_) => self.settings.tab = Tab::Viewport,
            None => {}
        }
    }

    /// Files dropped on the window: meshes by extension, anything else as a photo.
    fn dropped_files(ctx: &egui::Context) -> Vec<Command> {
        ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .map(
                    |p| match crate::pipeline::export::MeshFormat::from_path(&p) {
                        Some(_) => Command::OpenMesh(p),
                        None => Command::LoadPhoto(p),
                    },
                )
                .collect()
        })
    }

    fn central(&mut self, ui: &mut egui::Ui) -> Vec<Command> {
        let mut commands = Vec::new();
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.settings.tab, Tab::Viewport, "3D view");
            ui.selectable_value(&mut self.settings.tab, Tab::Compare, "Upscalers");
            ui.selectable_value(&mut self.settings.tab, Tab::Compare3d, "3D comparison");
            if self.settings.tab == Tab::Viewport {
                ui.separator();
                egui::ComboBox::from_label("Shading")
                    .selected_text(self.settings.shading.label())
                    .show_ui(ui, |ui| {
                        for s in Shading::ALL {
                            ui.selectable_value(&mut self.settings.shading, s, s.label());
                        }
                    });
                ui.checkbox(&mut self.settings.wireframe, "Wireframe");
                ui.checkbox(&mut self.settings.turntable, "Turntable");
                if ui.button("Reset view").clicked() {
                    commands.push(Command::ResetCamera);
                }
            }
        });
        match self.settings.tab {
            Tab::Viewport => match &mut self.view {
                Some(view) => commands.extend(view.ui(ui, &self.settings)),
                None => {
                    ui.label("No 3D view: the app runs without its wgpu renderer.");
                }
            },
            Tab::Compare3d => {
                let can = self.session.photo.is_some() && self.is_idle();
                commands.extend(compare3d::compare3d_view(
                    ui,
                    &mut self.settings,
                    self.compare3d.as_mut(),
                    can,
                ));
            }
            Tab::Compare => {
                let can = self.session.photo.is_some() && self.is_idle();
                commands.extend(compare_view::compare_view(
                    ui,
                    &mut self.settings,
                    self.session.comparison.as_ref(),
                    can,
                ));
            }
        }
        commands
    }

    fn errors(&self, ui: &mut egui::Ui) -> Vec<Command> {
        let mut commands = Vec::new();
        for (i, e) in self.session.errors.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui.small_button("Dismiss").clicked() {
                    commands.push(Command::DismissError(i));
                }
                ui.colored_label(ui.visuals().error_fg_color, e);
            });
        }
        commands
    }
}

impl eframe::App for VisageApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.demo.frame_started();
        self.drain_events(&ctx);
        let mut commands = Self::dropped_files(&ctx);
        commands.extend(self.dialogs.poll());
        commands.extend(self.demo.commands(self.is_idle()));
        if !self.session.errors.is_empty() {
            egui::Panel::bottom("errors").show(ui, |ui| commands.extend(self.errors(ui)));
        }
        egui::Panel::left("side")
            .default_size(320.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    commands.extend(side_panel::side_panel(
                        ui,
                        &mut self.settings,
                        &mut self.session,
                    ));
                });
            });
        egui::CentralPanel::default().show(ui, |ui| commands.extend(self.central(ui)));
        for command in commands {
            self.execute(&ctx, command);
        }
        if self.demo.finished() && self.is_idle() {
            self.apply_startup_view();
        }
        self.demo.frame_done(&ctx, self.is_idle());
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }
}

/// Opens the window and runs the app until it is closed.
///
/// # Errors
/// When no window or GPU can be created.
pub fn run(startup: Startup) -> anyhow::Result<()> {
    let size = startup.window.unwrap_or([1280.0, 800.0]);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Visage")
            .with_inner_size(size)
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Wgpu,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "Visage",
        options,
        Box::new(move |cc| {
            let app = VisageApp::new(cc, startup).map_err(|e| e.to_string())?;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
