//! SVG plots of a report (plotters, SVG backend only), drawn from report.json data alone,
//! so re-rendering a report from its JSON gives the same bytes:
//! - `claim-K.svg`: log E[exit time] of claim K's points against its variable, with each
//!   point's interval, the fitted line, and the band of lines whose slope the certified
//!   barrier allows;
//! - `exp_qq.svg`: per Monte Carlo point, quantiles of τ/mean against Exp(1);
//! - `landscape.svg` (d = 2 only): contours of L, the domain, the minimiser box, the
//!   certified exit path and a few sample trajectories.
//!
//! Nothing drawn here is a bound: the plots illustrate the numbers of the report.

use super::json::{self, LandscapePlot, Report};
use crate::certify::Certified;
use crate::claims::SweepPoint;
use crate::landscape::{Domain, Problem};
use crate::spec::Spec;
use plotters::coord::Shift;
use plotters::prelude::*;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::fmt::Write;

/// One plot of a report: its file name under `plots/`, a title and a caption.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotInfo {
    pub file: String,
    pub title: String,
    pub caption: String,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Claim(usize),
    ExpQq,
    Landscape,
}

/// Probabilities of the stored τ/mean quantiles: 0.01, 0.02, …, 0.99.
pub fn quantile_probabilities() -> Vec<f64> {
    (1..100).map(|k| k as f64 / 100.0).collect()
}

