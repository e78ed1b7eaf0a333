//! The differential suite: every `tests/c/*.c` program, built static (and static-PIE where its
//! header asks), runs natively and under `runrs do`; stdout and exit status must match.
//! Programs listed in tests/c/known-failures.txt run only with `--ignored`.

use libtest_mimic::{Arguments, Failed, Trial};
use runrs_tests::{compile, differential, parse_header, root};

fn main() {
    let args = Arguments::from_args();
    let mut sources: Vec<_> = std::fs::read_dir(root().join("tests/c"))
        .expect("tests/c")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    let known = known_failures();
    let mut trials = Vec::new();
    for src in sources {
        let text = std::fs::read_to_string(&src).expect("read test source");
        let header = parse_header(&text);
        let stem = src
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_string();
        for variant in header.variants.clone() {
            let (src, args, stdin) = (src.clone(), header.args.clone(), header.stdin.clone());
            let trial = Trial::test(format!("{stem}::{}", variant.name()), move || {
                let bin = compile(&src, variant).map_err(Failed::from)?;
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                differential(&bin, &args, stdin.as_deref()).map_err(Failed::from)
            });
            trials.push(trial.with_ignored_flag(known.contains(&stem)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

/// Stems listed in tests/c/known-failures.txt.
fn known_failures() -> Vec<String> {
    let text =
        std::fs::read_to_string(root().join("tests/c/known-failures.txt")).unwrap_or_default();
    let stems: Vec<String> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect();
    for stem in &stems {
        assert!(
            root().join(format!("tests/c/{stem}.c")).exists(),
            "known-failures.txt names missing tests/c/{stem}.c"
        );
    }
    stems
}
