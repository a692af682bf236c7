//! Photo loading: every format the `image` crate decodes here (JPEG, PNG, WebP, BMP, TIFF, GIF's
//! first frame), EXIF orientation applied, grey / alpha / 16-bit converted to 8-bit RGB.
//!
//! Bad input never panics: each failure is a [`PhotoError`] that names the file and the reason,
//! and huge headers are refused before any pixel buffer is allocated.

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};
use std::path::{Path, PathBuf};

/// Largest accepted width or height, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// Smallest accepted width or height, in pixels (a 16 px face is below anything useful).
pub const MIN_SIDE: u32 = 16;

/// Why a photo could not be loaded. Every variant carries the path.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The file could not be read.
    #[error("{path}: cannot read the file: {source}")]
    Io {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is empty.
    #[error("{path}: the file is empty (0 bytes)")]
    Empty {
        /// File path.
        path: PathBuf,
    },
    /// The content is no image format this build decodes.
    #[error("{path}: not an image in a supported format (JPEG, PNG, WebP, BMP, TIFF, GIF)")]
    UnknownFormat {
        /// File path.
        path: PathBuf,
    },
    /// The header announces more pixels than allowed.
    #[error("{path}: the image is {width} x {height} pixels; the limit is {MAX_SIDE} x {MAX_SIDE}")]
    TooLarge {
        /// File path.
        path: PathBuf,
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
    },
    /// The image is smaller than any face could be.
    #[error(
        "{path}: the image is {width} x {height} pixels; at least {MIN_SIDE} x {MIN_SIDE} is needed"
    )]
    TooSmall {
        /// File path.
        path: PathBuf,
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// The file ends before the image data does.
    #[error("{path}: the image data is damaged or truncated: the file ends before the image does")]
    Truncated {
        /// File path.
        path: PathBuf,
    },
    /// The decoder failed (truncated or corrupt data).
    #[error("{path}: the image data is damaged or truncated: {source}")]
    Decode {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        source: image::ImageError,
    },
}

/// A loaded photo: upright 8-bit RGB pixels and where they came from.
#[derive(Clone, Debug)]
pub struct Photo {
    /// Source file, when loaded from disk.
    pub path: Option<PathBuf>,
    /// Upright RGB pixels.
    pub rgb: RgbImage,
}

impl Photo {
    /// Loads and normalises a photo (see the module docs).
    ///
    /// # Errors
    /// A [`PhotoError`] naming `path` and the reason.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, PhotoError> {
        let path = path.as_ref();
        let p = || path.to_path_buf();
        let bytes = std::fs::read(path).map_err(|source| PhotoError::Io { path: p(), source })?;
        let rgb = decode(&bytes, path)?;
        Ok(Self {
            path: Some(p()),
            rgb,
        })
    }

    /// Wraps pixels that are already in memory.
    #[must_use]
    pub fn from_rgb(rgb: RgbImage) -> Self {
        Self { path: None, rgb }
    }

    /// Width in pixels.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.rgb.width()
    }

    /// Height in pixels.
    #[must_use]
    pub fn height(&self) -> u32 {
        self.rgb.height()
    }
}

/// Decodes encoded image bytes into upright RGB8; `path` only names the source in errors.
///
/// # Errors
/// As [`Photo::load`].
pub fn decode(bytes: &[u8], path: &Path) -> Result<RgbImage, PhotoError> {
    let p = || path.to_path_buf();
    if bytes.is_empty() {
        return Err(PhotoError::Empty { path: p() });
    }
    let reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|source| PhotoError::Io { path: p(), source })?;
    match reader.format() {
        None => return Err(PhotoError::UnknownFormat { path: p() }),
        // The JPEG decoder fills a cut-off scan with grey instead of failing: check the end.
        Some(image::ImageFormat::Jpeg) if !jpeg_is_complete(bytes) => {
            return Err(PhotoError::Truncated { path: p() });
        }
        Some(_) => {}
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|source| decode_error(path, source))?;
    let (width, height) = decoder.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(PhotoError::TooLarge {
            path: p(),
            width,
            height,
        });
    }
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(PhotoError::TooSmall {
            path: p(),
            width,
            height,
        });
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    decoder
        .set_limits(limits)
        .map_err(|source| decode_error(path, source))?;
    let orientation = decoder
        .orientation()
        .map_err(|source| decode_error(path, source))?;
    let mut image =
        DynamicImage::from_decoder(decoder).map_err(|source| decode_error(path, source))?;
    image.apply_orientation(orientation);
    Ok(to_rgb8(&image))
}

/// True when an end-of-image marker (FF D9) follows the last start-of-scan marker (FF DA).
/// Inside entropy-coded data FF is always followed by 00 or a restart marker, so FF D9 cannot
/// occur there by chance; an EXIF thumbnail's own markers come before the main scan.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let last_end = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_scan, last_end), (Some(s), Some(e)) if e > s)
}

fn decode_error(path: &Path, source: image::ImageError) -> PhotoError {
    match source {
        image::ImageError::Unsupported(_) => PhotoError::UnknownFormat {
            path: path.to_path_buf(),
        },
        source => PhotoError::Decode {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// RGB8 from any pixel type: grey is replicated, 16-bit and float are rescaled, and alpha is
/// composited over white (a transparent background reads as a plain backdrop, not black).
#[must_use]
pub fn to_rgb8(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba32f();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: f32| ((c * a + (1.0 - a)).clamp(0.0, 1.0) * 255.0).round() as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma, LumaA, Rgb};

    fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn grey_16_bit_becomes_rgb8() {
        let img = ImageBuffer::from_fn(20, 20, |x, _| Luma([u16::try_from(x).unwrap() * 3000]));
        let bytes = encode(&DynamicImage::ImageLuma16(img), image::ImageFormat::Png);
        let rgb = decode(&bytes, Path::new("g.png")).unwrap();
        // 3000 * 10 / 65535 * 255 = 116.7
        assert_eq!(rgb.get_pixel(10, 0).0, [117, 117, 117]);
    }

    #[test]
    fn alpha_is_composited_over_white() {
        let img = ImageBuffer::from_fn(20, 20, |_, _| LumaA([0u8, 0]));
        let bytes = encode(&DynamicImage::ImageLumaA8(img), image::ImageFormat::Png);
        let rgb = decode(&bytes, Path::new("a.png")).unwrap();
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
    }

    #[test]
    fn tiny_image_is_refused_with_its_size() {
        let img = ImageBuffer::from_pixel(1, 1, Rgb([1u8, 2, 3]));
        let bytes = encode(&DynamicImage::ImageRgb8(img), image::ImageFormat::Png);
        let err = decode(&bytes, Path::new("one.png")).unwrap_err();
        assert!(matches!(
            err,
            PhotoError::TooSmall {
                width: 1,
                height: 1,
                ..
            }
        ));
        assert!(err.to_string().starts_with("one.png: "));
    }

    #[test]
    fn text_is_not_an_image() {
        let err = decode(b"hello, world\n", Path::new("t.txt")).unwrap_err();
        assert!(matches!(err, PhotoError::UnknownFormat { .. }), "{err}");
    }
}