/// Quantiles of τ/`mean` at [`quantile_probabilities`] from the Kaplan–Meier curve of the
/// exit times (events) and censoring times: the quantile at p is the first event time t
/// with 1 − S(t) ≥ p (the inverse empirical distribution when nothing is censored);
/// `None` where the curve never reaches p.
pub fn exp_quantiles(exit_times: &[f64], censor_times: &[f64], mean: f64) -> Vec<Option<f64>> {
    let probs = quantile_probabilities();
    if exit_times.is_empty() || !(mean.is_finite() && mean > 0.0) {
        return vec![None; probs.len()];
    }
    // (time, is_event); events before censorings at equal times.
    let mut all: Vec<(f64, bool)> = exit_times
        .iter()
        .map(|&t| (t, true))
        .chain(censor_times.iter().map(|&t| (t, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut at_risk = all.len() as f64;
    let mut surv = 1.0f64;
    // (time, F(time)) at each event.
    let mut steps: Vec<(f64, f64)> = Vec::new();
    for &(t, ev) in &all {
        if ev {
            surv *= 1.0 - 1.0 / at_risk;
            steps.push((t, 1.0 - surv));
        }
        at_risk -= 1.0;
    }
    probs
        .iter()
        .map(|&p| {
            steps
                .iter()
                .find(|&&(_, f)| f >= p - 1e-12)
                .map(|&(t, _)| t / mean)
        })
        .collect()
}

/// Grid nodes per axis of the landscape plot.
pub const GRID: usize = 49;
/// Sample trajectories in the landscape plot.
pub const TRAJECTORIES: usize = 3;
/// Step cap of a sample trajectory.
pub const TRAJECTORY_MAX_STEPS: u64 = 200_000;
/// Vertices kept per sample trajectory (evenly subsampled, last point kept).
pub const TRAJECTORY_VERTICES: usize = 400;

/// The f64 data of the landscape plot of a 2-D problem (`None` otherwise): L on a grid over
/// the domain's bounding box (10% margin), the boundary of D, and sample trajectories of
/// continuous SGD (E3) at the largest κ² of the sweep, Euler–Maruyama with the spec's dt,
/// from a seed derived from the spec seed. An illustration, not a statistic.
pub fn landscape_plot(
    spec: &Spec,
    problem: &Problem,
    cert: &Certified,
    sweep: &[SweepPoint],
) -> Option<LandscapePlot> {
    if problem.landscape.dim() != 2 || cert.domain.dim() != 2 {
        return None;
    }
    let bb = cert.domain.bounding_box();
    let (mut x_lo, mut x_hi) = (bb[0].inf(), bb[0].sup());
    let (mut y_lo, mut y_hi) = (bb[1].inf(), bb[1].sup());
    let (mx, my) = (0.1 * (x_hi - x_lo), 0.1 * (y_hi - y_lo));
    x_lo -= mx;
    x_hi += mx;
    y_lo -= my;
    y_hi += my;
    let node = |lo: f64, hi: f64, i: usize| lo + (hi - lo) * i as f64 / (GRID - 1) as f64;
    let mut values = Vec::with_capacity(GRID * GRID);
    for j in 0..GRID {
        for i in 0..GRID {
            let v: f64 = problem
                .landscape
                .value(&[node(x_lo, x_hi, i), node(y_lo, y_hi, j)]);
            values.push(v.is_finite().then_some(v));
        }
    }
    let boundary: Vec<[f64; 2]> = match &cert.domain {
        Domain::Ball { center, radius } => (0..=128)
            .map(|k| {
                let a = std::f64::consts::TAU * k as f64 / 128.0;
                [center[0] + radius * a.cos(), center[1] + radius * a.sin()]
            })
            .collect(),
        Domain::Box { lo, hi } => vec![
            [lo[0], lo[1]],
            [hi[0], lo[1]],
            [hi[0], hi[1]],
            [lo[0], hi[1]],
            [lo[0], lo[1]],
        ],
        Domain::Interval { .. } => Vec::new(),
    };
    let top = sweep.iter().max_by(|a, b| a.kappa2.total_cmp(&b.kappa2));
    let (kappa2, start) = match top {
        Some(p) => (p.kappa2, p.start.clone()),
        None => (0.0, cert.start.clone()),
    };
    let mc = &spec.monte_carlo;
    let seed = mc.seed ^ 0x706c_6f74_7472_616a; // "plottraj"
    let max_steps = TRAJECTORY_MAX_STEPS.min(mc.max_steps);
    let dt = mc.dt;
    let mut trajectories = Vec::new();
    if kappa2 > 0.0 && start.len() == 2 {
        for k in 0..TRAJECTORIES {
            let mut rng =
                rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed.wrapping_add(k as u64));
            trajectories.push(trajectory(
                problem,
                &cert.domain,
                &start,
                kappa2,
                dt,
                max_steps,
                &mut rng,
            ));
        }
    }
    Some(LandscapePlot {
        x_lo,
        x_hi,
        nx: GRID,
        y_lo,
        y_hi,
        ny: GRID,
        values,
        boundary,
        trajectories,
        kappa2,
        seed,
        dt,
        max_steps,
    })
}

/// One Euler–Maruyama path of dθ = −∇L dt + κ Σ^{1/2} dW (Σ^{1/2} as its Cholesky factor),
/// until it leaves D or after `max_steps`, subsampled to at most [`TRAJECTORY_VERTICES`].
fn trajectory(
    problem: &Problem,
    domain: &Domain,
    start: &[f64],
    kappa2: f64,
    dt: f64,
    max_steps: u64,
    rng: &mut impl Rng,
) -> Vec<[f64; 2]> {
    let mut x = [start[0], start[1]];
    let mut path = vec![x];
    let scale = (kappa2 * dt).sqrt();
    let mut g = [0.0f64; 2];
    let mut cov = [0.0f64; 4];
    for _ in 0..max_steps {
        problem.landscape.gradient(&x, &mut g);
        problem.noise.covariance(&problem.landscape, &x, &mut cov);
        let l11 = cov[0].sqrt();
        let l21 = cov[2] / l11;
        let l22 = (cov[3] - l21 * l21).sqrt();
        let (z1, z2): (f64, f64) = (rng.sample(StandardNormal), rng.sample(StandardNormal));
        let step = [
            -g[0] * dt + scale * l11 * z1,
            -g[1] * dt + scale * (l21 * z1 + l22 * z2),
        ];
        if !(step[0].is_finite() && step[1].is_finite()) {
            break;
        }
        x = [x[0] + step[0], x[1] + step[1]];
        path.push(x);
        if !domain.contains(&x) {
            break;
        }
    }
    let n = path.len();
    if n <= TRAJECTORY_VERTICES {
        return path;
    }
    let stride = n.div_ceil(TRAJECTORY_VERTICES - 1);
    let mut out: Vec<[f64; 2]> = path.iter().step_by(stride).copied().collect();
    if (n - 1) % stride != 0 {
        out.push(path[n - 1]);
    }
    out
}

/// The plots of a report, in the order of the Plots section.
pub fn plot_index(r: &Report) -> Vec<PlotInfo> {
    let mut out = Vec::new();
    for (k, c) in r.claims.iter().enumerate() {
        if c.fit.is_none() || c.abscissa.is_empty() || c.abscissa.len() != c.points.len() {
            continue;
        }
        let band = match &c.predicted_slope {
            Some(p) => format!(
                "the shaded band holds every line whose slope lies in the certified prediction [{}, {}] (proofs/predicted-slope.md), drawn through the weighted centroid of the points (weights = exits, the weights of the fit; the fitted straight line passes through it)",
                super::fmt_lower(p.lo),
                super::fmt_upper(p.hi)
            ),
            None => "no certified slope, so no band".into(),
        };
        let excluded = if c.excluded.is_empty() {
            String::new()
        } else {
            format!(
                "; {} pre-asymptotic point(s) left out of the fit are not drawn",
                c.excluded.len()
            )
        };
        out.push(PlotInfo {
            file: format!("claim-{}.svg", k + 1),
            title: format!("{}: log E[exit time] against {}", c.id, c.variable),
            caption: format!(
                "Claim {} ({}): ln of the mean exit time of each fitted Monte Carlo point against {}, with the point's interval at its level; the solid line is the weighted straight-line fit{}; {band}{excluded}.",
                c.id,
                c.verdict,
                c.variable,
                if c.prefactor_fit.is_some() {
                    ", the dashed curve the fit with the log-prefactor term"
                } else {
                    ""
                }
            ),
            kind: Kind::Claim(k),
        });
    }
    if r.monte_carlo
        .iter()
        .any(|m| m.exp_quantiles.iter().any(|q| q.is_some()))
    {
        out.push(PlotInfo {
            file: "exp_qq.svg".into(),
            title: "τ/mean against Exp(1)".into(),
            caption: "One panel per Monte Carlo row: the quantiles of τ/mean (mean = the row's mean exit time; Kaplan–Meier quantiles for censored rows, empirical otherwise) at p = 0.01, …, 0.99 against the Exp(1) quantiles −ln(1 − p). Exponential exit times (THEORY T3) lie on the diagonal; the Exp(1) test in the statistics table is the formal check.".into(),
            kind: Kind::ExpQq,
        });
    }
    if let Some(lp) = &r.landscape_plot {
        out.push(PlotInfo {
            file: "landscape.svg".into(),
            title: "The landscape, the domain and the exit path".into(),
            caption: format!(
                "Contours of L (f64 on a {}×{} grid) over the domain's bounding box; black: the boundary of D; magenta: the level L* + ΔL of the certified depth; red: the certified minimiser box and its midpoint; orange: {}; grey: {} sample trajectories of continuous SGD, each ending with a dot at its first recorded point outside D, at κ² = {} (the largest of the sweep; Euler–Maruyama, dt = {}, seed {}, at most {} steps) — an illustration, not a statistic.",
                lp.nx,
                lp.ny,
                match &r.certified.barrier_path {
                    Some(p) => format!("the certified exit path of Lemma P (candidate {}, {} vertices)", p.candidate, p.vertices.len()),
                    None => "no certified exit path (Lemma P did not certify one)".into(),
                },
                lp.trajectories.len(),
                lp.kappa2,
                lp.dt,
                lp.seed,
                lp.max_steps
            ),
            kind: Kind::Landscape,
        });
    }
    out
}

/// The Plots section of report.md (empty when there is no plot).
pub fn markdown_section(r: &Report) -> String {
    let plots = plot_index(r);
    if plots.is_empty() {
        return String::new();
    }
    let mut s = String::from("\n## Plots\n");
    for p in plots {
        let _ = write!(
            s,
            "\n### {}\n\n![{}](plots/{})\n\n{}\n",
            p.title, p.title, p.file, p.caption
        );
    }
    s
}

/// Renders one plot as SVG text.
pub fn render(r: &Report, p: &PlotInfo) -> Result<String, String> {
    let mut buf = String::new();
    let res = (|| -> Res {
        match p.kind {
            Kind::Claim(k) => {
                let root = SVGBackend::with_string(&mut buf, (760, 480)).into_drawing_area();
                claim_plot(r, &r.claims[k], &root)
            }
            Kind::ExpQq => {
                let n = r.monte_carlo.len().max(1);
                let cols = n.min(4);
                let rows = n.div_ceil(cols);
                let root =
                    SVGBackend::with_string(&mut buf, (240 * cols as u32, 240 * rows as u32 + 30))
                        .into_drawing_area();
                qq_plot(r, &root, rows, cols)
            }
            Kind::Landscape => {
                // Plot area about 560 px high and as wide as the axes' ratio asks (equal scales),
                // within [440, 980] px.
                let lp = r.landscape_plot.as_ref().ok_or("no landscape data")?;
                let ratio = (lp.x_hi - lp.x_lo) / (lp.y_hi - lp.y_lo);
                let w = (80.0 + 560.0 * ratio).clamp(440.0, 980.0).round() as u32;
                let root = SVGBackend::with_string(&mut buf, (w, 654)).into_drawing_area();
                landscape_svg(r, &root)
            }
        }
    })();
    res.map_err(|e| format!("cannot draw {}: {e}", p.file))?;
    Ok(buf)
}

/// Every plot of the report, as (file name, SVG text).
pub fn render_all(r: &Report) -> Result<Vec<(String, String)>, String> {
    plot_index(r)
        .iter()
        .map(|p| render(r, p).map(|s| (p.file.clone(), s)))
        .collect()
}

type Res = Result<(), Box<dyn std::error::Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

const FONT: &str = "sans-serif";
const FIT: RGBColor = RGBColor(31, 119, 180);
const BAND: RGBColor = RGBColor(44, 160, 44);
const POINT: RGBColor = RGBColor(20, 20, 20);

fn pad(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    let w = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    (lo - frac * w, hi + frac * w)
}

fn claim_plot(r: &Report, c: &json::Claim, root: &Area<'_>) -> Res {
    root.fill(&WHITE)?;
    let fit = c.fit.as_ref().ok_or("no fit")?;
    let pts: Vec<(f64, f64, f64, f64, f64)> = c
        .abscissa
        .iter()
        .zip(&c.points)
        .map(|(&x, &i)| {
            let e = &r.monte_carlo[i].mean_exit_time;
            let w = r.monte_carlo[i].exits as f64;
            (x, e.estimate.ln(), e.lo.ln(), e.hi.ln(), w)
        })
        .collect();
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y, lo, hi, _) in &pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        for v in [y, lo, hi] {
            if v.is_finite() {
                y0 = y0.min(v);
                y1 = y1.max(v);
            }
        }
    }
    let (x0, x1) = pad(x0, x1, 0.08);
    let line = |x: f64| fit.intercept.estimate + fit.slope.estimate * x;
    for x in [x0, x1] {
        let v = line(x);
        if v.is_finite() {
            y0 = y0.min(v);
            y1 = y1.max(v);
        }
    }
    let (y0, y1) = pad(y0, y1, 0.08);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("{}: ln E[exit time] against {}", c.id, c.variable),
            (FONT, 18),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(c.variable.as_str())
        .y_desc("ln E[exit time]")
        .disable_mesh()
        .draw()?;
    // The certified band through the weighted centroid.
    let wsum: f64 = pts.iter().map(|p| p.4).sum();
    if let (Some(ps), true) = (&c.predicted_slope, wsum > 0.0) {
        let xc = pts.iter().map(|p| p.0 * p.4).sum::<f64>() / wsum;
        let yc = pts.iter().map(|p| p.1 * p.4).sum::<f64>() / wsum;
        let at = |s: f64, x: f64| yc + s * (x - xc);
        if [ps.lo, ps.hi, xc, yc].iter().all(|v| v.is_finite()) {
            for xe in [x0, x1] {
                chart.draw_series(std::iter::once(Polygon::new(
                    vec![(xc, yc), (xe, at(ps.lo, xe)), (xe, at(ps.hi, xe))],
                    BAND.mix(0.25).filled(),
                )))?;
            }
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x0, at(ps.lo, x0)), (x1, at(ps.lo, x1))],
                    BAND.stroke_width(1),
                )))?
                .label("certified slope band")
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 20, y + 5)], BAND.mix(0.4).filled())
                });
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x0, at(ps.hi, x0)), (x1, at(ps.hi, x1))],
                BAND.stroke_width(1),
            )))?;
        }
    }
    chart
        .draw_series(LineSeries::new(
            [x0, x1].iter().map(|&x| (x, line(x))),
            FIT.stroke_width(2),
        ))?
        .label("weighted straight-line fit")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], FIT.stroke_width(2)));
    if let Some(pf) = &c.prefactor_fit {
        // log E = a + s x + b ln x, drawn as short dashes.
        let f = |x: f64| {
            pf.intercept.estimate + pf.slope.estimate * x + pf.log_coefficient.estimate * x.ln()
        };
        let n = 60;
        let xs: Vec<f64> = (0..=n)
            .map(|k| x0 + (x1 - x0) * k as f64 / n as f64)
            .filter(|&x| x > 0.0)
            .collect();
        let mut first = true;
        for w in xs.windows(2).step_by(2) {
            let seg = vec![(w[0], f(w[0])), (w[1], f(w[1]))];
            if seg.iter().any(|p| !p.1.is_finite()) {
                continue;
            }
            let s =
                chart.draw_series(std::iter::once(PathElement::new(seg, FIT.stroke_width(2))))?;
            if first {
                s.label("fit with log-prefactor term").legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 8, y)], FIT.stroke_width(2))
                });
                first = false;
            }
        }
    }
    chart.draw_series(
        pts.iter()
            .filter(|p| p.2.is_finite())
            .map(|&(x, y, lo, hi, _)| {
                ErrorBar::new_vertical(
                    x,
                    lo,
                    y,
                    if hi.is_finite() { hi } else { y1 },
                    POINT.stroke_width(1),
                    8,
                )
            }),
    )?;
    chart
        .draw_series(
            pts.iter()
                .map(|&(x, y, ..)| Circle::new((x, y), 3, POINT.filled())),
        )?
        .label("ln mean exit time, interval at its level")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, POINT.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()?;
    root.present()?;
    Ok(())
}

