//! Draws the five landmarks on photos, for looking at, and prints the geometry and the median
//! time of 101 `locate` calls per face: `cargo run --release -p gradphoto-core --example
//! landmarks_sheet -- OUT_DIR photo.jpg…` writes OUT_DIR/<name>.png with the points marked.
use gradphoto_core::photo::{Rules, face, landmarks, picture::Picture};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().expect("OUT_DIR"));
    std::fs::create_dir_all(&out).unwrap();
    let rules = Rules::default();
    for path in args {
        let img = image::open(&path).unwrap().to_rgb8();
        let pic = Picture {
            width: img.width() as usize,
            height: img.height() as usize,
            rgb: img.clone().into_raw(),
        };
        let grey = pic.luma();
        let faces = face::detect(&grey, pic.width, pic.height, &rules);
        let mut canvas = img.clone();
        for f in &faces {
            let l = landmarks::locate(&pic, f);
            // The median of 101 runs: the steady cost, not the model's load.
            let mut times: Vec<_> = (0..101)
                .map(|_| {
                    let t = std::time::Instant::now();
                    std::hint::black_box(landmarks::locate(&pic, f));
                    t.elapsed()
                })
                .collect();
            times.sort();
            let dt = times[50];
            println!(
                "{path}: box {:.0},{:.0} {:.0}px  eyes {:.0} dist {:.1} roll {:.1} w/h {:.3} cx {:.0}  {:?}",
                f.x,
                f.y,
                f.w,
                l.eye_line(),
                l.eye_distance(),
                l.roll_degrees(),
                l.width_to_height(),
                l.centre_x(),
                dt
            );
            let mut dot = |p: landmarks::Point, c: [u8; 3]| {
                for dy in -2i32..=2 {
                    for dx in -2i32..=2 {
                        let (x, y) = (p.x as i32 + dx, p.y as i32 + dy);
                        if x >= 0
                            && y >= 0
                            && (x as u32) < canvas.width()
                            && (y as u32) < canvas.height()
                        {
                            canvas.put_pixel(x as u32, y as u32, image::Rgb(c));
                        }
                    }
                }
            };
            dot(l.left_eye[0], [255, 0, 0]);
            dot(l.left_eye[1], [255, 160, 0]);
            dot(l.right_eye[0], [0, 0, 255]);
            dot(l.right_eye[1], [0, 200, 255]);
            dot(l.nose, [0, 255, 0]);
        }
        let name = std::path::Path::new(&path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        canvas.save(out.join(format!("{name}.png"))).unwrap();
    }
}
