//! report.md: a human-readable rendering of report.json.
//!
//! Certified enclosures are printed with outward-rounded decimals (the printed lower end
//! is ≤ the binary64 lower bound, the printed upper end ≥ the upper bound), so the
//! printed interval is still an enclosure; report.json holds the exact binary64 bounds.

use super::json::{Bounds, Report};
use std::fmt::Write;

/// Significant digits of certified numbers in report.md.
pub const DIGITS: usize = 10;

fn step_decimal(s: &str, up: bool) -> String {
    // s = "[-]d.ddddde[-]x": move the last mantissa digit by one unit.
    let (mant, exp) = s.split_once('e').expect("exponent format");
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let frac_len = digits.len() - 1;
    let mut m: i128 = digits.parse().expect("digits");
    if neg {
        m = -m;
    }
    m += if up { 1 } else { -1 };
    let e: i32 = exp.parse().expect("exponent");
    format!("{}e{}", m, e - frac_len as i32)
}

/// A decimal ≤ x (for lower bounds), with `DIGITS` significant digits.
pub fn fmt_lower(x: f64) -> String {
    outward(x, false)
}

/// A decimal ≥ x (for upper bounds).
pub fn fmt_upper(x: f64) -> String {
    outward(x, true)
}

/// A decimal strictly on the outward side of x (or equal to it when x is 0 or infinite).
/// `parse(s) < x` implies `s < x` (rounding to nearest is monotone and x is a double);
/// otherwise the last digit is stepped outward, which moves by more than the rounding
/// error of s and, for normal numbers, by more than one ulp. Each candidate is accepted
/// only once its parsed value is strictly outside x; below the normal range, where a
/// step can be smaller than the gap between subnormals, the fallback is 0 or ±1e-300.
fn outward(x: f64, up: bool) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let outside = |v: f64| if up { v > x } else { v < x };
    let mut s = format!("{:.*e}", DIGITS - 1, x);
    for _ in 0..3 {
        if s.parse::<f64>().map_or(false, outside) {
            return pretty(&s);
        }
        s = step_decimal(&s, up);
    }
    match (up, x > 0.0) {
        (false, true) => "0".into(),
        (true, false) => "0".into(),
        (false, false) => "-1e-300".into(),
        (true, true) => "1e-300".into(),
    }
}

/// Normalises a decimal string through f64 for display. Called only when the parsed value
/// v is strictly outside the bound x; the shortest decimal that parses to v then lies
/// strictly outside x too (a decimal on the other side of x would parse to a value on
/// that side).
fn pretty(s: &str) -> String {
    let v: f64 = s.parse().unwrap_or(f64::NAN);
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// "[lo, hi]" with outward-rounded decimals.
pub fn fmt_enclosure(b: &Bounds) -> String {
    format!("[{}, {}]", fmt_lower(b.lo), fmt_upper(b.hi))
}

/// A level as a percentage without trailing zeros.
fn pct(level: f64) -> String {
    let p = format!("{:.4}", 100.0 * level);
    format!("{}%", p.trim_end_matches('0').trim_end_matches('.'))
}

fn est(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{x:.4e}")
    } else {
        format!("{}", (x * 1e4).round() / 1e4)
    }
}

