//! Spec::from_str on arbitrary UTF-8, then each instance's landscape: never a panic,
//! every rejection names the file and a key or a line/column (README "### Fuzzing").
#![no_main]
use escapecert::landscape::Problem;
use escapecert::spec::Spec;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    let check = |e: escapecert::spec::SpecError| {
        assert_eq!(e.file, path);
        assert!(
            !e.key.is_empty() || e.problem.contains("line "),
            "no key or line: {e:?}"
        );
    };
    match Spec::from_str(path, text) {
        Err(e) => check(e),
        Ok(spec) => {
            for inst in spec.instances() {
                if let Err(e) = Problem::from_spec(inst) {
                    check(e);
                }
            }
        }
    }
});
