//! The dependency rules of the crate, checked against its source by a test.
//!
//! Each top-level module may import only the modules listed for it in [`RULES`] (and itself);
//! `cli` may import everything. Within the crate no two files import each other through a
//! longer loop either (a file and the `mod.rs` of a folder above it excepted: a module may
//! re-export its children's items, and children may use their parent's). See the overview in
//! `src/lib.rs`.

/// Top-level module -> the other top-level modules it may import.
pub const RULES: &[(&str, &[&str])] = &[
    ("weights", &[]),
    ("nn", &["weights"]),
    ("device", &[]),
    ("timing", &[]),
    ("figure", &[]),
    ("metrics", &["pipeline"]),
    ("pipeline", &["nn", "weights", "metrics", "timing"]),
    ("synth", &["pipeline", "nn", "metrics"]),
    ("dataset", &["synth", "pipeline", "metrics"]),
    (
        "train",
        &[
            "dataset", "synth", "pipeline", "nn", "weights", "metrics", "device", "timing",
            "figure",
        ],
    ),
    (
        "eval",
        &[
            "dataset", "synth", "pipeline", "nn", "weights", "metrics", "device", "timing",
            "figure", "viewport",
        ],
    ),
    (
        "worker",
        &["pipeline", "metrics", "device", "figure", "timing"],
    ),
    ("batch", &["pipeline", "device", "timing"]),
    ("viewport", &["pipeline"]),
    (
        "app",
        &["worker", "viewport", "pipeline", "device", "figure"],
    ),
];

#[cfg(test)]
mod tests {
    use super::RULES;
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    /// Every `.rs` file under `dir`, as module paths relative to `src` (`a/b.rs` -> `a::b`,
    /// `a/mod.rs` -> `a`).
    fn files(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                files(&p, root, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p.strip_prefix(root).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|l| l == "mod") {
                    parts.pop();
                }
                out.push((parts.join("::"), p));
            }
        }
    }

    /// The source without comments (so doc links do not count as imports).
    fn code(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("/*") {
            out.push_str(&rest[..i]);
            rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
        }
        out.push_str(rest);
        out.lines()
            .map(|l| l.find("//").map_or(l, |i| &l[..i]))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `crate::a::b::c` paths of a file, as segment lists.
    fn crate_paths(code: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for (i, _) in code.match_indices("crate::") {
            let path: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let segs: Vec<String> = path
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if !segs.is_empty() {
                out.push(segs);
            }
        }
        out
    }

    fn sources() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut list = Vec::new();
        files(&root, &root, &mut list);
        list.into_iter()
            .filter(|(m, _)| !m.is_empty() && m != "main" && m != "lib")
            .filter(|(m, _)| !m.starts_with("bin"))
            .map(|(m, p)| (m, code(&std::fs::read_to_string(p).unwrap())))
            .collect()
    }

    #[test]
    fn no_import_breaks_the_layering() {
        let rules: BTreeMap<&str, &[&str]> = RULES.iter().copied().collect();
        let mut broken = Vec::new();
        for (module, code) in sources() {
            let top = module.split("::").next().unwrap_or_default().to_owned();
            if top == "cli" || top == "architecture" {
                continue;
            }
            let allowed = rules
                .get(top.as_str())
                .unwrap_or_else(|| panic!("no rule for the top-level module `{top}`"));
            for path in crate_paths(&code) {
                let target = path[0].as_str();
                if target != top && !allowed.contains(&target) {
                    broken.push(format!("{module} imports crate::{}", path.join("::")));
                }
            }
        }
        broken.sort();
        broken.dedup();
        assert!(
            broken.is_empty(),
            "imports against the rules:\n{}",
            broken.join("\n")
        );
    }

    #[test]
    fn no_files_import_each_other_in_a_loop() {
        let src = sources();
        let modules: BTreeSet<String> = src.iter().map(|(m, _)| m.clone()).collect();
        // The file a path lands in: its longest prefix that is a module file.
        let resolve = |segs: &[String]| -> Option<String> {
            (1..=segs.len())
                .rev()
                .map(|n| segs[..n].join("::"))
                .find(|m| modules.contains(m))
        };
        let related =
            |a: &str, b: &str| a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"));
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, code) in &src {
            for path in crate_paths(code) {
                if let Some(target) = resolve(&path)
                    && &target != module
                    && !related(module, &target)
                {
                    edges.entry(module.clone()).or_default().insert(target);
                }
            }
            // `super::x` from `a::b::c` is `a::b::x` (from a folder's mod.rs, `a::x`).
            for (i, _) in code.match_indices("super::") {
                let before = &code[..i];
                if before.ends_with("super::") || before.ends_with("::") {
                    continue;
                }
                let rest: String = code[i..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let ups = rest.matches("super::").count();
                let mut base: Vec<String> = module.split("::").map(str::to_owned).collect();
                let is_folder = modules
                    .iter()
                    .any(|m| m.starts_with(&format!("{module}::")));
                let drop = if is_folder { ups - 1 } else { ups };
                if drop > base.len() {
                    continue;
                }
                base.truncate(base.len() - drop);
                base.extend(
                    rest.split("::")
                        .filter(|s| !s.is_empty() && *s != "super")
                        .map(str::to_owned),
                );
                if let Some(target) = resolve(&base)
                    && &target != module
                    && !related(module, &target)
                {
                    edges.entry(module.clone()).or_default().insert(target);
                }
            }
        }
        // A file on a loop reaches itself.
        let reach = |from: &String| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<&String> = edges.get(from).into_iter().flatten().collect();
            while let Some(m) = stack.pop() {
                if seen.insert(m.clone()) {
                    stack.extend(edges.get(m).into_iter().flatten());
                }
            }
            seen
        };
        let on_loops: Vec<String> = edges
            .keys()
            .filter(|m| reach(m).contains(*m))
            .map(|m| {
                let back: Vec<&String> = edges[m].iter().filter(|t| reach(t).contains(m)).collect();
                format!("{m} -> {back:?} -> ... -> {m}")
            })
            .collect();
        assert!(
            on_loops.is_empty(),
            "files on import loops:\n{}",
            on_loops.join("\n")
        );
    }

    #[test]
    fn the_checks_see_a_broken_import() {
        // The checker itself: a made-up pipeline file importing training code is caught.
        let code = code("//! docs naming crate::train are fine\nuse crate::train::vrn;\n");
        let paths = crate_paths(&code);
        assert_eq!(paths, vec![vec!["train".to_owned(), "vrn".to_owned()]]);
        let allowed = RULES.iter().find(|(m, _)| *m == "pipeline").unwrap().1;
        assert!(!allowed.contains(&"train"));
    }
}
