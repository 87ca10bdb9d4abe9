//! Data losses (THEORY §1) and minibatch SGD (E2): derivatives against finite
//! differences, the enclosure property over intervals, certified minima on a CSV fixture
//! and on a shipped data set, the exact finite-population covariance of the minibatch
//! gradient, and reproducibility across thread counts and shards.

use escapecert::certify::certify;
use escapecert::landscape::data::Preparation;
use escapecert::landscape::{DataLoss, Dataset, Domain, Landscape, Model, NoiseModel, Problem};
use escapecert::simulate::minibatch::sample_minibatch_gradient;
use escapecert::simulate::{merge_results, simulate_minibatch, Dynamics, SimConfig};
use escapecert::spec::Spec;
use inari::Interval;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::Path;
use std::sync::Arc;

/// A small synthetic table (p = 3, N rows) with 0/1 targets for the logistic model and
/// real targets otherwise; the numbers only need to be generic.
fn table(n: usize, binary: bool, seed: u64) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let p = 3;
    let x: Vec<f64> = (0..n * p).map(|_| rng.random_range(-2.0..2.0)).collect();
    let y = (0..n)
        .map(|i| {
            let s = x[i * p] - 0.5 * x[i * p + 1] + 0.25 * x[i * p + 2];
            if binary {
                f64::from(u8::from(s + rng.random_range(-1.0..1.0) > 0.0))
            } else {
                (s).tanh() + 0.3 * rng.random_range(-1.0..1.0)
            }
        })
        .collect();
    Dataset {
        source: "synthetic".into(),
        feature_names: vec!["a".into(), "b".into(), "c".into()],
        target_name: "y".into(),
        x,
        y,
    }
}

fn loss(model: Model, n: usize) -> DataLoss {
    let prep = Preparation {
        standardize: true,
        threshold: None,
    };
    DataLoss::new(model, table(n, model == Model::Logistic, 11), 0.05, &prep).unwrap()
}

const MODELS: [Model; 3] = [Model::Linear, Model::Logistic, Model::Mlp { hidden: 3 }];

fn random_theta(d: usize, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..d).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// Central differences: error O(h²) ≈ 1e-8 relative with h = 1e-4 plus rounding
/// ≈ 1e-16/h = 1e-12; the tolerance 1e-6 leaves a wide margin and would catch any wrong
/// derivative term (whose error is O(1)).
#[test]
fn gradient_and_hessian_match_central_differences() {
    for model in MODELS {
        let dl = loss(model, 25);
        let d = dl.dim();
        let th = random_theta(d, 3);
        let mut g = vec![0.0; d];
        let v = dl.gradient(&th, &mut g);
        assert!((v - dl.value(&th)).abs() <= 1e-14 * (1.0 + v.abs()));
        let mut h = vec![0.0; d * d];
        dl.hessian(&th, &mut h);
        let mut hd = vec![0.0; d * d];
        dl.hessian_dual(&th, &mut hd);
        for k in 0..d * d {
            assert!(
                (hd[k] - h[k]).abs() < 1e-12 * (1.0 + h[k].abs()),
                "{model:?} dual vs analytic [{k}]"
            );
        }
        let step = 1e-4;
        for j in 0..d {
            let (mut a, mut b) = (th.clone(), th.clone());
            a[j] += step;
            b[j] -= step;
            let fd = (dl.value(&a) - dl.value(&b)) / (2.0 * step);
            assert!((fd - g[j]).abs() < 1e-6, "{model:?} ∂{j}: {fd} vs {}", g[j]);
            let (mut ga, mut gb) = (vec![0.0; d], vec![0.0; d]);
            dl.gradient(&a, &mut ga);
            dl.gradient(&b, &mut gb);
            for k in 0..d {
                let fd = (ga[k] - gb[k]) / (2.0 * step);
                assert!(
                    (fd - h[k * d + j]).abs() < 1e-6,
                    "{model:?} ∂²{k},{j}: {fd} vs {}",
                    h[k * d + j]
                );
            }
        }
        // The mean of the per-example gradients is the full gradient.
        let mut mean = vec![0.0; d];
        let mut gi = vec![0.0; d];
        for i in 0..dl.n {
            dl.example_gradient(&th, i, &mut gi);
            for k in 0..d {
                mean[k] += gi[k] / dl.n as f64;
            }
        }
        for k in 0..d {
            assert!((mean[k] - g[k]).abs() < 1e-12, "{model:?}");
        }
    }
}