fn qq_plot(r: &Report, root: &Area<'_>, rows: usize, cols: usize) -> Res {
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(30);
    title.draw(&Text::new(
        "Quantiles of τ/mean against Exp(1) quantiles −ln(1 − p)",
        (10, 8),
        (FONT, 16).into_font(),
    ))?;
    let panels = body.split_evenly((rows, cols));
    let probs = quantile_probabilities();
    let theo: Vec<f64> = probs.iter().map(|p| -(1.0 - p).ln()).collect();
    for (i, (m, area)) in r.monte_carlo.iter().zip(panels.iter()).enumerate() {
        let qs: Vec<(f64, f64)> = theo
            .iter()
            .zip(&m.exp_quantiles)
            .filter_map(|(&t, q)| q.map(|q| (t, q)))
            .collect();
        let top = qs
            .iter()
            .map(|p| p.1)
            .fold(theo[theo.len() - 1], f64::max)
            .min(12.0)
            * 1.05;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("#{} {} κ²={:.3e}", i + 1, m.dynamics, m.kappa2),
                (FONT, 13),
            )
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(30)
            .build_cartesian_2d(0.0..top, 0.0..top)?;
        chart
            .configure_mesh()
            .x_labels(4)
            .y_labels(4)
            .disable_mesh()
            .label_style((FONT, 10))
            .draw()?;
        chart.draw_series(LineSeries::new(
            [(0.0, 0.0), (top, top)],
            RGBColor(200, 60, 60).stroke_width(1),
        ))?;
        chart.draw_series(
            qs.iter()
                .filter(|p| p.1 <= top)
                .map(|&p| Circle::new(p, 2, FIT.filled())),
        )?;
    }
    root.present()?;
    Ok(())
}

