//! Uploaded photos before storage: decoded and re-encoded, which drops every
//! metadata block (EXIF with its GPS location, XMP, comments), and hashed
//! perceptually (a difference hash) so that the same photo uploaded for two
//! customers is found even after it was re-compressed.

use image::{DynamicImage, ImageFormat, imageops::FilterType};
use std::io::Cursor;

/// A photo re-encoded without metadata.
#[derive(Debug)]
pub struct CleanImage {
    pub bytes: Vec<u8>,
}

/// Why an image could not be cleaned.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the image cannot be decoded")]
    Undecodable,
    #[error("the image is larger than {0} pixels")]
    TooManyPixels(u64),
}

/// The most pixels decoded (a small file can declare a huge canvas).
pub const MAX_PIXELS: u64 = 40_000_000;

/// Decodes a JPEG or PNG (by its content type) within the pixel limit.
fn decode(bytes: &[u8], content_type: &str) -> Result<(DynamicImage, ImageFormat), ImageError> {
    let format = match content_type {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        _ => return Err(ImageError::Undecodable),
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let (w, h) = reader
        .into_dimensions()
        .map_err(|_| ImageError::Undecodable)?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(ImageError::TooManyPixels(MAX_PIXELS));
    }
    let img =
        image::load_from_memory_with_format(bytes, format).map_err(|_| ImageError::Undecodable)?;
    Ok((img, format))
}

/// The perceptual hash of a JPEG or PNG document image (`None` for other
/// files, or an image that cannot be decoded).
pub fn perceptual_hash(bytes: &[u8], content_type: &str) -> Option<String> {
    decode(bytes, content_type).ok().map(|(img, _)| dhash(&img))
}

/// Re-encodes a JPEG or PNG (by its content type) without its metadata.
pub fn clean(bytes: &[u8], content_type: &str) -> Result<CleanImage, ImageError> {
    let (img, format) = decode(bytes, content_type)?;
    let mut out = Cursor::new(Vec::with_capacity(bytes.len()));
    match format {
        ImageFormat::Jpeg => {
            let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
            rgb.write_with_encoder(enc)
                .map_err(|_| ImageError::Undecodable)?;
        }
        _ => img
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|_| ImageError::Undecodable)?,
    }
    Ok(CleanImage {
        bytes: out.into_inner(),
    })
}

/// Width and height of an encoded image (0×0 when unreadable).
pub fn dimensions(bytes: &[u8]) -> (u32, u32) {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()
        .and_then(|r| r.into_dimensions().ok())
        .unwrap_or((0, 0))
}

/// The difference hash: the image shrunk to 9×8 grey pixels, one bit per
/// pair of neighbours (is the left one brighter?).
pub fn dhash(img: &DynamicImage) -> String {
    let small = img.resize_exact(9, 8, FilterType::Triangle).to_luma8();
    let mut bits: u64 = 0;
    for y in 0..8 {
        for x in 0..8 {
            let left = small.get_pixel(x, y)[0];
            let right = small.get_pixel(x + 1, y)[0];
            bits = (bits << 1) | u64::from(left > right);
        }
    }
    format!("{bits:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn gradient(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            Rgb([
                (x * 255 / w) as u8,
                (y * 255 / h) as u8,
                ((x + y) % 256) as u8,
            ])
        })
    }

    fn png(img: &RgbImage) -> Vec<u8> {
        let mut out = Cursor::new(vec![]);
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    /// A JPEG with an EXIF block (APP1) carrying a GPS marker, inserted right
    /// after the SOI marker.
    fn jpeg_with_exif(img: &RgbImage) -> Vec<u8> {
        let mut out = Cursor::new(vec![]);
        DynamicImage::ImageRgb8(img.clone())
            .write_to(&mut out, ImageFormat::Jpeg)
            .unwrap();
        let plain = out.into_inner();
        let payload = b"Exif\0\0GPSLatitude=48.8584;GPSLongitude=2.2945";
        let len = (payload.len() + 2) as u16;
        let mut with = vec![0xFF, 0xD8, 0xFF, 0xE1];
        with.extend(len.to_be_bytes());
        with.extend(payload);
        with.extend(&plain[2..]);
        with
    }

    #[test]
    fn exif_is_gone_after_cleaning() {
        let img = gradient(64, 48);
        let dirty = jpeg_with_exif(&img);
        assert!(dirty.windows(11).any(|w| w == b"GPSLatitude"));
        let clean = clean(&dirty, "image/jpeg").unwrap();
        assert!(!clean.bytes.windows(4).any(|w| w == b"Exif"));
        assert!(!clean.bytes.windows(11).any(|w| w == b"GPSLatitude"));
        assert!(clean.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
    }

    #[test]
    fn the_same_photo_recompressed_has_the_same_hash_and_another_photo_does_not() {
        let img = gradient(120, 90);
        let a = perceptual_hash(&png(&img), "image/png").unwrap();
        let b = perceptual_hash(&jpeg_with_exif(&img), "image/jpeg").unwrap();
        let cleaned = clean(&jpeg_with_exif(&img), "image/jpeg").unwrap();
        assert_eq!(a, b);
        assert_eq!(perceptual_hash(&cleaned.bytes, "image/jpeg").unwrap(), a);
        let other = RgbImage::from_fn(120, 90, |x, y| {
            Rgb([
                ((y * 7 + x * 3) % 256) as u8,
                (255 - x * 2) as u8,
                (y * 2) as u8,
            ])
        });
        let c = perceptual_hash(&png(&other), "image/png").unwrap();
        assert_ne!(a, c);
        assert_eq!(perceptual_hash(b"%PDF-1.4", "application/pdf"), None);
    }

    #[test]
    fn garbage_is_refused() {
        assert!(clean(b"\x89PNG\r\n\x1a\nnot really", "image/png").is_err());
        assert!(clean(b"%PDF-1.4", "application/pdf").is_err());
    }
}
