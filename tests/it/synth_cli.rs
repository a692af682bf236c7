//! `visage synth` end to end on the built-in procedural head (no shared data needed): the same
//! seed writes the same bytes, the shards read back, the contact sheet is written, and a missing
//! ICT model is one clear line.

use std::process::Command;

fn visage(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_visage"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn same_seed_same_shards_and_a_preview() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out = dir.path().join(name);
        let preview = dir.path().join(format!("{name}.png"));
        let (ok, err) = visage(&[
            "synth",
            "--procedural",
            "--count",
            "5",
            "--seed",
            "40",
            "--size",
            "32",
            "--shard-size",
            "3",
            "--out",
            out.to_str().unwrap(),
            "--preview",
            preview.to_str().unwrap(),
        ]);
        assert!(ok, "{err}");
        assert!(preview.exists());
        out
    };
    let (a, b) = (run("a"), run("b"));
    for shard in ["shard_00000.safetensors", "shard_00001.safetensors"] {
        let (x, y) = (
            std::fs::read(a.join(shard)).unwrap(),
            std::fs::read(b.join(shard)).unwrap(),
        );
        assert_eq!(x, y, "{shard}");
    }
    let second = visage::synth::Shard::open(&a.join("shard_00001.safetensors")).unwrap();
    assert_eq!(second.len(), 2);
    let ids = second.tensors().unwrap()["ids"].to_vec1::<i64>().unwrap();
    assert_eq!(ids, vec![43, 44]);
}

#[test]
fn missing_ict_model_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (ok, err) = visage(&[
        "synth",
        "--count",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--ict",
        "/nonexistent/ict_face_model.safetensors",
    ]);
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("/nonexistent/ict_face_model.safetensors"),
        "{err}"
    );
    assert!(!out.exists());
}
