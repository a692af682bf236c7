//! `visage batch` on a folder of mixed photos: a mesh per face, a report row per photo that
//! names each failure, a second run that does nothing, and two shards that together make the
//! whole run.

use std::path::Path;

use super::common::fixture_path as fixture;

/// astronaut, grace hopper (and a copy in a sub-folder), a corrupt JPEG, a photo without a face.
fn collection(dir: &Path) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::copy(fixture("astronaut.png"), dir.join("astronaut.png")).unwrap();
    std::fs::copy(fixture("grace_hopper.jpg"), dir.join("grace.jpg")).unwrap();
    std::fs::copy(fixture("grace_hopper.webp"), dir.join("sub/grace.webp")).unwrap();
    std::fs::write(
        dir.join("corrupt.jpg"),
        b"\xff\xd8\xff\xe0 not really a jpeg",
    )
    .unwrap();
    image::RgbImage::from_fn(160, 120, |x, y| image::Rgb([(x + y) as u8, 90, 160]))
        .save(dir.join("wall.png"))
        .unwrap();
}

fn batch(args: &[&str]) -> (bool, String, String) {
    let all: Vec<&str> = std::iter::once("batch")
        .chain(args.iter().copied())
        .collect();
    super::common::run_visage(&all)
}

fn report(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_mixed_folder_gives_a_mesh_per_face_and_a_row_per_photo() {
    let tmp = tempfile::tempdir().unwrap();
    let (photos, out) = (tmp.path().join("photos"), tmp.path().join("out"));
    collection(&photos);
    let (p, o) = (photos.to_str().unwrap(), out.to_str().unwrap());
    let (ok, stdout, stderr) = batch(&[p, "--out", o, "--method", "landmarks", "--jobs", "2"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("5 photos"), "{stdout}");
    let rows = report(&out);
    assert_eq!(rows.len(), 5, "{rows:?}");
    let status = |name: &str| {
        rows.iter()
            .find(|r| r["photo"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no row for {name}"))
            .clone()
    };
    for name in ["astronaut.png", "grace.jpg", "sub/grace.webp"] {
        let r = status(name);
        assert_eq!(r["status"], "ok", "{r}");
        assert!(r["faces"][0]["width_px"].as_f64().unwrap() > 50.0, "{r}");
        assert!(r["ms"]["detect"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert!(out.join("astronaut.obj").exists() && out.join("sub/grace.obj").exists());
    let corrupt = status("corrupt.jpg");
    assert_eq!(corrupt["status"], "error");
    assert!(
        corrupt["message"].as_str().unwrap().contains("corrupt.jpg"),
        "{corrupt}"
    );
    let wall = status("wall.png");
    assert_eq!(wall["status"], "no face", "{wall}");
    let csv = std::fs::read_to_string(out.join("report.csv")).unwrap();
    assert_eq!(csv.lines().count(), 6);

    // A second run finds everything done and writes nothing.
    let before = std::fs::metadata(out.join("astronaut.obj"))
        .unwrap()
        .modified()
        .unwrap();
    let (ok, stdout, stderr) = batch(&[p, "--out", o, "--method", "landmarks"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("0 done now") && stdout.contains("5 already done"),
        "{stdout}"
    );
    let after = std::fs::metadata(out.join("astronaut.obj"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
}

#[test]
fn two_shards_make_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    collection(&photos);
    let p = photos.to_str().unwrap();
    let mut seen = Vec::new();
    for shard in ["0/2", "1/2"] {
        let out = tmp.path().join(format!("out{}", &shard[..1]));
        let o = out.to_str().unwrap();
        let (ok, _, stderr) = batch(&[p, "--out", o, "--method", "landmarks", "--shard", shard]);
        assert!(ok, "{stderr}");
        seen.extend(
            report(&out)
                .iter()
                .map(|r| r["photo"].as_str().unwrap().to_owned()),
        );
    }
    seen.sort();
    let mut all: Vec<String> = [
        "astronaut.png",
        "corrupt.jpg",
        "grace.jpg",
        "sub/grace.webp",
        "wall.png",
    ]
    .iter()
    .map(|n| photos.join(n).display().to_string())
    .collect();
    all.sort();
    assert_eq!(seen, all);
}

#[test]
fn every_face_of_a_group_photo() {
    // Two portraits side by side make a photo with two faces.
    let a = image::open(fixture("astronaut.png")).unwrap().to_rgb8();
    let g = image::imageops::resize(
        &image::open(fixture("grace_hopper.jpg")).unwrap().to_rgb8(),
        440,
        512,
        image::imageops::FilterType::Triangle,
    );
    let mut group = image::RgbImage::new(a.width() + g.width(), 512);
    image::imageops::overlay(&mut group, &a, 0, 0);
    image::imageops::overlay(&mut group, &g, i64::from(a.width()), 0);
    let tmp = tempfile::tempdir().unwrap();
    let photo = tmp.path().join("group.png");
    group.save(&photo).unwrap();
    let out = tmp.path().join("out");
    let (ok, _, stderr) = batch(&[
        photo.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--faces",
        "all",
        "--format",
        "ply",
        "--method",
        "3dmm",
    ]);
    assert!(ok, "{stderr}");
    let rows = report(&out);
    assert_eq!(rows[0]["faces_found"], 2, "{rows:?}");
    assert!(out.join("group_face0.ply").exists() && out.join("group_face1.ply").exists());
}
