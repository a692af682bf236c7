//! The photo in the side panel: detected faces drawn as boxes (click one to choose it), the
//! chosen face rectangle, and a rectangle drawn by dragging when detection is missing or fails.

use super::command::Command;
use crate::worker::{CropRect, Faces};
use egui::{Color32, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2};

/// Smallest face rectangle a drag may make, photo pixels.
const MIN_CROP: u32 = 16;

/// Draws `texture` (the photo, `photo_size` pixels) at the panel's width with the boxes.
/// `drag_start` is the photo point where the current drag began.
pub fn photo_view(
    ui: &mut Ui,
    texture: &egui::TextureHandle,
    photo_size: [u32; 2],
    faces: &Faces,
    crop: Option<CropRect>,
    drag_start: &mut Option<Pos2>,
) -> Option<Command> {
    let (pw, ph) = (photo_size[0] as f32, photo_size[1] as f32);
    // The panel's width, but never more than a third of the window's height, so the controls
    // below stay reachable with a tall photo.
    let width = ui.available_width().min(400.0);
    let max_height = ui.ctx().content_rect().height() / 3.0;
    let width = width.min(max_height * pw / ph.max(1.0));
    let size = Vec2::new(width, width * ph / pw.max(1.0));
    let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
    let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
    ui.painter().image(texture.id(), rect, uv, Color32::WHITE);
    let scale = rect.width() / pw.max(1.0);
    let to_screen = |c: CropRect| {
        let min = rect.min + Vec2::new(c.x as f32, c.y as f32) * scale;
        Rect::from_min_size(min, Vec2::new(c.width as f32, c.height as f32) * scale)
    };
    let to_photo = |p: Pos2| ((p - rect.min) / scale).to_pos2();
    let painter = ui.painter_at(rect);
    for b in faces {
        painter.rect_stroke(
            to_screen(*b),
            2.0,
            Stroke::new(1.5, Color32::LIGHT_GREEN),
            StrokeKind::Outside,
        );
    }
    if let Some(c) = crop {
        painter.rect_stroke(
            to_screen(c),
            2.0,
            Stroke::new(2.0, Color32::YELLOW),
            StrokeKind::Outside,
        );
    }
    let mut command = None;
    if response.drag_started() {
        *drag_start = response.interact_pointer_pos().map(to_photo);
    }
    if let (Some(start), Some(now)) = (*drag_start, response.interact_pointer_pos()) {
        let live = rect_between(start, to_photo(now), photo_size);
        painter.rect_stroke(
            to_screen(live),
            0.0,
            Stroke::new(1.0, Color32::WHITE),
            StrokeKind::Outside,
        );
        if response.drag_stopped() {
            *drag_start = None;
            if live.width >= MIN_CROP && live.height >= MIN_CROP {
                command = Some(Command::SetCrop(Some(live)));
            }
        }
    }
    if response.clicked()
        && let Some(p) = response.interact_pointer_pos()
        && let Some(b) = faces.iter().find(|b| contains(**b, to_photo(p)))
    {
        command = Some(Command::SetCrop(Some(*b)));
    }
    response.on_hover_text("Drag to draw the face rectangle; click a detected face to choose it");
    command
}

fn contains(c: CropRect, p: Pos2) -> bool {
    let r = Rect::from_min_size(
        Pos2::new(c.x as f32, c.y as f32),
        Vec2::new(c.width as f32, c.height as f32),
    );
    r.contains(p)
}

/// The photo rectangle spanned by two points, clamped to the photo.
fn rect_between(a: Pos2, b: Pos2, photo_size: [u32; 2]) -> CropRect {
    let clamp = |p: Pos2| {
        Pos2::new(
            p.x.clamp(0.0, photo_size[0] as f32),
            p.y.clamp(0.0, photo_size[1] as f32),
        )
    };
    let r = Rect::from_two_pos(clamp(a), clamp(b));
    CropRect {
        x: r.min.x.round() as u32,
        y: r.min.y.round() as u32,
        width: r.width().round() as u32,
        height: r.height().round() as u32,
    }
}