/// Colour of contour level k of n (a viridis-like ramp).
fn ramp(k: usize, n: usize) -> RGBColor {
    const A: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (220.0, 200.0, 30.0),
    ];
    let t = if n <= 1 {
        0.0
    } else {
        k as f64 / (n - 1) as f64
    } * 4.0;
    let j = (t.floor() as usize).min(3);
    let f = t - j as f64;
    let c = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    RGBColor(
        c(A[j].0, A[j + 1].0),
        c(A[j].1, A[j + 1].1),
        c(A[j].2, A[j + 1].2),
    )
}

/// Marching squares: the segments of the level set {L = c} on the grid.
pub fn contour_segments(lp: &LandscapePlot, c: f64) -> Vec<[(f64, f64); 2]> {
    let (nx, ny) = (lp.nx, lp.ny);
    let xs = |i: usize| lp.x_lo + (lp.x_hi - lp.x_lo) * i as f64 / (nx - 1) as f64;
    let ys = |j: usize| lp.y_lo + (lp.y_hi - lp.y_lo) * j as f64 / (ny - 1) as f64;
    let mut out = Vec::new();
    for j in 0..ny.saturating_sub(1) {
        for i in 0..nx.saturating_sub(1) {
            // Corners counter-clockwise: 00, 10, 11, 01.
            let idx = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
            let mut v = [0.0; 4];
            let mut ok = true;
            for (k, &(a, b)) in idx.iter().enumerate() {
                match lp.values[b * nx + a] {
                    Some(x) => v[k] = x,
                    None => ok = false,
                }
            }
            if !ok {
                continue;
            }
            let mut cross: [Option<(f64, f64)>; 4] = [None; 4];
            for e in 0..4 {
                let (a, b) = (e, (e + 1) % 4);
                if (v[a] > c) != (v[b] > c) {
                    let t = (c - v[a]) / (v[b] - v[a]);
                    let (pa, pb) = (idx[a], idx[b]);
                    let (xa, ya) = (xs(pa.0), ys(pa.1));
                    let (xb, yb) = (xs(pb.0), ys(pb.1));
                    cross[e] = Some((xa + t * (xb - xa), ya + t * (yb - ya)));
                }
            }
            let n = cross.iter().filter(|p| p.is_some()).count();
            if n == 2 {
                let p: Vec<(f64, f64)> = cross.iter().flatten().copied().collect();
                out.push([p[0], p[1]]);
            } else if n == 4 {
                let centre = 0.25 * (v[0] + v[1] + v[2] + v[3]);
                let e = |k: usize| cross[k].expect("crossing");
                if (centre > c) == (v[0] > c) {
                    out.push([e(0), e(1)]);
                    out.push([e(2), e(3)]);
                } else {
                    out.push([e(3), e(0)]);
                    out.push([e(1), e(2)]);
                }
            }
        }
    }
    out
}

