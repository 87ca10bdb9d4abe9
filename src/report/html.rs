//! report.html: report.md rendered to HTML (pulldown-cmark, tables on), self-contained:
//! inline CSS, the plots' SVG inlined where report.md links them, no script, no external
//! font, link or resource. Raw HTML in the Markdown (e.g. from a spec's description) is
//! escaped as text, so the only markup is the renderer's own.

use super::json::Report;
use pulldown_cmark::{html, Event, Options, Parser};

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;max-width:1150px;margin:1.5em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #ddd;padding-bottom:.3em}
h2{font-size:1.3em;border-bottom:1px solid #e4e4e4;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.08em}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#f1f3f5}
tr:nth-child(even) td{background:#fafafa}
code{background:#f3f3f3;padding:0 .2em;border-radius:3px;font-size:.92em}
li{margin:.15em 0}
.v-pass{color:#fff;background:#1e7d32;padding:.05em .4em;border-radius:3px}
.v-fail{color:#fff;background:#c62828;padding:.05em .4em;border-radius:3px}
.v-inconclusive{color:#1b1b1b;background:#f9c74f;padding:.05em .4em;border-radius:3px}
span.fig{display:block;margin:1em 0}
span.fig svg{max-width:100%;height:auto;border:1px solid #e4e4e4}
";

/// Renders report.html from report.md and the plots (`(file name, SVG)` under `plots/`).
pub fn render_html(r: &Report, markdown: &str, plots: &[(String, String)]) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    let parser = Parser::new_ext(markdown, opts).map(|ev| match ev {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        e => e,
    });
    let mut body = String::new();
    html::push_html(&mut body, parser);
    let body = inline_plots(&body, plots);
    let body = colour_verdicts(&body);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!(
        "<title>escapecert report: {}</title>\n",
        escape(&r.problem.spec_name)
    ));
    out.push_str("<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n");
    out.push_str(&body);
    out.push_str("</body>\n</html>\n");
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Replaces each `<img src="plots/NAME" … />` by a block holding that plot's SVG.
fn inline_plots(body: &str, plots: &[(String, String)]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    const TAG: &str = "<img src=\"plots/";
    while let Some(at) = rest.find(TAG) {
        out.push_str(&rest[..at]);
        let after = &rest[at + TAG.len()..];
        let name_end = after.find('"').unwrap_or(0);
        let name = &after[..name_end];
        let tag_end = after.find("/>").map_or(after.len(), |e| e + 2);
        match plots.iter().find(|(f, _)| f == name) {
            Some((_, svg)) => {
                let svg = svg
                    .trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
                    .trim();
                out.push_str("<span class=\"fig\">");
                out.push_str(svg);
                out.push_str("</span>");
            }
            None => out.push_str(&format!("[plot {} missing]", escape(name))),
        }
        rest = &after[tag_end..];
    }
    out.push_str(rest);
    out
}

/// Verdict words in bold get their colour.
fn colour_verdicts(body: &str) -> String {
    let mut s = body.to_string();
    for (v, class) in [
        ("PASS", "v-pass"),
        ("FAIL", "v-fail"),
        ("INCONCLUSIVE", "v-inconclusive"),
    ] {
        s = s.replace(
            &format!("<strong>{v}</strong>"),
            &format!("<strong class=\"{class}\">{v}</strong>"),
        );
        s = s.replace(
            &format!("<strong>Verdict: {v}</strong>"),
            &format!("<strong class=\"{class}\">Verdict: {v}</strong>"),
        );
    }
    s
}