/// Σ(θ) against its definition computed from the per-example gradients in another order
/// (uncentred: (1/N) Σ g_i g_iᵀ − ḡ ḡᵀ).
#[test]
fn covariance_matches_its_definition() {
    for model in MODELS {
        let dl = loss(model, 30);
        let d = dl.dim();
        let th = random_theta(d, 5);
        let mut sig = vec![0.0; d * d];
        dl.covariance(&th, &mut sig);
        let mut gs = Vec::new();
        for i in 0..dl.n {
            let mut gi = vec![0.0; d];
            dl.example_gradient(&th, i, &mut gi);
            gs.push(gi);
        }
        let n = dl.n as f64;
        for a in 0..d {
            for b in 0..d {
                let m2: f64 = gs.iter().map(|g| g[a] * g[b]).sum::<f64>() / n;
                let ma: f64 = gs.iter().map(|g| g[a]).sum::<f64>() / n;
                let mb: f64 = gs.iter().map(|g| g[b]).sum::<f64>() / n;
                let want = m2 - ma * mb;
                assert!(
                    (sig[a * d + b] - want).abs() < 1e-12 * (1.0 + want.abs()),
                    "{model:?} Σ[{a}][{b}]"
                );
            }
        }
    }
}

fn interval_box(center: &[f64], w: f64) -> Vec<Interval> {
    center
        .iter()
        .map(|&c| Interval::try_from((c - w, c + w)).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Enclosure property: for θ in the box X, the f64 value, gradient, Hessian and
    /// per-example covariance lie in their interval enclosures over X (f64 rounding error
    /// is far below the enclosures' width; a point evaluation at the box's own corners is
    /// included through `t`).
    #[test]
    fn enclosure_property(which in 0usize..3, seed in 0u64..1000, w in 1e-6f64..0.2, t in proptest::collection::vec(-1.0f64..1.0, 40)) {
        let dl = loss(MODELS[which], 12);
        let d = dl.dim();
        let c = random_theta(d, seed);
        let bx = interval_box(&c, w);
        let x: Vec<f64> = (0..d).map(|k| c[k] + w * t[k]).collect();
        let v = dl.value(&bx);
        prop_assert!(v.contains(dl.value(&x)));
        let mut gi = vec![Interval::EMPTY; d];
        let mut g = vec![0.0; d];
        dl.gradient(&bx, &mut gi);
        dl.gradient(&x, &mut g);
        for k in 0..d { prop_assert!(gi[k].contains(g[k]), "∇[{k}]"); }
        let mut hi = vec![Interval::EMPTY; d * d];
        let mut h = vec![0.0; d * d];
        dl.hessian(&bx, &mut hi);
        dl.hessian(&x, &mut h);
        for k in 0..d * d { prop_assert!(hi[k].contains(h[k]), "∇²[{k}]"); }
        let l = Landscape::Data(Arc::new(dl));
        let mut si = vec![Interval::EMPTY; d * d];
        let mut s = vec![0.0; d * d];
        NoiseModel::Data.covariance(&l, &bx, &mut si);
        NoiseModel::Data.covariance(&l, &x, &mut s);
        for k in 0..d * d { prop_assert!(si[k].contains(s[k]), "Σ[{k}]"); }
    }
}

fn spec_text(landscape: &str, radius: f64, extra: &str) -> String {
    format!(
        "name = \"t\"\n[landscape]\nkind = \"data\"\n{landscape}\n[domain]\nkind = \"ball\"\nradius = {radius}\n[noise]\nkind = \"data\"\n[sgd]\neta = 0.1\nbatch = [2]\n[monte_carlo]\ntrials = 16\nmax_steps = 2000\n{extra}[certify]\nmax_boxes = 2000\n"
    )
}

/// A spec "in" tests/data, so that relative data paths resolve there.
fn spec(landscape: &str, radius: f64, extra: &str) -> Spec {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/inline.toml");
    Spec::from_str(&file, &spec_text(landscape, radius, extra)).unwrap()
}

/// The certified minimiser of a data loss: Krawczyk succeeded (unique critical point in
/// the box), the Hessian is certified positive definite there, and the f64 optimiser's
/// point lies in the box.
fn assert_certified_minimum(spec: &Spec) -> Problem {
    let problem = Problem::from_spec(spec).unwrap();
    let cert = certify(spec, &problem).unwrap();
    let m = &cert.minimizer;
    assert!(m.eig.min.inf() > 0.0);
    for (k, x) in m.x.iter().enumerate() {
        // The optimiser's f64 point guides the proof; it need not lie in X, but close.
        assert!(
            (x.mid() - problem.guess[k]).abs() < 1e-6,
            "coordinate {k}: {x:?} vs {}",
            problem.guess[k]
        );
        assert!(x.wid() < 1e-6, "coordinate {k}: width {}", x.wid());
    }
    problem
}

#[test]
fn logistic_minimum_on_csv_fixture_is_certified() {
    let p = assert_certified_minimum(&spec(
        "model = \"logistic\"\ndata = \"logistic_small.csv\"\ntarget = \"label\"\nl2 = 0.01",
        0.5,
        "",
    ));
    assert_eq!(p.landscape.dim(), 3);
}

#[test]
fn linear_minimum_on_shipped_diabetes_is_certified() {
    let p = assert_certified_minimum(&spec(
        "model = \"linear\"\ndataset = \"diabetes\"\nl2 = 0.001",
        0.5,
        "",
    ));
    let Landscape::Data(dl) = &p.landscape else {
        panic!()
    };
    assert_eq!((dl.n, dl.p, dl.dim()), (441, 10, 11));
}

/// The minibatch gradient at fixed θ (B of N without replacement) has covariance exactly
/// Σ(θ)/B · (N − B)/(N − 1): the covariance of the mean of a simple random sample without
/// replacement (Cochran, Sampling Techniques, 3rd ed. 1977, Theorem 2.2 and §2.9 for the
/// covariance, with the population variance taken with divisor N). Checked with N = 20,
/// B = 15, where the finite-population factor 5/19 is far from 1 (so dropping it fails),
/// from M = 40 000 draws. Each of the 6 distinct entries of the empirical covariance must
/// lie within 5 standard errors of the exact value, its standard error estimated from the
/// draws (delta method: the sample variance of the products of centred coordinates, / M).
/// By the CLT the false-failure rate is at most about 6 · P(|Z| > 5) ≈ 3.4e-6.
#[test]
fn minibatch_gradient_covariance_is_the_finite_population_formula() {
    let dl = loss(Model::Logistic, 20);
    let (n, b, m) = (20usize, 15usize, 40_000usize);
    let d = dl.dim();
    let th = random_theta(d, 9);
    let mut sig = vec![0.0; d * d];
    dl.covariance(&th, &mut sig);
    let mut full = vec![0.0; d];
    dl.gradient(&th, &mut full);
    let factor = (n - b) as f64 / (b as f64 * (n - 1) as f64);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
    let mut perm: Vec<usize> = (0..n).collect();
    let mut draws = Vec::with_capacity(m);
    let mut g = vec![0.0; d];
    for _ in 0..m {
        sample_minibatch_gradient(&dl, &th, b, &mut rng, &mut perm, &mut g);
        // Centred at the exact mean ∇L (the minibatch gradient is unbiased).
        draws.push(
            g.iter()
                .zip(&full)
                .map(|(a, c)| a - c)
                .collect::<Vec<f64>>(),
        );
    }
    for a in 0..d {
        for c in a..d {
            let prods: Vec<f64> = draws.iter().map(|v| v[a] * v[c]).collect();
            let mean = prods.iter().sum::<f64>() / m as f64;
            let var = prods.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (m - 1) as f64;
            let se = (var / m as f64).sqrt();
            let exact = sig[a * d + c] * factor;
            assert!(
                (mean - exact).abs() < 5.0 * se,
                "Σ[{a}][{c}]: empirical {mean:.6e}, exact {exact:.6e}, se {se:.2e}"
            );
        }
    }
}

fn minibatch_setup() -> (Landscape, Domain, SimConfig) {
    let dl = loss(Model::Logistic, 40);
    let th = dl.minimize(&dl.default_init(), 100).0;
    let cfg = SimConfig {
        dynamics: Dynamics::Minibatch,
        eta: 0.5,
        batch: 2,
        trials: 37,
        seed: 5,
        max_steps: 8,
        dt: 1.0,
        start: th.clone(),
        bridge: false,
        shard: Default::default(),
    };
    let domain = Domain::Ball {
        center: th,
        radius: 0.4,
    };
    (Landscape::Data(Arc::new(dl)), domain, cfg)
}

/// Same seed ⇒ the same outcomes on 1 and 2 threads, and shards 0/3, 1/3, 2/3 merge into
/// exactly the unsharded result. (The case exits and censors: both kinds of outcome occur.)
#[test]
fn minibatch_is_reproducible_across_threads_and_shards() {
    let (l, dom, cfg) = minibatch_setup();
    let run = |threads: usize, cfg: &SimConfig| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| simulate_minibatch(&l, &dom, cfg, &|_| {}).unwrap())
    };
    let one = run(1, &cfg);
    let two = run(2, &cfg);
    assert_eq!(one, two);
    assert!(
        one.exits > 0 && one.censored > 0,
        "{} exits {:?}",
        one.exits,
        one.exit_times
    );
    let parts: Vec<_> = (0..3)
        .map(|k| {
            run(
                2,
                &SimConfig {
                    shard: format!("{k}/3").parse().unwrap(),
                    ..cfg.clone()
                },
            )
        })
        .collect();
    assert_eq!(merge_results(&parts).unwrap(), one);
}

