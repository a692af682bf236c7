//! A picture of what the detector found: boxes, the 6 keypoints and the 468 landmarks drawn on
//! a copy of the photo (enlarged with nearest-neighbour pixels when small, so points stay
//! visible).

use super::{Face, Landmarks};
use image::{Rgb, RgbImage, imageops};

/// Box colour (the best face) and of the other faces' boxes.
const BEST: Rgb<u8> = Rgb([40, 220, 60]);
const OTHER: Rgb<u8> = Rgb([240, 200, 30]);
/// Keypoint and landmark colours.
const KEYPOINT: Rgb<u8> = Rgb([230, 40, 40]);
const LANDMARK: Rgb<u8> = Rgb([40, 200, 255]);

/// The overlay; `landmarks[i]` (when present) belongs to `faces[i]`. Photos whose longer side
/// is under `min_side` are enlarged by an integer factor first.
#[must_use]
pub fn draw(
    img: &RgbImage,
    faces: &[Face],
    landmarks: &[Option<Landmarks>],
    min_side: u32,
) -> RgbImage {
    let long = img.width().max(img.height()).max(1);
    let k = min_side.div_ceil(long).max(1);
    let mut out = imageops::resize(
        img,
        img.width() * k,
        img.height() * k,
        imageops::FilterType::Nearest,
    );
    let s = k as f32;
    let dot = (long * k / 400).clamp(1, 4);
    for (i, face) in faces.iter().enumerate().rev() {
        if let Some(Some(marks)) = landmarks.get(i) {
            for p in &marks.points {
                square(&mut out, p[0] * s, p[1] * s, dot / 2, LANDMARK);
            }
        }
        let [x, y, w, h] = face.bbox.map(|v| v * s);
        let colour = if i == 0 { BEST } else { OTHER };
        for t in 0..dot {
            let t = t as f32;
            rectangle(&mut out, x - t, y - t, w + 2.0 * t, h + 2.0 * t, colour);
        }
        for kp in &face.keypoints {
            square(&mut out, kp[0] * s, kp[1] * s, dot + 1, KEYPOINT);
        }
    }
    out
}

fn put(img: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>) {
    if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y))
        && x < img.width()
        && y < img.height()
    {
        img.put_pixel(x, y, colour);
    }
}

fn square(img: &mut RgbImage, cx: f32, cy: f32, radius: u32, colour: Rgb<u8>) {
    let (cx, cy, r) = (cx.floor() as i64, cy.floor() as i64, i64::from(radius));
    for y in cy - r..=cy + r {
        for x in cx - r..=cx + r {
            put(img, x, y, colour);
        }
    }
}

fn rectangle(img: &mut RgbImage, x: f32, y: f32, w: f32, h: f32, colour: Rgb<u8>) {
    let (x0, y0) = (x.round() as i64, y.round() as i64);
    let (x1, y1) = ((x + w).round() as i64, (y + h).round() as i64);
    for x in x0..=x1 {
        put(img, x, y0, colour);
        put(img, x, y1, colour);
    }
    for y in y0..=y1 {
        put(img, x0, y, colour);
        put(img, x1, y, colour);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_box_and_keypoints_and_enlarges_small_photos() {
        let img = RgbImage::new(50, 40);
        let face = Face {
            score: 0.9,
            bbox: [10.0, 10.0, 20.0, 20.0],
            keypoints: [[20.0, 20.0]; 6],
        };
        let out = draw(&img, &[face], &[None], 200);
        assert_eq!(out.dimensions(), (200, 160));
        assert_eq!(*out.get_pixel(40, 40), BEST);
        assert_eq!(*out.get_pixel(80, 80), KEYPOINT);
        assert_eq!(*out.get_pixel(5, 5), Rgb([0, 0, 0]));
    }
}