/// Renders report.md.
pub fn render_markdown(r: &Report) -> String {
    let mut s = String::new();
    let p = &r.problem;
    let _ = writeln!(s, "# escapecert report: {}\n", p.spec_name);
    if let Some(part) = &r.partial {
        let _ = writeln!(
            s,
            "> **PARTIAL REPORT** — {}: {} of {} sweep points finished. Every claim is INCONCLUSIVE until the run is complete; `{}` continues it from its checkpoint.\n",
            part.reason, part.finished_points, part.points, part.resume
        );
    }
    if let Some(d) = &p.description {
        let _ = writeln!(s, "{d}\n");
    }
    let _ = writeln!(
        s,
        "**Verdict: {}** (exit code {}; {} with --strict): {} claim(s); family-wise confidence {} (Holm–Bonferroni: the claim with the r-th smallest p-value is decided at level 1 − (1 − {})/({} − r + 1) while every claim before it disagreed; each claim's level is stated below).\n",
        r.summary.verdict, r.summary.exit_code, r.summary.exit_code_strict, r.summary.claims, r.summary.confidence, r.summary.confidence, r.summary.claims.max(1)
    );
    let _ = writeln!(s, "## Claims\n");
    let _ = writeln!(s, "| claim | verdict | certified | estimated | why |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for c in &r.claims {
        let cert = c.certified.as_ref().map_or("—".to_string(), |b| {
            fmt_enclosure(&Bounds { lo: b.lo, hi: b.hi })
        });
        let e = c.estimated.as_ref().map_or("—".to_string(), |e| {
            format!(
                "{} [{}, {}] ({} level, n = {})",
                est(e.estimate),
                est(e.lo),
                est(e.hi),
                pct(e.level),
                e.n
            )
        });
        let _ = writeln!(
            s,
            "| {} | **{}** | {} | {} | {} |",
            c.id,
            c.verdict,
            cert,
            e,
            c.reason.replace('|', "\\|")
        );
    }
    for c in &r.claims {
        let _ = writeln!(s, "\n- **{}**: {}", c.id, c.statement);
        let _ = writeln!(
            s,
            "  - decided at level {} (Holm-adjusted), p-value of the test {}",
            pct(c.level),
            est(c.p_value)
        );
        if let Some(ps) = &c.predicted_slope {
            let _ =
                writeln!(
                s,
                "  - slope of log E against {}: predicted from the certified barrier {} ({}), fitted {}",
                c.variable,
                fmt_enclosure(&Bounds { lo: ps.lo, hi: ps.hi }),
                if c.id.starts_with("T4") {
                    "proofs/scaling-law-slope.md"
                } else {
                    "proofs/predicted-slope.md"
                },
                c.estimated.as_ref().map_or("—".to_string(), |e| format!(
                    "{} [{}, {}]",
                    est(e.estimate),
                    est(e.lo),
                    est(e.hi)
                ))
            );
        }
        if let Some(cs) = &c.certified {
            let _ = writeln!(s, "  - certified side: {}", cs.method);
        }
        if !c.test.is_empty() {
            let _ = writeln!(s, "  - test: {} ({} trajectories)", c.test, c.n);
        }
        for d in &c.details {
            let _ = writeln!(s, "  - {d}");
        }
        if let Some(cause) = &c.inconclusive_cause {
            let _ = writeln!(
                s,
                "  - inconclusive because: {cause}{}",
                c.trials_needed.map_or(String::new(), |t| format!(
                    " (about {t} trajectories in total would decide)"
                ))
            );
        }
        if let Some(f) = &c.fit {
            let _ = writeln!(
                s,
                "  - fit: weighted least squares of log E[exit time] on {}, slope {} [{}, {}], intercept {} [{}, {}], χ² = {} on {} dof (p = {}); {}",
                if c.variable.is_empty() { "1/κ²" } else { &c.variable },
                est(f.slope.estimate), est(f.slope.lo), est(f.slope.hi),
                est(f.intercept.estimate), est(f.intercept.lo), est(f.intercept.hi),
                est(f.chi2), f.dof, est(f.p_value), f.slope.method
            );
        }
        if let Some(f) = &c.prefactor_fit {
            let _ = writeln!(
                s,
                "  - fit with log-prefactor term: V {} [{}, {}], b {} [{}, {}], χ² = {} on {} dof (p = {})",
                est(f.slope.estimate), est(f.slope.lo), est(f.slope.hi),
                est(f.log_coefficient.estimate), est(f.log_coefficient.lo), est(f.log_coefficient.hi),
                est(f.chi2), f.dof, est(f.p_value)
            );
        }
        if let Some(f) = &c.corrected_fit {
            let _ = writeln!(
                s,
                "  - the log-prefactor slope misses, so the prefactor's first correction is fitted too: V {} [{}, {}], b {} [{}, {}], c {} [{}, {}], χ² = {} on {} dof (p = {})",
                est(f.slope.estimate), est(f.slope.lo), est(f.slope.hi),
                est(f.log_coefficient.estimate), est(f.log_coefficient.lo), est(f.log_coefficient.hi),
                est(f.correction.estimate), est(f.correction.lo), est(f.correction.hi),
                est(f.chi2), f.dof, est(f.p_value)
            );
        }
        if !c.model.is_empty() {
            let _ = writeln!(
                s,
                "  - the estimate compared comes from the model {}",
                c.model
            );
        }
        if !c.excluded.is_empty() {
            let _ = writeln!(
                s,
                "  - left out as pre-asymptotic (V̄/κ² < 4): Monte Carlo rows {:?}",
                c.excluded.iter().map(|i| i + 1).collect::<Vec<_>>()
            );
        }
        if !c.hypotheses_certified {
            let _ = writeln!(
                s,
                "  - hypotheses (H1)/(H2) not certified: this claim cannot pass."
            );
        }
    }

    let ce = &r.certified;
    if let Some(pc) = &r.paper {
        s.push_str(&crate::paper::markdown(pc));
    }
    if let Some(rg) = &r.regime {
        s.push_str(&super::regime::markdown(rg));
    }
    let _ = writeln!(s, "\n## Certified (outward-rounded interval arithmetic)\n");
    let _ = writeln!(s, "Every number in this table is a rigorous enclosure; printed decimals are rounded outward.\n");
    let _ = writeln!(s, "| quantity | enclosure | how |");
    let _ = writeln!(s, "|---|---|---|");
    for i in 0..ce.minimizer.lo.len().min(12) {
        let _ = writeln!(
            s,
            "| θ*{} | {} | Krawczyk: unique critical point in this box |",
            if ce.minimizer.lo.len() > 1 {
                format!("[{}]", i + 1)
            } else {
                String::new()
            },
            fmt_enclosure(&Bounds {
                lo: ce.minimizer.lo[i],
                hi: ce.minimizer.hi[i]
            })
        );
    }
    if ce.minimizer.lo.len() > 12 {
        let _ = writeln!(
            s,
            "| θ*[13…{}] | see report.json | |",
            ce.minimizer.lo.len()
        );
    }
    let _ = writeln!(
        s,
        "| L* = L(θ*) | {} | interval evaluation over the minimiser box |",
        fmt_enclosure(&ce.loss_at_min)
    );
    let _ = writeln!(
        s,
        "| sharpness λ_max(∇²L(θ*)) | {} | Gershgorin after similarity + Rayleigh quotient |",
        fmt_enclosure(&ce.sharpness)
    );
    let _ = writeln!(
        s,
        "| λ_min(∇²L(θ*)) | {} | same |",
        fmt_enclosure(&ce.lambda_min)
    );
    let _ = writeln!(
        s,
        "| depth ΔL | {} | {} |",
        fmt_enclosure(&ce.depth),
        ce.depth_method
    );
    let _ = writeln!(
        s,
        "| barrier V̄ (continuous) | {} | lower ({}): {}; upper: {} |",
        ce.barrier
            .as_ref()
            .map_or("not available".into(), fmt_enclosure),
        ce.barrier_lower_family,
        ce.barrier_method.lower,
        ce.barrier_method.upper
    );
    for h in &ce.hj {
        let _ = writeln!(
            s,
            "| Lemma HJ {} lower bound | ≥ {:e} | {} |",
            h.family, h.lower, h.detail
        );
    }
    let _ = writeln!(
        s,
        "| steepness s⁻(D) | {} | {} |",
        fmt_enclosure(&ce.steepness.s_minus),
        ce.steepness.method
    );
    let _ = writeln!(
        s,
        "| steepness s⁺(D) | {} | same |",
        fmt_enclosure(&ce.steepness.s_plus)
    );
    for b in &ce.barrier_discrete {
        let _ = writeln!(
            s,
            "| barrier V̄_η (discrete, η = {}) | {} | {} |",
            b.eta,
            b.barrier
                .as_ref()
                .map_or("not available".into(), fmt_enclosure),
            b.method
        );
    }
    let with_detail: Vec<_> = ce
        .barrier_discrete
        .iter()
        .filter(|b| b.certificate.is_some() || b.path.is_some())
        .collect();
    if !with_detail.is_empty() {
        let _ = writeln!(
            s,
            "\nDiscrete barrier certificates (THEORY E10, E11; all parameters in report.json):\n"
        );
        for b in with_detail {
            let cert = b
                .certificate
                .as_ref()
                .map_or("no E11 certificate".into(), |c| {
                    format!("E11 γ = {:e}, P = {:?}", c.gamma, c.p)
                });
            let path = b.path.as_ref().map_or("no E10 path".into(), |p| {
                format!(
                    "E10 path of {} steps ending at {:?}",
                    p.len(),
                    p.last().cloned().unwrap_or_default()
                )
            });
            let _ = writeln!(s, "- η = {}: {cert}; {path}", b.eta);
        }
    }
    let _ = writeln!(s, "\nHypotheses (THEORY §3):\n");
    for (name, holds) in &ce.hypotheses {
        let detail = ce.hypotheses_detail.get(name).cloned().unwrap_or_default();
        let _ = writeln!(
            s,
            "- ({name}) {}: {detail}",
            if *holds { "certified" } else { "NOT certified" }
        );
    }
    let _ = writeln!(
        s,
        "\nBranch-and-bound boxes: {}. Proofs: {}.",
        ce.boxes,
        ce.proofs.join(", ")
    );

    if let Some(sw) = &r.sweep {
        render_sweep(&mut s, sw);
    }
    let _ = writeln!(s, "\n## Monte Carlo\n");
    let _ = writeln!(
        s,
        "Mean exit times with censored-exponential χ² intervals (THEORY §7); censored runs count as censored, never as exits.\n"
    );
    let _ = writeln!(s, "| # | dynamics | η | B | κ² | method | trials | exits | censored | mean exit time | interval | level | unit | certified exact E[τ] |");
    let _ = writeln!(
        s,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for (row, m) in r.monte_carlo.iter().enumerate() {
        let e = &m.mean_exit_time;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | [{}, {}] | {} | {} | {} |",
            row + 1,
            m.dynamics,
            m.eta,
            m.batch,
            est(m.kappa2),
            m.method,
            m.trials,
            m.exits,
            m.censored,
            est(e.estimate),
            est(e.lo),
            est(e.hi),
            e.level,
            m.unit,
            m.mean_exit_time_exact
                .as_ref()
                .map_or("—".to_string(), |x| fmt_enclosure(&Bounds {
                    lo: x.lo,
                    hi: x.hi
                }))
        );
    }

    render_splitting(&mut s, r);
    render_local_slopes(&mut s, r);

    let _ = writeln!(s, "\nFurther statistics of the exit times (level {}): t and bootstrap intervals of the mean (uncensored points only), Kaplan–Meier median, and the Lilliefors-type test of τ/mean against Exp(1) (Monte Carlo p-value).\n", r.settings.confidence);
    let _ = writeln!(s, "| # | mean, t interval | mean, bootstrap | median [interval] | Exp(1) test: KS distance, p-value |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    let iv_str = |e: &Option<crate::stats::Estimate>| {
        e.as_ref().map_or("—".to_string(), |e| {
            format!("{} [{}, {}]", est(e.estimate), est(e.lo), est(e.hi))
        })
    };
    for (i, m) in r.monte_carlo.iter().enumerate() {
        let st = &m.statistics;
        let gof = st.exponential_gof.as_ref().map_or("—".to_string(), |g| {
            format!(
                "{}, p = {} ± {}",
                est(g.statistic),
                est(g.p_value),
                est(g.p_value_se)
            )
        });
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            i + 1,
            iv_str(&st.mean_t),
            iv_str(&st.mean_bootstrap),
            iv_str(&st.median),
            gof
        );
    }

    let checks: Vec<_> = r
        .monte_carlo
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.dt_check.as_ref().map(|c| (i, c)))
        .collect();
    if !checks.is_empty() {
        let _ = writeln!(
            s,
            "\nTime-step check (`--check-dt`): each continuous point rerun at dt/2.\n"
        );
        let _ = writeln!(
            s,
            "| # | dt/2 | mean exit time | interval | agrees with dt |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|");
        for (i, c) in checks {
            let e = &c.mean_exit_time;
            let _ = writeln!(
                s,
                "| {} | {} | {} | [{}, {}] | {} |",
                i + 1,
                c.dt,
                est(e.estimate),
                est(e.lo),
                est(e.hi),
                if c.agrees { "yes" } else { "**no**" }
            );
        }
    }

    s.push_str(&super::plot::markdown_section(r));

    let st = &r.settings;
    let _ = writeln!(s, "\n## Parameters\n");
    let _ = writeln!(s, "- spec: `{}` ({})", p.spec_file, p.spec_name);
    let _ = writeln!(s, "- landscape: {} (d = {})", p.landscape, p.dim);
    let _ = writeln!(s, "- domain: {}", p.domain);
    let _ = writeln!(
        s,
        "- start: the midpoint of the minimiser box, {:?}",
        ce.start.iter().take(12).collect::<Vec<_>>()
    );
    let _ = writeln!(s, "- noise: {}", p.noise);
    let _ = writeln!(s, "- η: {:?}; B: {:?}", p.eta, p.batch);
    let _ = writeln!(
        s,
        "- Monte Carlo: {} trials per point, seed {}, confidence {}, max_steps {}, dt {} (continuous), dynamics {:?}",
        st.trials, st.seed, st.confidence, st.max_steps, st.dt, st.dynamics
    );
    let _ = writeln!(
        s,
        "- certify: at most {} branch-and-bound boxes",
        st.max_boxes
    );
    let _ = writeln!(
        s,
        "- tool: {} {} (report format {})",
        r.tool.name, r.tool.version, r.format_version
    );
    s
}

