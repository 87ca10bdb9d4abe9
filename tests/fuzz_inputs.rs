//! Property-based fuzzing of the spec loader and the expression parser/evaluator
//! (README "### Fuzzing"): generated inputs never panic, and every rejection names the
//! file and a key (or a line/column for TOML syntax errors). Random expressions also
//! satisfy the enclosure property of interval evaluation.
//!
//! Case counts are small by default (the file runs in a few seconds in release); set
//! `FUZZ_CASES=N` to run N cases per property. Each property draws from proptest's own
//! seeded RNG; a failure prints the shrunk input, which belongs in tests/corpus/.

use escapecert::landscape::expr::{Scratch, Tape};
use escapecert::landscape::Problem;
use escapecert::spec::{Spec, SpecError};
use inari::Interval;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn cases(default: u32) -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn runner(default: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(default),
        failure_persistence: None,
        ..Config::default()
    })
}

/// The shipped examples whose mutations are fuzzed (the data-loss examples read their
/// CSV files relative to the spec path, so the real path is used).
fn examples() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let t = std::fs::read_to_string(&p).unwrap();
            (p, t)
        })
        .collect();
    v.sort();
    assert!(v.len() >= 5, "examples/*.toml not found");
    v
}

/// A rejection must name the file, and a key or a line/column.
fn check_error(path: &Path, e: &SpecError, text: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(&e.file, path, "error names another file: {}", e.problem);
    prop_assert!(
        !e.key.is_empty() || e.problem.contains("line "),
        "error names neither a key nor a line: {:?}\n--- input ---\n{}",
        e.problem,
        text
    );
    prop_assert!(!e.problem.trim().is_empty());
    Ok(())
}

/// Loads spec text as `verify` does up to the landscape: Spec::from_str, then each
/// instance's Problem::from_spec. No panic; errors checked by [`check_error`].
fn load(path: &Path, text: &str) -> Result<(), TestCaseError> {
    let r = catch_unwind(AssertUnwindSafe(|| match Spec::from_str(path, text) {
        Err(e) => Err(e),
        Ok(spec) => {
            for inst in spec.instances() {
                Problem::from_spec(inst)?;
            }
            Ok(())
        }
    }));
    match r {
        Err(_) => Err(TestCaseError::fail(format!("panic on input:\n{text}"))),
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => check_error(path, &e, text),
    }
}

const BAD_VALUES: &[&str] = &[
    "nan",
    "-nan",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "0",
    "-1",
    "-0.0",
    "5e-324",
    "18446744073709551615",
    "-9223372036854775808",
    "9223372036854775807",
    "\"text\"",
    "true",
    "[]",
    "[[]]",
    "[1, \"a\"]",
    "{}",
    "{ a = 1 }",
    "[nan, inf]",
    "\"x^2147483647\"",
    "\"((x\"",
    "\"x1 + x10000\"",
    "1979-05-27",
    "[1e308, -1e308, 0]",
];

/// One textual mutation of a spec.
#[derive(Clone, Debug)]
enum Mutation {
    DropLine(usize),
    DuplicateLine(usize),
    ReplaceValue(usize, usize),
    Truncate(usize),
    Splice(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let junk = prop::collection::vec(
        prop::sample::select(vec![
            "[", "]", "{", "}", "\"", "'", "=", "\n", ",", ".", "#", "0", "9", "e", "-", "x", "\\",
            "ä", "\u{0}", "[[", "]]", "nan", " ", "\t", "[a]\n", "b = 1\n",
        ]),
        1..8,
    )
    .prop_map(|v| v.concat());
    prop_oneof![
        any::<usize>().prop_map(Mutation::DropLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), 0..BAD_VALUES.len()).prop_map(|(l, v)| Mutation::ReplaceValue(l, v)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), junk).prop_map(|(p, s)| Mutation::Splice(p, s)),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len().max(1);
    match m {
        Mutation::DropLine(i) => {
            let i = i % n;
            lines
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != i)
                .map(|(_, l)| format!("{l}\n"))
                .collect()
        }
        Mutation::DuplicateLine(i) => {
            let i = i % n;
            let mut out = String::new();
            for (k, l) in lines.iter().enumerate() {
                out.push_str(l);
                out.push('\n');
                if k == i {
                    out.push_str(l);
                    out.push('\n');
                }
            }
            out
        }
        Mutation::ReplaceValue(i, v) => {
            // The i-th `key = value` line (mod their number) gets a bad value.
            let assigns: Vec<usize> = (0..lines.len())
                .filter(|&k| {
                    let l = lines[k].trim_start();
                    !l.starts_with('#') && !l.starts_with('[') && l.contains('=')
                })
                .collect();
            if assigns.is_empty() {
                return text.to_string();
            }
            let target = assigns[i % assigns.len()];
            let mut out = String::new();
            for (k, l) in lines.iter().enumerate() {
                if k == target {
                    let key = l.split('=').next().unwrap();
                    out.push_str(&format!("{key}= {}\n", BAD_VALUES[*v]));
                } else {
                    out.push_str(l);
                    out.push('\n');
                }
            }
            out
        }
        Mutation::Truncate(p) => {
            let mut p = p % (text.len() + 1);
            while !text.is_char_boundary(p) {
                p -= 1;
            }
            text[..p].to_string()
        }
        Mutation::Splice(p, s) => {
            let mut p = p % (text.len() + 1);
            while !text.is_char_boundary(p) {
                p -= 1;
            }
            format!("{}{}{}", &text[..p], s, &text[p..])
        }
    }
}

