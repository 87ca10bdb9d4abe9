//! The README documents every field of report.json: each key that occurs (at any depth) in
//! the committed `reports/tilted_double_well/report.json` and
//! `reports/splitting_tilted_1d/report.json` (splitting points, local slopes) must be
//! named, in backticks, in the README section "report.json schema", so the documentation
//! cannot drift silently when a field is added. (Deterministic: reads committed files.)

use serde_json::Value;
use std::collections::BTreeSet;

/// The README's schema section: from its heading to the next `## ` heading.
fn schema_section(readme: &str) -> &str {
    let start = readme
        .find("### report.json schema")
        .expect("README has a section \"### report.json schema\"");
    let rest = &readme[start..];
    let end = rest[4..].find("\n## ").map_or(rest.len(), |i| i + 4);
    &rest[..end]
}

/// Every object key, at any depth.
fn keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.clone());
                keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

#[test]
fn readme_schema_names_every_key_of_the_committed_report() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let section = schema_section(&readme);
    let mut all = BTreeSet::new();
    for name in ["tilted_double_well", "splitting_tilted_1d"] {
        let text = std::fs::read_to_string(format!("{root}/reports/{name}/report.json")).unwrap();
        let report: Value = serde_json::from_str(&text).unwrap();
        keys(&report, &mut all);
    }
    assert!(all.len() > 50, "too few keys read: {all:?}");
    let missing: Vec<&String> = all
        .iter()
        .filter(|k| !section.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "report.json keys not documented in the README's \"report.json schema\" section: {missing:?}"
    );
    // The section states the format version the tool writes.
    let v = escapecert::report::json::FORMAT_VERSION;
    assert!(
        section.contains(&format!("format {v}")),
        "the schema section does not name format {v}"
    );
}