/// The splitting points: how their estimates were made (src/simulate/splitting.rs,
/// proofs/splitting-mean-exit-time.md).
fn render_splitting(s: &mut String, r: &Report) {
    let rows: Vec<_> = r
        .monte_carlo
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.splitting.as_ref().map(|e| (i, e)))
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nSplitting points (adaptive multilevel splitting; proofs/splitting-mean-exit-time.md): E[τ] = E[T₀] + q((1/p − 1)E[T_loop] + E[U] + E[V]) with p = P(reach ∂D before A = {{ξ ≤ inner level}} from the outer level) from independent AMS replicas and the cycle times from direct cycles; intervals by the delta method over replicas (Student t, replicas − 1 degrees of freedom, log scale), at the level of the table above.\n"
    );
    let _ = writeln!(
        s,
        "| # | reaction coordinate ξ | levels (inner, outer) | p [interval] | cycle time [interval] | replicas × particles | effective replicas | cycles | particle-steps |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    let mut heavy = Vec::new();
    for (i, e) in rows {
        if e.effective_replicas < 0.5 * e.replicas as f64 {
            heavy.push(i + 1);
        }
        let _ = writeln!(
            s,
            "| {} | {} | {}, {} | {} [{}, {}] | {} [{}, {}] | {} × {} | {} | {} | {} |",
            i + 1,
            e.coordinate.describe_short(),
            est(e.inner_level),
            est(e.outer_level),
            est(e.probability),
            est(e.probability_lower),
            est(e.probability_upper),
            est(e.cycle_mean),
            est(e.cycle_lower),
            est(e.cycle_upper),
            e.replicas,
            e.particles,
            est(e.effective_replicas),
            e.cycles,
            e.total_steps
        );
    }
    if !heavy.is_empty() {
        let _ = writeln!(
            s,
            "\n**Warning:** at rows {heavy:?} fewer than half of the replicas carry the estimate (effective replicas (Σp̂)²/Σp̂² < replicas/2): p̂ is heavy-tailed there (a reaction coordinate far from the committor), and the replica spread may understate the error; raise `[splitting] replicas` or `particles`."
        );
    }
}