#[test]
fn mutated_example_specs_never_panic_and_errors_name_file_and_key() {
    let ex = examples();
    let mut r = runner(48);
    let strat = (0..ex.len(), prop::collection::vec(mutation(), 1..4));
    r.run(&strat, |(k, ms)| {
        let (path, text) = &ex[k];
        let mut t = text.clone();
        for m in &ms {
            t = apply(&t, m);
        }
        load(path, &t)
    })
    .unwrap();
}

#[test]
fn the_unmutated_examples_load() {
    for (path, text) in examples() {
        let spec = Spec::from_str(&path, &text).unwrap_or_else(|e| panic!("{e:?}"));
        for inst in spec.instances() {
            Problem::from_spec(inst).unwrap_or_else(|e| panic!("{e:?}"));
        }
    }
}

// ----- expressions -----

/// Grammar-based random expressions over x1, x2 (all functions and operators of
/// src/landscape/expr.pest), including huge literals and powers and unknown names.
fn expr_strategy(smooth_only: bool) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("x1".to_string()),
        Just("x2".to_string()),
        (-9.0f64..9.0).prop_map(|c| format!("({c:.3})")),
        prop::sample::select(vec!["0.5", "2", "1e-3", ".25", "3.", "1E2"]).prop_map(String::from),
    ];
    let leaf: BoxedStrategy<String> = if smooth_only {
        leaf.boxed()
    } else {
        prop_oneof![
            8 => leaf,
            1 => prop::sample::select(vec![
                "1e999", "1e-999", "x0", "x3", "x01", "y", "abs(x1)", "x", "99999999999999999999",
                "pi", "", "(", ")", "x1^", "^2", "exp", "log()", "1e", "1.2.3", "--x1", "x1**2",
                "x99999999999999999999999", "min(x1,x2)", "\u{0}", "ä",
            ])
            .prop_map(String::from),
        ]
        .boxed()
    };
    leaf.prop_recursive(6, 48, 3, move |inner| {
        let funcs = vec!["exp", "log", "sqrt", "tanh", "sin", "cos"];
        let ops = vec!["+", "-", "*", "/"];
        let pows: Vec<i64> = if smooth_only {
            vec![-3, -2, -1, 0, 1, 2, 3, 4]
        } else {
            vec![
                -65,
                -2,
                0,
                2,
                7,
                64,
                65,
                2147483647,
                -2147483648,
                99999999999,
            ]
        };
        prop_oneof![
            (prop::sample::select(funcs), inner.clone()).prop_map(|(f, e)| format!("{f}({e})")),
            (inner.clone(), prop::sample::select(ops), inner.clone())
                .prop_map(|(a, o, b)| format!("({a}) {o} ({b})")),
            (inner.clone(), prop::sample::select(pows)).prop_map(|(a, p)| format!("({a})^{p}")),
            inner.clone().prop_map(|e| format!("-{e}")),
            inner.prop_map(|e| format!("(({e}))")),
        ]
    })
    .boxed()
}

fn parse_no_panic(src: &str) -> Result<Option<Tape>, TestCaseError> {
    match catch_unwind(|| Tape::parse(src, Some(2))) {
        Err(_) => Err(TestCaseError::fail(format!("parser panicked on `{src}`"))),
        Ok(Ok(t)) => Ok(Some(t)),
        Ok(Err(e)) => {
            let m = e.to_string();
            prop_assert!(!m.trim().is_empty());
            Ok(None)
        }
    }
}

