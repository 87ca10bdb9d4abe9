//! report.html and the SVG plots: self-contained HTML, every plot report.md links exists,
//! plots are byte-deterministic and re-render identically from report.json, the 2-D
//! landscape plot appears for d = 2 only, and (when Chromium is installed) the HTML renders
//! in headless Chromium.

use escapecert::report::{self, json::Report, plot};
use escapecert::run::{self, Options};
use escapecert::spec::Spec;
use std::path::{Path, PathBuf};

/// 2-D quadratic L = |x|²/2 in the unit ball, σ = 1: V̄ = 1 (E7), V̄/κ² = 4 and 5 (so both
/// points enter the fit); mean exit times of some tens of time units, 30 trials per point.
const TINY_2D: &str = r#"name = "tiny_2d"
description = "2-D quadratic in a ball, few trials"
[landscape]
builtin = "quadratic"
dim = 2
sharpness = 1.0
[domain]
kind = "ball"
radius = 1.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = [0.25, 0.2]
batch = 1
[monte_carlo]
trials = 30
seed = 5
confidence = 0.9
max_steps = 2000000
dt = 0.01
dynamics = ["continuous"]
"#;

/// The same in 1-D on (−1, 1).
const TINY_1D: &str = r#"name = "tiny_1d"
description = "1-D quadratic, few trials"
[landscape]
builtin = "quadratic"
dim = 1
sharpness = 1.0
[domain]
kind = "interval"
lo = -1.0
hi = 1.0
[noise]
kind = "isotropic"
sigma = 1.0
[sgd]
eta = [0.25, 0.2]
batch = 1
[monte_carlo]
trials = 30
seed = 5
confidence = 0.9
max_steps = 2000000
dt = 0.01
dynamics = ["continuous"]
"#;

/// Runs `verify` on `text` and writes the report folder; returns (folder, report).
fn run_spec(dir: &Path, name: &str, text: &str) -> (PathBuf, Report) {
    let spec_path = dir.join(format!("{name}.toml"));
    std::fs::write(&spec_path, text).unwrap();
    let spec = Spec::from_str(&spec_path, text).expect("valid spec");
    let rep = run::verify(
        &spec,
        &Options {
            quiet: true,
            check_dt: false,
        },
    )
    .expect("verify");
    let out = dir.join(name);
    report::write(&out, &rep).expect("write report");
    (out, rep)
}

/// The relative plot paths linked from report.md as `](plots/NAME.svg)`.
fn linked_plots(md: &str) -> Vec<String> {
    md.split("](")
        .skip(1)
        .filter_map(|s| s.split(')').next())
        .filter(|l| l.starts_with("plots/"))
        .map(str::to_string)
        .collect()
}

/// Every way an HTML page could load something from elsewhere: looked for in the markup
/// (tags; text is escaped, so a `<` in text never starts a tag) and in style sheets.
fn external_resources(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut bad = Vec::new();
    let mut rest = lower.as_str();
    while let Some(a) = rest.find('<') {
        let end = rest[a..].find('>').map_or(rest.len(), |e| a + e + 1);
        let tag = &rest[a..end];
        for name in [
            "<link", "<script", "<img", "<iframe", "<object", "<embed", "<image",
        ] {
            if tag.starts_with(name) {
                bad.push(tag.to_string());
            }
        }
        for attr in [" src=", " href=", ":href=", " srcset=", " action="] {
            if let Some(i) = tag.find(attr) {
                let v = tag[i + attr.len()..].trim_start_matches(['"', '\'']);
                if !v.starts_with('#') && !v.starts_with("data:") {
                    bad.push(tag.to_string());
                }
            }
        }
        rest = &rest[end..];
    }
    for style in lower.split("<style").skip(1) {
        let css = style.split("</style>").next().unwrap_or("");
        if css.contains("@import") {
            bad.push("@import".into());
        }
        for (i, _) in css.match_indices("url(") {
            if !css[i + 4..]
                .trim_start_matches(['"', '\''])
                .starts_with("data:")
            {
                bad.push(format!("url( in a style sheet at byte {i}"));
            }
        }
    }
    bad
}

#[test]
fn html_is_self_contained_and_every_linked_plot_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, rep) = run_spec(tmp.path(), "tiny_2d", TINY_2D);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let links = linked_plots(&md);
    // A fit claim (T1), the Exp(1) panels and the landscape.
    assert!(
        links.contains(&"plots/claim-1.svg".to_string()),
        "{links:?}"
    );
    assert!(links.contains(&"plots/exp_qq.svg".to_string()), "{links:?}");
    assert!(
        links.contains(&"plots/landscape.svg".to_string()),
        "{links:?}"
    );
    for l in &links {
        let p = out.join(l);
        let svg = std::fs::read_to_string(&p).unwrap_or_else(|_| panic!("{l} missing"));
        assert!(svg.starts_with("<svg"), "{l} is not SVG");
    }
    assert_eq!(external_resources(&html), Vec::<String>::new());
    // Every plot inlined, and the tables are tables.
    assert_eq!(html.matches("<svg").count(), links.len());
    assert!(html.contains("<table>"));
    assert!(html.contains("<style>"));
    // The verdict of every claim appears, coloured.
    for c in &rep.claims {
        assert!(html.contains(&format!("class=\"v-{}\"", c.verdict.to_lowercase())));
    }
}

#[test]
fn raw_html_in_the_spec_is_escaped() {
    let text = TINY_1D.replace(
        "description = \"1-D quadratic, few trials\"",
        "description = \"<script src='http://example.org/x.js'></script> <img src=\\\"http://example.org/a.png\\\">\"",
    );
    let tmp = tempfile::tempdir().unwrap();
    let (out, _) = run_spec(tmp.path(), "evil", &text);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(external_resources(&html), Vec::<String>::new());
    assert!(html.contains("&lt;script"));
}

