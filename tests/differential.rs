//! The differential suite: every `tests/c/*.c` program, built static (and static-PIE where its
//! header asks), runs natively and under `runrs do`; stdout and exit status must match.

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
            trials.push(Trial::test(
                format!("{stem}::{}", variant.name()),
                move || {
                    let bin = compile(&src, variant).map_err(Failed::from)?;
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    differential(&bin, &args, stdin.as_deref()).map_err(Failed::from)
                },
            ));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