#[test]
fn random_expressions_never_panic() {
    let mut r = runner(256);
    r.run(&expr_strategy(false), |src| {
        if let Some(t) = parse_no_panic(&src)? {
            // Evaluation on any box, even where undefined, must not panic.
            let bx = [Interval::try_from((-2.0, 3.0)).unwrap(); 2];
            let _ = catch_unwind(AssertUnwindSafe(|| t.check_domain(&bx)))
                .map_err(|_| TestCaseError::fail(format!("check_domain panicked on `{src}`")))?;
            let mut s = Scratch::new();
            let mut g = [Interval::EMPTY; 2];
            catch_unwind(AssertUnwindSafe(|| t.gradient(&bx, &mut g, &mut s)))
                .map_err(|_| TestCaseError::fail(format!("gradient panicked on `{src}`")))?;
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn deep_and_huge_expressions_are_rejected_cleanly() {
    // Each of these is an error (limit exceeded), not a stack overflow or an allocation
    // of the input's size times a large factor.
    let n = 100_000;
    let inputs = [
        format!("{}x{}", "(".repeat(n), ")".repeat(n)),
        format!("{}x", "-".repeat(n)),
        format!("{}x{}", "exp(".repeat(n), ")".repeat(n)),
        vec!["x"; 600_000].join("+"),
        format!("1{}", "0".repeat(2_000_000)),
        "x^2147483647".into(),
        "x999999999".into(),
    ];
    for src in &inputs {
        let r = catch_unwind(|| Tape::parse(src, None)).expect("parser panicked");
        assert!(r.is_err(), "accepted `{}…`", &src[..40.min(src.len())]);
    }
}

/// Interval evaluation encloses point evaluation: for a random point x in a random box
/// X on which the expression is certified defined (check_domain), the interval value on
/// the point box [x, x] lies in the interval value on X (inclusion isotonicity; the same
/// for the gradient), and the f64 value at x lies in the point-box enclosure widened by
/// its width (f64 evaluation rounds to nearest while the enclosure rounds outward; its
/// error is bounded by the same rounding the width accounts for).
#[test]
fn interval_evaluation_encloses_point_evaluation() {
    let mut r = runner(256);
    let coord = (-3.0f64..3.0, 0.0f64..2.0, 0.0f64..=1.0);
    let strat = (expr_strategy(true), coord.clone(), coord);
    r.run(&strat, |(src, (a1, w1, t1), (a2, w2, t2))| {
        let Some(t) = parse_no_panic(&src)? else {
            return Ok(());
        };
        let bx = [
            Interval::try_from((a1, a1 + w1)).unwrap(),
            Interval::try_from((a2, a2 + w2)).unwrap(),
        ];
        if t.check_domain(&bx).is_err() {
            return Ok(());
        }
        let x = [(a1 + t1 * w1).min(a1 + w1), (a2 + t2 * w2).min(a2 + w2)];
        let px = [
            Interval::try_from((x[0], x[0])).unwrap(),
            Interval::try_from((x[1], x[1])).unwrap(),
        ];
        let (mut si, mut sp, mut sf) = (Scratch::new(), Scratch::new(), Scratch::new());
        let (mut gi, mut gp, mut gf) = ([Interval::EMPTY; 2], [Interval::EMPTY; 2], [0.0; 2]);
        let vi = t.gradient(&bx, &mut gi, &mut si);
        let vp = t.gradient(&px, &mut gp, &mut sp);
        let vf = t.gradient(&x, &mut gf, &mut sf);
        prop_assert!(
            vp.subset(vi),
            "`{src}`: value {vp:?} on {x:?} ⊄ {vi:?} on {bx:?}"
        );
        for k in 0..2 {
            prop_assert!(
                gp[k].subset(gi[k]),
                "`{src}`: ∂{k} {:?} on {x:?} ⊄ {:?} on {bx:?}",
                gp[k],
                gi[k]
            );
        }
        let widened = |p: Interval| {
            let w = p.wid().max(1e-300) + 4.0 * f64::EPSILON * p.mag();
            Interval::try_from((p.inf() - w, p.sup() + w)).unwrap_or(Interval::ENTIRE)
        };
        if vf.is_finite() {
            prop_assert!(
                widened(vp).contains(vf),
                "`{src}`: f64 value {vf} at {x:?} outside {vp:?}"
            );
        }
        Ok(())
    })
    .unwrap();
}
