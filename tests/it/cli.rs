//! The `visage` binary on good and bad input: bad photos exit non-zero with one clear line that
//! names the file, and never panic.

use std::path::{Path, PathBuf};

use super::common::run_visage as visage;

/// CRC-32 (IEEE), for hand-made PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims `w x h` pixels, followed by a few bytes of image data.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(13u32.to_be_bytes());
    png.extend(&ihdr);
    png.extend(crc32(&ihdr).to_be_bytes());
    for (kind, data) in [
        (&b"IDAT"[..], &[0x78, 0x9c, 0x03, 0x00][..]),
        (b"IEND", b""),
    ] {
        let mut chunk = kind.to_vec();
        chunk.extend(data);
        png.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
        png.extend(&chunk);
        png.extend(crc32(&chunk).to_be_bytes());
    }
    png
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn bad_photos_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let jpeg = std::fs::read("tests/fixtures/grace_hopper.jpg").unwrap();
    let png = std::fs::read("tests/fixtures/astronaut.png").unwrap();
    let mut one = Vec::new();
    image::RgbImage::new(1, 1)
        .write_to(&mut std::io::Cursor::new(&mut one), image::ImageFormat::Png)
        .unwrap();
    let cases = [
        (write(d, "empty.jpg", b""), "empty"),
        (write(d, "notes.txt", b"not a photo\n"), "not an image"),
        (
            write(d, "cut.jpg", &jpeg[..jpeg.len() / 2]),
            "damaged or truncated",
        ),
        (
            write(d, "cut.png", &png[..png.len() / 3]),
            "damaged or truncated",
        ),
        (
            write(d, "huge.png", &png_header(100_000, 100_000)),
            "limit is 16384",
        ),
        (write(d, "one.png", &one), "at least 16 x 16"),
        (d.join("missing.png"), "cannot read"),
    ];
    for (path, reason) in cases {
        let out = d.join("out.png");
        let (ok, _, err) = visage(&[
            "degrade",
            path.to_str().unwrap(),
            "--scale",
            "2",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(!ok, "{} should fail", path.display());
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "one line for {}: {err}",
            path.display()
        );
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(err.contains(name) && err.contains(reason), "{name}: {err}");
        assert!(!out.exists());
    }
}

#[test]
fn compare_prints_a_table_and_writes_the_strip() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let (ok, stdout, err) = visage(&[
        "compare",
        "--scale",
        "4",
        "tests/fixtures/astronaut.png",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    for name in ["bilinear", "bicubic", "PSNR RGB"] {
        assert!(stdout.contains(name), "{stdout}");
    }
    let strip = image::open(out.join("compare.png")).unwrap();
    assert!(strip.width() > 4 * 512, "four panels side by side");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let rows = metrics["rows"].as_array().unwrap();
    let psnr = |i: usize| rows[i]["psnr_rgb"].as_f64().unwrap();
    // Bicubic beats bilinear at x4 on this portrait, and both are plausible numbers.
    assert!(psnr(1) > psnr(0), "{rows:?}");
    assert!((20.0..40.0).contains(&psnr(0)), "{rows:?}");
}

#[test]
fn upscale_degrade_and_mesh_info_work() {
    let dir = tempfile::tempdir().unwrap();
    let low = dir.path().join("low.png");
    let high = dir.path().join("high.png");
    let (ok, _, err) = visage(&[
        "degrade",
        "tests/fixtures/grace_hopper.jpg",
        "--scale",
        "4",
        "-o",
        low.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(image::image_dimensions(&low).unwrap(), (128, 150));
    let (ok, _, err) = visage(&[
        "upscale",
        low.to_str().unwrap(),
        "--method",
        "bilinear",
        "--scale",
        "2",
        "-o",
        high.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(image::image_dimensions(&high).unwrap(), (256, 300));

    let (ok, _, err) = visage(&["mesh-info", "nope.xyz"]);
    assert!(!ok && err.contains("unknown mesh format"), "{err}");
}

#[test]
fn help_describes_every_subcommand() {
    use clap::CommandFactory;
    let (ok, stdout, _) = visage(&["--help"]);
    assert!(ok);
    let cli = visage::cli::Cli::command();
    let subs: Vec<&clap::Command> = cli.get_subcommands().collect();
    assert!(subs.len() >= 13, "{} subcommands", subs.len());
    for sub in subs {
        let name = sub.get_name();
        assert!(
            stdout.contains(name),
            "--help does not list {name}: {stdout}"
        );
        let (ok, help, err) = visage(&[name, "--help"]);
        assert!(ok, "{name} --help: {err}");
        assert!(
            help.contains("Usage:") && help.len() > 200,
            "{name}: {help}"
        );
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        assert!(!about.is_empty(), "{name} has no description");
    }
}

#[test]
fn parity_prints_a_row_per_network() {
    let (ok, stdout, stderr) = visage(&[
        "parity",
        "--device",
        "cpu",
        "--repeats",
        "1",
        "--network",
        "espcn-x2",
    ]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("device: CPU (requested)"), "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| espcn-x2 |"))
        .unwrap_or_else(|| panic!("no row: {stdout}"));
    // Cells: network, outputs, max difference, max reference, ms, ms, speedup.
    assert!(row.split('|').count() >= 7, "{row}");
}

#[cfg(not(feature = "cuda"))]
#[test]
fn explicit_cuda_without_the_feature_is_one_clear_line() {
    let (ok, _, stderr) = visage(&["parity", "--device", "cuda:0", "--repeats", "1"]);
    assert!(!ok);
    assert!(stderr.contains("--features cuda"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_fit_prior_outside_zero_to_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("face.obj");
    let (ok, _, err) = visage(&[
        "reconstruct",
        "tests/fixtures/astronaut.png",
        "--method",
        "vrn",
        "--fit-prior",
        "1.5",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(err.contains("--fit-prior must lie in [0, 1]"), "{err}");
    assert!(!out.exists(), "nothing is written on a refused argument");
}
