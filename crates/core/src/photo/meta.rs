//! Declared density (JFIF or EXIF) and camera make/model (EXIF), read with kamadak-exif.

use super::jpeg::JfifDensity;

/// What the file's metadata says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    /// EXIF XResolution/YResolution converted to dpi.
    pub exif_dpi: Option<(f64, f64)>,
    pub make: Option<String>,
    pub model: Option<String>,
}

/// Reads the EXIF TIFF block; a damaged EXIF block is treated as absent (the picture itself
/// is judged by the decoder).
pub fn read_exif(tiff: &[u8]) -> Meta {
    let Ok(exif) = exif::Reader::new().read_raw(tiff.to_vec()) else { return Meta::default() };
    let rational = |tag| {
        exif.get_field(tag, exif::In::PRIMARY).and_then(|f| match &f.value {
            exif::Value::Rational(v) if !v.is_empty() && v[0].denom != 0 => Some(v[0].to_f64()),
            _ => None,
        })
    };
    let text = |tag| {
        exif.get_field(tag, exif::In::PRIMARY).and_then(|f| match &f.value {
            exif::Value::Ascii(v) => {
                let s: String = v.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect::<Vec<_>>().join(" ");
                let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_owned();
                (!s.is_empty()).then_some(s)
            }
            _ => None,
        })
    };
    // ResolutionUnit: 2 = inch (the default), 3 = centimetre.
    let per_cm = exif.get_field(exif::Tag::ResolutionUnit, exif::In::PRIMARY).and_then(|f| f.value.get_uint(0)) == Some(3);
    let exif_dpi = match (rational(exif::Tag::XResolution), rational(exif::Tag::YResolution)) {
        (Some(x), Some(y)) if per_cm => Some((x * 2.54, y * 2.54)),
        (Some(x), Some(y)) => Some((x, y)),
        _ => None,
    };
    Meta { exif_dpi, make: text(exif::Tag::Make), model: text(exif::Tag::Model) }
}

/// Where a density came from, for the message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Density {
    Dpi(f64),
    /// JFIF density in dots per centimetre (and its dpi equivalent).
    PerCm(u16, f64),
}

impl Density {
    pub fn dpi(self) -> f64 {
        match self {
            Density::Dpi(d) | Density::PerCm(_, d) => d,
        }
    }
    pub fn describe(self) -> String {
        match self {
            Density::Dpi(d) => format!("{} DPI", d.round()),
            Density::PerCm(c, d) => format!("{c} 像素/厘米（约 {} DPI）", d.round()),
        }
    }
}

/// Every density the file declares (JFIF first), each the smaller of its two axes.
pub fn densities(jfif: Option<JfifDensity>, meta: &Meta) -> Vec<Density> {
    let mut out = Vec::with_capacity(2);
    if let Some(j) = jfif {
        let m = j.x.min(j.y);
        match j.units {
            1 if m > 0 => out.push(Density::Dpi(f64::from(m))),
            2 if m > 0 => out.push(Density::PerCm(m, f64::from(m) * 2.54)),
            _ => {} // 0 = pixel aspect ratio only: no density
        }
    }
    if let Some((x, y)) = meta.exif_dpi {
        let m = x.min(y);
        if m > 0.0 {
            out.push(Density::Dpi(m));
        }
    }
    out
}

/// The phone makers and model markers behind `phone_photo`, kept in one place. Matched
/// case-insensitively; a make matches on its own, a model marker matches the model string
/// (for makers that also sell real cameras, like Samsung and Sony).
pub const PHONE_MAKES: &[&str] = &[
    "huawei", "honor", "xiaomi", "redmi", "oppo", "vivo", "oneplus", "realme", "meizu", "nubia", "zte",
    "iqoo", "coolpad", "letv", "smartisan", "tecno", "infinix", "motorola", "nothing",
];
pub const PHONE_MODEL_MARKERS: &[&str] = &["iphone", "ipad", "sm-", "galaxy", "pixel", "xperia", "mi ", "redmi", "huawei", "honor"];

/// The phone a photo says it was taken with, as "Make Model".
pub fn phone(meta: &Meta) -> Option<String> {
    let make = meta.make.as_deref().unwrap_or("");
    let model = meta.model.as_deref().unwrap_or("");
    let (make_l, model_l) = (make.to_lowercase(), format!("{} ", model.to_lowercase()));
    let by_make = PHONE_MAKES.iter().any(|m| make_l.split(|c: char| !c.is_alphanumeric()).any(|w| w == *m));
    let by_model = PHONE_MODEL_MARKERS.iter().any(|m| model_l.starts_with(m) || model_l.contains(&format!(" {m}")));
    (by_make || by_model).then(|| format!("{make} {model}").trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(make: &str, model: &str) -> Meta {
        Meta { make: Some(make.into()), model: Some(model.into()), ..Meta::default() }
    }

    #[test]
    fn phones_are_recognised_and_cameras_are_not() {
        for (make, model) in [("Apple", "iPhone 13 Pro"), ("HUAWEI", "ELS-AN00"), ("Xiaomi", "2211133C"), ("OPPO", "PGEM10"),
            ("vivo", "V2227A"), ("samsung", "SM-S9180"), ("Google", "Pixel 7"), ("HONOR", "PGT-AN10")]
        {
            assert!(phone(&m(make, model)).is_some(), "{make} {model}");
        }
        for (make, model) in [("Canon", "Canon EOS 5D Mark IV"), ("NIKON CORPORATION", "NIKON D850"), ("SONY", "ILCE-7M4"),
            ("SAMSUNG TECHWIN", "NX300"), ("FUJIFILM", "X-T4")]
        {
            assert!(phone(&m(make, model)).is_none(), "{make} {model}");
        }
    }

    #[test]
    fn densities_convert_centimetres() {
        let d = densities(Some(JfifDensity { units: 2, x: 118, y: 118 }), &Meta::default());
        assert_eq!(d.len(), 1);
        assert!((d[0].dpi() - 299.72).abs() < 0.01);
        assert!(densities(Some(JfifDensity { units: 0, x: 1, y: 1 }), &Meta::default()).is_empty());
    }
}
