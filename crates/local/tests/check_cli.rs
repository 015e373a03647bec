//! `gradphoto check` as a teacher (or a script) runs it: one JSON line per path given, the
//! documented keys, and the exit status telling pass (0), reject (1) or unreadable (2).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/corpus").join(name)
}

fn check(args: &[&std::ffi::OsStr]) -> (i32, Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gradphoto")).arg("check").args(args).output().expect("gradphoto runs");
    let lines = String::from_utf8(out.stdout)
        .expect("stdout is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line: {l:?}: {e}")))
        .collect();
    (out.status.code().expect("exit status"), lines, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_valid_photo_passes_with_exit_status_zero() {
    let valid = corpus("astronaut_valid.jpg");
    let (status, lines, stderr) = check(&["--stage".as_ref(), "senior".as_ref(), valid.as_os_str()]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(lines.len(), 1);
    let line = lines[0].as_object().unwrap();
    let keys: Vec<&str> = line.keys().map(String::as_str).collect();
    assert_eq!(keys, ["codes", "file", "flags", "messages", "verdict"]);
    assert_eq!(line["verdict"], "pass");
    assert_eq!(line["codes"], Value::Array(vec![]));
    assert!(stderr.contains("通过 1"), "{stderr}");
}

#[test]
fn every_path_gets_its_line_and_the_worst_outcome_sets_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let not_photo = dir.path().join("J0001.jpg");
    std::fs::write(&not_photo, b"this is not a photo").unwrap();
    let missing = dir.path().join("missing.jpg");
    let valid = corpus("astronaut_valid.jpg");

    let (status, lines, _) = check(&[valid.as_os_str(), not_photo.as_os_str()]);
    assert_eq!(status, 1, "a rejected photo");
    assert_eq!(lines[1]["verdict"], "reject");
    assert_eq!(lines[1]["codes"], serde_json::json!(["too_small", "not_jpeg"]));
    assert!(lines[1]["messages"][0].as_str().unwrap().contains("KB"), "messages are the teacher's: {}", lines[1]);

    let (status, lines, stderr) = check(&[valid.as_os_str(), missing.as_os_str(), not_photo.as_os_str()]);
    assert_eq!(status, 2, "a path that cannot be read: {stderr}");
    let by_file: Vec<(&str, &str)> = lines.iter().map(|l| (l["file"].as_str().unwrap(), l["codes"][0].as_str().unwrap_or("-"))).collect();
    assert_eq!(by_file.len(), 3, "one line per path: {lines:?}");
    assert!(by_file.contains(&(missing.to_str().unwrap(), "unreadable")), "{by_file:?}");
    assert!(stderr.contains("无法读取"), "{stderr}");
}

#[test]
fn the_profile_flag_switches_the_geometry_bands() {
    // A valid photo scaled ×0.62 on white: a head of ≈ 40 % of the height, GA 461's 人像过小,
    // inside 学信网's bands.
    let photo = image::open(corpus("obama_valid.jpg")).unwrap().to_rgb8();
    let small = image::imageops::resize(&photo, 168, 219, image::imageops::FilterType::Lanczos3);
    let mut low = image::RgbImage::from_pixel(272, 354, image::Rgb([252, 252, 252]));
    image::imageops::overlay(&mut low, &small, 52, 24);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("low.jpg");
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(300));
    enc.encode_image(&low).unwrap();
    std::fs::write(&file, bytes).unwrap();

    let (status, lines, _) = check(&[file.as_os_str()]);
    assert_eq!((status, &lines[0]["codes"]), (1, &serde_json::json!(["head_too_small"])), "GA 461 by default: {lines:?}");
    let (status, lines, stderr) = check(&["--profile".as_ref(), "xuexin".as_ref(), file.as_os_str()]);
    assert_eq!(status, 0, "学信网 bands: {lines:?} {stderr}");
    let (status, _, stderr) = check(&["--profile".as_ref(), "passport".as_ref(), file.as_os_str()]);
    assert_eq!(status, 2, "an unknown profile is refused: {stderr}");
    assert!(stderr.contains("xuexin"), "{stderr}");
}