/// A batch larger than the data set is an error, not a panic.
#[test]
fn minibatch_batch_larger_than_data_is_an_error() {
    let (l, dom, cfg) = minibatch_setup();
    let e = simulate_minibatch(
        &l,
        &dom,
        &SimConfig {
            batch: 41,
            ..cfg.clone()
        },
        &|_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("41") && e.to_string().contains("40 rows"));
}

/// The verify pipeline on a minibatch spec: a report with one T2 minibatch claim per η,
/// iterations as the unit, and the point seeds' results independent of thread count.
#[test]
fn verify_runs_minibatch_points() {
    let s = spec(
        "model = \"logistic\"\ndata = \"logistic_small.csv\"\ntarget = \"label\"\nl2 = 0.05",
        0.3,
        "seed = 3\n",
    );
    let opts = escapecert::run::Options {
        quiet: true,
        check_dt: false,
    };
    let r = escapecert::run::verify(&s, &opts).unwrap();
    let text = serde_json::to_string(&r).unwrap();
    assert!(text.contains("\"minibatch\""));
    assert!(text.contains("T2 minibatch"));
}

/// `rows = n` keeps n rows of the shipped data set, reproducibly.
#[test]
fn rows_subsample_the_data_set() {
    let s = spec(
        "model = \"linear\"\ndataset = \"winequality\"\nrows = 100",
        0.5,
        "",
    );
    let a = Problem::from_spec(&s).unwrap();
    let b = Problem::from_spec(&s).unwrap();
    let (Landscape::Data(da), Landscape::Data(db)) = (&a.landscape, &b.landscape) else {
        panic!()
    };
    assert_eq!((da.n, da.p), (100, 11));
    assert!(da.source.contains("100 of 1599 rows"));
    assert_eq!(format!("{da:?}"), format!("{db:?}"));
}