/// Contour levels: `n` levels from the grid minimum to its 85% quantile, denser near the
/// minimum (quadratic spacing).
fn levels(lp: &LandscapePlot, n: usize) -> Vec<f64> {
    let mut v: Vec<f64> = lp.values.iter().flatten().copied().collect();
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    let lo = v[0];
    let hi = v[(0.85 * (v.len() - 1) as f64) as usize];
    (1..=n)
        .map(|k| lo + (hi - lo) * (k as f64 / n as f64).powi(2))
        .collect()
}

fn landscape_svg(r: &Report, root: &Area<'_>) -> Res {
    let lp = r.landscape_plot.as_ref().ok_or("no landscape data")?;
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Contours of L, domain D, minimiser box, exit path",
            (FONT, 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(lp.x_lo..lp.x_hi, lp.y_lo..lp.y_hi)?;
    chart
        .configure_mesh()
        .x_desc("θ₁")
        .y_desc("θ₂")
        .disable_mesh()
        .draw()?;
    let lv = levels(lp, 14);
    for (k, &c) in lv.iter().enumerate() {
        let col = ramp(k, lv.len());
        chart.draw_series(
            contour_segments(lp, c)
                .into_iter()
                .map(|s| PathElement::new(vec![s[0], s[1]], col.stroke_width(1))),
        )?;
    }
    let ce = &r.certified;
    let lstar = 0.5 * (ce.loss_at_min.lo + ce.loss_at_min.hi);
    let depth = lstar + ce.depth.lo;
    if depth.is_finite() {
        let segs = contour_segments(lp, depth);
        if !segs.is_empty() {
            chart
                .draw_series(
                    segs.into_iter()
                        .map(|s| PathElement::new(vec![s[0], s[1]], MAGENTA.stroke_width(2))),
                )?
                .label("L = L* + ΔL")
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], MAGENTA.stroke_width(2))
                });
        }
    }
    let grey = RGBColor(110, 110, 110);
    for (k, t) in lp.trajectories.iter().enumerate() {
        let s = chart.draw_series(LineSeries::new(
            t.iter().map(|p| (p[0], p[1])),
            grey.mix(0.45).stroke_width(1),
        ))?;
        if k == 0 {
            s.label("sample trajectories and exit points")
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(1))
                });
        }
    }
    chart.draw_series(
        lp.trajectories
            .iter()
            .filter_map(|t| t.last())
            .map(|e| Circle::new((e[0], e[1]), 3, grey.filled())),
    )?;
    if !lp.boundary.is_empty() {
        chart
            .draw_series(LineSeries::new(
                lp.boundary.iter().map(|p| (p[0], p[1])),
                BLACK.stroke_width(2),
            ))?
            .label("boundary of D")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    }
    let orange = RGBColor(255, 127, 14);
    if let Some(p) = &ce.barrier_path {
        let v: Vec<(f64, f64)> = p
            .vertices
            .iter()
            .filter(|v| v.len() == 2)
            .map(|v| (v[0], v[1]))
            .collect();
        chart
            .draw_series(LineSeries::new(v.clone(), orange.stroke_width(3)))?
            .label("certified exit path (Lemma P)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(3))
            });
        chart.draw_series(v.into_iter().map(|q| Circle::new(q, 3, orange.filled())))?;
    }
    let (lo, hi) = (&ce.minimizer.lo, &ce.minimizer.hi);
    if lo.len() == 2 && hi.len() == 2 {
        let red = RGBColor(214, 39, 40);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(lo[0], lo[1]), (hi[0], hi[1])],
            red.stroke_width(2),
        )))?;
        let mid = (0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]));
        chart
            .draw_series(std::iter::once(Cross::new(mid, 6, red.stroke_width(2))))?
            .label("minimiser box (tiny) and midpoint")
            .legend(move |(x, y)| Cross::new((x + 10, y), 5, red.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()?;
    root.present()?;
    Ok(())
}
