//! A walk over the JPEG marker segments, without decoding: frame size and components (so a
//! wrong-size or 60000×60000 "bomb" file is refused before anything is allocated), the JFIF
//! density, the EXIF block, and whether the entropy-coded data ends in an EOI marker (a
//! truncated upload does not, and lenient decoders happily render half a picture).

/// The JPEG magic number: SOI followed by the first marker's 0xFF.
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() >= 3 && bytes[..3] == [0xFF, 0xD8, 0xFF]
}

/// What a non-JPEG file most likely is, for a message the teacher recognises.
pub fn sniff_format(bytes: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"\x89PNG\r\n\x1a\n") {
        Some("PNG")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("GIF")
    } else if starts(b"BM") {
        Some("BMP")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("WebP")
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" && matches!(&bytes[8..12], b"heic" | b"heix" | b"mif1" | b"msf1") {
        Some("HEIC")
    } else if starts(b"%PDF") {
        Some("PDF")
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some("TIFF")
    } else {
        None
    }
}

/// JFIF APP0 density.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JfifDensity {
    /// 0 = aspect ratio only (no density), 1 = dots per inch, 2 = dots per cm.
    pub units: u8,
    pub x: u16,
    pub y: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    pub progressive: bool,
    pub jfif: Option<JfifDensity>,
    /// The TIFF structure of the first EXIF APP1 segment (after "Exif\0\0").
    pub exif: Option<&'a [u8]>,
    /// An EOI marker follows the entropy-coded data of the last scan.
    pub complete: bool,
}

/// More scans than any camera, phone or editor writes (progressive files have about 10; libjpeg
/// warns past 1000). A flood of empty scans would otherwise reach the decoder, which needs
/// ~20 ms to refuse a 1 MiB one.
pub const MAX_SCANS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("more than {MAX_SCANS} scans")]
    TooManyScans,
    #[error("file ends inside the headers")]
    Truncated,
    #[error("no frame header (SOF) before the image data")]
    NoFrame,
    #[error("malformed segment")]
    Malformed,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Walks the segments of `bytes` (which must start with SOI). Costs one pass over the file and
/// no allocation.
pub fn parse(bytes: &[u8]) -> Result<Header<'_>, HeaderError> {
    let mut h = Header { width: 0, height: 0, components: 0, progressive: false, jfif: None, exif: None, complete: false };
    let mut have_frame = false;
    let mut scans = 0;
    let mut pos = 2;
    loop {
        // Fill bytes (0xFF runs) may precede a marker.
        if pos >= bytes.len() {
            break;
        }
        if bytes[pos] != 0xFF {
            return Err(HeaderError::Malformed);
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else { break };
        pos += 1;
        match marker {
            0xD8 => return Err(HeaderError::Malformed),
            0xD9 => {
                // EOI before any scan: nothing to show.
                break;
            }
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let len = be16(bytes, pos).ok_or(HeaderError::Truncated)? as usize;
        if len < 2 {
            return Err(HeaderError::Malformed);
        }
        let end = pos + len;
        if end > bytes.len() {
            if have_frame {
                // Frame known; the file is simply cut short.
                return Ok(h);
            }
            return Err(HeaderError::Truncated);
        }
        let seg = &bytes[pos + 2..end];
        match marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                if seg.len() < 6 {
                    return Err(HeaderError::Malformed);
                }
                h.height = u32::from(be16(seg, 1).ok_or(HeaderError::Malformed)?);
                h.width = u32::from(be16(seg, 3).ok_or(HeaderError::Malformed)?);
                h.components = seg[5];
                h.progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                have_frame = true;
            }
            0xE0 if h.jfif.is_none() && seg.len() >= 12 && seg.starts_with(b"JFIF\0") => {
                h.jfif = Some(JfifDensity { units: seg[7], x: be16(seg, 8).unwrap_or(0), y: be16(seg, 10).unwrap_or(0) });
            }
            0xE1 if h.exif.is_none() && seg.starts_with(b"Exif\0\0") => {
                h.exif = Some(&seg[6..]);
            }
            0xDA => {
                if !have_frame {
                    return Err(HeaderError::NoFrame);
                }
                scans += 1;
                if scans > MAX_SCANS {
                    return Err(HeaderError::TooManyScans);
                }
                // Entropy-coded data: runs until a marker that is not a stuffed 0xFF00 or a
                // restart marker.
                let mut p = end;
                loop {
                    let Some(off) = bytes[p..].iter().position(|&b| b == 0xFF) else {
                        return Ok(h); // ran off the end: truncated
                    };
                    p += off;
                    let Some(&next) = bytes.get(p + 1) else { return Ok(h) };
                    match next {
                        0x00 | 0xD0..=0xD7 | 0xFF => p += 1,
                        0xD9 => {
                            h.complete = true;
                            return Ok(h);
                        }
                        _ => break, // another segment (progressive: DHT, SOS, …)
                    }
                }
                pos = p;
                continue;
            }
            _ => {}
        }
        pos = end;
    }
    if have_frame { Ok(h) } else { Err(HeaderError::NoFrame) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_formats() {
        assert_eq!(sniff_format(b"\x89PNG\r\n\x1a\n...."), Some("PNG"));
        assert_eq!(sniff_format(b"GIF89a.."), Some("GIF"));
        assert_eq!(sniff_format(b"hello"), None);
        assert!(!is_jpeg(b"\xFF\xD8"));
        assert!(is_jpeg(b"\xFF\xD8\xFF\xE0"));
    }

    #[test]
    fn frame_and_density_are_read_and_missing_eoi_is_noticed() {
        // SOI, APP0 JFIF 300 dpi, SOF0 354x272 3 comps, SOS, 2 bytes of data, EOI.
        let mut f = vec![0xFF, 0xD8];
        f.extend_from_slice(&[0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 2, 1, 0x01, 0x2C, 0x01, 0x2C, 0, 0]);
        f.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8, 0x01, 0x62, 0x01, 0x10, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        f.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
        f.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34]);
        let cut = f.clone();
        f.extend_from_slice(&[0xFF, 0xD9]);
        let h = parse(&f).unwrap();
        assert_eq!((h.width, h.height, h.components), (272, 354, 3));
        assert_eq!(h.jfif, Some(JfifDensity { units: 1, x: 300, y: 300 }));
        assert!(h.complete);
        assert!(!parse(&cut).unwrap().complete);
        assert_eq!(parse(&f[..10]), Err(HeaderError::Truncated));
    }
}