/// Local slopes of ln E[τ] against 1/κ² next to the certified barrier
/// (src/report/slopes.rs).
fn render_local_slopes(s: &mut String, r: &Report) {
    if r.local_slopes.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nLocal slopes of ln E[τ] against 1/κ² between neighbouring κ² (THEORY T1/T2: κ² ln E[τ] → V̄ as κ² → 0). Each interval is normal at level {} on its own (descriptive; the verdicts are the claims'); a local slope includes the prefactor's change, of relative order κ²/V̄.\n",
        r.settings.confidence
    );
    let _ = writeln!(
        s,
        "| series | rows | κ² | methods | local slope | interval | certified V̄ |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for l in &r.local_slopes {
        let _ = writeln!(
            s,
            "| {} | {} → {} | {} → {} | {} → {} | {} | [{}, {}] | {} |",
            l.series,
            l.rows[0],
            l.rows[1],
            est(l.kappa2[0]),
            est(l.kappa2[1]),
            l.methods[0],
            l.methods[1],
            est(l.slope),
            est(l.lo),
            est(l.hi),
            l.certified
                .map_or("—".to_string(), |c| fmt_enclosure(&Bounds {
                    lo: c[0],
                    hi: c[1]
                }))
        );
    }
}

/// The instances of a `[sweep]`: their certified quantities and Monte Carlo rows.
fn render_sweep(s: &mut String, sw: &super::json::Sweep) {
    let _ = writeln!(
        s,
        "\n## Sweep instances ({} = …, T4 against {})\n",
        sw.key, sw.against
    );
    let _ = writeln!(s, "One certification per instance; every enclosure is outward rounded. θ* is shown by its widest coordinate enclosure; all coordinates are in report.json.\n");
    let _ = writeln!(
        s,
        "| # | {} | θ* (widest coordinate) | λ_max | ΔL | V̄ (continuous) | V̄_η (discrete) | (H1), (H2) | Monte Carlo rows |",
        sw.key
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for (k, inst) in sw.instances.iter().enumerate() {
        let c = &inst.certified;
        let widest = (0..c.minimizer.lo.len())
            .max_by(|&a, &b| {
                (c.minimizer.hi[a] - c.minimizer.lo[a])
                    .total_cmp(&(c.minimizer.hi[b] - c.minimizer.lo[b]))
            })
            .map_or("—".to_string(), |i| {
                format!(
                    "θ*[{}] ∈ {}",
                    i + 1,
                    fmt_enclosure(&Bounds {
                        lo: c.minimizer.lo[i],
                        hi: c.minimizer.hi[i]
                    })
                )
            });
        let disc: Vec<String> = c
            .barrier_discrete
            .iter()
            .map(|b| {
                format!(
                    "η = {}: {}",
                    b.eta,
                    b.barrier.as_ref().map_or("—".into(), fmt_enclosure)
                )
            })
            .collect();
        let hyp: Vec<String> = c
            .hypotheses
            .iter()
            .map(|(n, h)| format!("{n} {}", if *h { "✓" } else { "✗" }))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:?} |",
            k + 1,
            inst.value,
            widest,
            fmt_enclosure(&c.sharpness),
            fmt_enclosure(&c.depth),
            c.barrier.as_ref().map_or("—".into(), fmt_enclosure),
            if disc.is_empty() {
                "—".to_string()
            } else {
                disc.join("; ")
            },
            hyp.join(", "),
            inst.points.iter().map(|i| i + 1).collect::<Vec<_>>()
        );
    }
}