#[test]
fn plots_are_deterministic_and_rerender_from_json() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, rep) = run_spec(tmp.path(), "tiny_2d", TINY_2D);
    let a = plot::render_all(&rep).unwrap();
    let b = plot::render_all(&rep).unwrap();
    assert_eq!(a, b);
    // From report.json alone: the same bytes as the files written.
    let js = std::fs::read_to_string(out.join("report.json")).unwrap();
    let back: Report = serde_json::from_str(&js).unwrap();
    assert_eq!(back, rep);
    for (name, svg) in plot::render_all(&back).unwrap() {
        let written = std::fs::read_to_string(out.join("plots").join(&name)).unwrap();
        assert!(
            written == svg,
            "{name} differs when re-rendered from report.json"
        );
    }
    // The whole run twice: the same report files byte for byte.
    let (out2, _) = run_spec(tmp.path(), "tiny_2d_again", TINY_2D);
    for f in ["report.md", "report.html"] {
        let x = std::fs::read(out.join(f)).unwrap();
        let y = std::fs::read(out2.join(f)).unwrap();
        // The spec file name differs ("tiny_2d.toml" vs "tiny_2d_again.toml").
        let x = String::from_utf8(x).unwrap().replace("tiny_2d.toml", "X");
        let y = String::from_utf8(y)
            .unwrap()
            .replace("tiny_2d_again.toml", "X");
        assert!(x == y, "{f} differs between two identical runs");
    }
    for (name, _) in &a {
        let x = std::fs::read(out.join("plots").join(name)).unwrap();
        let y = std::fs::read(out2.join("plots").join(name)).unwrap();
        assert!(x == y, "{name} differs between two identical runs");
    }
}

#[test]
fn landscape_plot_for_2d_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (out1, rep1) = run_spec(tmp.path(), "tiny_1d", TINY_1D);
    assert!(rep1.landscape_plot.is_none());
    assert!(!out1.join("plots/landscape.svg").exists());
    assert!(out1.join("plots/claim-1.svg").exists());
    let (out2, rep2) = run_spec(tmp.path(), "tiny_2d", TINY_2D);
    let lp = rep2.landscape_plot.as_ref().expect("2-D plot data");
    assert_eq!(lp.values.len(), lp.nx * lp.ny);
    assert_eq!(lp.trajectories.len(), plot::TRAJECTORIES);
    // Each trajectory ends outside the unit ball: the mean exit time at κ² = 0.25 is some
    // tens of time units (e^4 times a prefactor of order 1) against a cap of 2000 time
    // units, so a path stopped by the cap has probability of order e^-20.
    for t in &lp.trajectories {
        let last = t.last().unwrap();
        assert!(last[0].hypot(last[1]) >= 1.0, "{last:?}");
    }
    let svg = std::fs::read_to_string(out2.join("plots/landscape.svg")).unwrap();
    assert!(svg.contains("boundary of D"));
}

/// Closed form: for L = (x² + y²)/2 the level set {L = c} is the circle of radius √(2c);
/// linear interpolation on the grid puts each contour vertex within O(h²) of it.
#[test]
fn contour_segments_follow_a_circle() {
    let n = 41;
    let (lo, hi) = (-1.5, 1.5);
    let node = |i: usize| lo + (hi - lo) * i as f64 / (n - 1) as f64;
    let mut values = Vec::new();
    for j in 0..n {
        for i in 0..n {
            values.push(Some(0.5 * (node(i).powi(2) + node(j).powi(2))));
        }
    }
    let lp = escapecert::report::json::LandscapePlot {
        x_lo: lo,
        x_hi: hi,
        nx: n,
        y_lo: lo,
        y_hi: hi,
        ny: n,
        values,
        boundary: Vec::new(),
        trajectories: Vec::new(),
        kappa2: 0.0,
        seed: 0,
        dt: 0.0,
        max_steps: 0,
    };
    let segs = plot::contour_segments(&lp, 0.5);
    assert!(segs.len() > 40);
    let h = (hi - lo) / (n - 1) as f64;
    for s in &segs {
        for p in s {
            assert!((p.0.hypot(p.1) - 1.0).abs() < h * h, "{p:?}");
        }
    }
}

/// Quantiles of τ/mean: the inverse empirical distribution without censoring; with
/// censoring the Kaplan–Meier curve, undefined beyond its last event.
#[test]
fn exp_quantiles_inverse_empirical_and_kaplan_meier() {
    let times: Vec<f64> = (1..=100).map(|k| k as f64).collect();
    let q = plot::exp_quantiles(&times, &[], 50.0);
    assert_eq!(q.len(), 99);
    // F̂(k) = k/100, so the quantile at p = k/100 is k, divided by the mean 50.
    for (k, v) in q.iter().enumerate() {
        assert_eq!(*v, Some((k + 1) as f64 / 50.0));
    }
    // Half the runs censored at 1000 after 50 events at 1..50: F̂ reaches 0.5 and stops.
    let q = plot::exp_quantiles(&times[..50], &[1000.0; 50], 10.0);
    assert_eq!(q[49], Some(5.0));
    assert!(q[50..].iter().all(|v| v.is_none()));
}

#[test]
fn html_renders_in_headless_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        println!("skipped: /usr/bin/chromium not installed (apt-get install -y chromium)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (out, _) = run_spec(tmp.path(), "tiny_2d", TINY_2D);
    let png = tmp.path().join("shot.png");
    let profile = tmp.path().join("profile");
    let html = out.join("report.html");
    let status = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,2000")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("run chromium");
    assert!(
        status.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.len() > 1000);
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    if let Ok(keep) = std::env::var("ESCAPECERT_KEEP_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
}
