//! Decoding, once, into an RGB buffer that every pixel rule reads.

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

/// A decoded photo: 8-bit RGB, row-major.
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

impl Picture {
    #[inline]
    pub fn px(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// BT.601 luma of every pixel (the face detector and the hash work on grey).
    pub fn luma(&self) -> Vec<u8> {
        self.grey_and_colour(u8::MAX).0
    }

    /// One pass over the pixels: the grey image, and how many pixels have a chroma
    /// (max − min channel) of at least `min_chroma`.
    pub fn grey_and_colour(&self, min_chroma: u8) -> (Vec<u8>, usize) {
        let mut grey = vec![0u8; self.width * self.height];
        let mut coloured = 0usize;
        for (p, g) in self.rgb.chunks_exact(3).zip(grey.iter_mut()) {
            let (r, gr, b) = (p[0], p[1], p[2]);
            *g = luma(r, gr, b);
            coloured += usize::from(r.max(gr).max(b) - r.min(gr).min(b) >= min_chroma);
        }
        (grey, coloured)
    }
}

#[inline]
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(String);

/// Decodes strictly: zune-jpeg in its default lenient mode renders a truncated or damaged file
/// as a grey-padded picture, which is exactly what must be refused. `width`/`height` are the
/// only dimensions accepted (the header was checked already; this is a second fence).
pub fn decode(bytes: &[u8], width: u32, height: u32) -> Result<Picture, DecodeError> {
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(width as usize)
        .set_max_height(height as usize)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let rgb = dec.decode().map_err(|e| DecodeError(format!("{e:?}")))?;
    let info = dec.info().ok_or_else(|| DecodeError("no image info".into()))?;
    let (w, h) = (usize::from(info.width), usize::from(info.height));
    if dec.output_colorspace() != Some(ColorSpace::RGB) || rgb.len() != w * h * 3 {
        return Err(DecodeError(format!("unexpected output: {:?}, {} bytes", dec.output_colorspace(), rgb.len())));
    }
    Ok(Picture { width: w, height: h, rgb })
}
