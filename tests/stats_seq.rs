//! Tests of `escapecert::stats::SequentialPlan` (`trials = "auto"`): the schedule, the
//! decisions, and the coverage of the reported interval under the stopping rule.
//!
//! The coverage test repeats the whole sequential procedure 1000 times at a fixed seed;
//! its threshold `k` is the smallest count with `P(Binomial(1000, p0) < k) < 1e-4`
//! (scipy.stats.binom.cdf) for `p0` = the claimed coverage, so a correct implementation
//! fails with probability < 1e-4 over the choice of seed.

use escapecert::stats::{censored_exponential_mean, Estimate, SequentialPlan, StatsError};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use rand_xoshiro::Xoshiro256PlusPlus;

fn estimate(estimate: f64, lo: f64, hi: f64, level: f64, n: usize) -> Estimate {
    Estimate {
        estimate,
        lo,
        hi,
        level,
        n,
        method: "test".to_string(),
    }
}

#[test]
fn schedule_doubles_then_spaces_geometrically() {
    let plan = SequentialPlan::new(0.05, 0.95, 1000, 10, 10).unwrap();
    assert_eq!(plan.schedule(), [10, 20, 40, 80, 160, 320, 640, 1000]);
    assert_eq!(plan.looks(), 8);
    assert!((plan.per_look_level() - (1.0 - 0.05 / 8.0)).abs() < 1e-15);
    // Exactly reachable by doubling.
    let plan = SequentialPlan::new(0.05, 0.95, 640, 10, 7).unwrap();
    assert_eq!(plan.schedule(), [10, 20, 40, 80, 160, 320, 640]);
    // Doubling cannot reach 1e5 from 10 in 5 looks: ratio 1e4^(1/4) = 10.
    let plan = SequentialPlan::new(0.05, 0.95, 100_000, 10, 5).unwrap();
    assert_eq!(plan.schedule(), [10, 100, 1000, 10_000, 100_000]);
    // One look: a fixed sample of max_trials; first batch = budget: one look too.
    let plan = SequentialPlan::new(0.05, 0.95, 500, 10, 1).unwrap();
    assert_eq!(plan.schedule(), [500]);
    assert_eq!(plan.per_look_level(), 0.95);
    let plan = SequentialPlan::new(0.05, 0.95, 500, 500, 6).unwrap();
    assert_eq!(plan.schedule(), [500]);
    // Schedules always increase strictly and end at max_trials.
    for (max, first, looks) in [(7, 1, 3), (1000, 3, 4), (12345, 17, 9), (3, 1, 10)] {
        let s = SequentialPlan::new(0.1, 0.9, max, first, looks)
            .unwrap()
            .schedule();
        assert!(s.windows(2).all(|w| w[0] < w[1]), "{s:?}");
        assert_eq!(*s.last().unwrap(), max);
        assert_eq!(s[0], first.min(max));
        assert!(s.len() <= looks);
    }
}

#[test]
fn plan_validation() {
    let invalid = |r: Result<SequentialPlan, StatsError>| r.is_err();
    assert!(invalid(SequentialPlan::new(0.0, 0.95, 100, 10, 5)));
    assert!(invalid(SequentialPlan::new(f64::NAN, 0.95, 100, 10, 5)));
    assert!(invalid(SequentialPlan::new(0.05, 1.0, 100, 10, 5)));
    assert!(invalid(SequentialPlan::new(0.05, 0.95, 100, 0, 5)));
    assert!(invalid(SequentialPlan::new(0.05, 0.95, 100, 101, 5)));
    assert!(invalid(SequentialPlan::new(0.05, 0.95, 100, 10, 0)));
}

#[test]
fn decisions() {
    let plan = SequentialPlan::new(0.1, 0.9, 1000, 10, 10).unwrap();
    let lv = plan.per_look_level();
    let wide = estimate(1.0, 0.5, 2.0, lv, 10); // relative half-width 0.75
    let narrow = estimate(2.0, 1.85, 2.15, lv, 160); // 0.075
    let edge = estimate(1.0, 0.75, 0.95, lv, 160); // 0.1, asymmetric
                                                   // Before any look: the first batch, whatever the estimate.
    assert_eq!(plan.next_batch(0, &narrow), Some(10));
    assert_eq!(plan.next_batch(3, &narrow), Some(7));
    // Precision not reached: up to the next scheduled size.
    assert_eq!(plan.next_batch(10, &wide), Some(10));
    assert_eq!(plan.next_batch(640, &wide), Some(360));
    // Reached (<= precision): stop.
    assert_eq!(plan.next_batch(160, &narrow), None);
    assert!((SequentialPlan::relative_half_width(&edge) - 0.1).abs() < 1e-15);
    assert_eq!(plan.next_batch(160, &edge), None);
    // Budget spent: stop.
    assert_eq!(plan.next_batch(1000, &wide), None);
    // No exits yet (infinite estimate or end): go on.
    let none = estimate(f64::INFINITY, 3.0, f64::INFINITY, lv, 20);
    assert_eq!(SequentialPlan::relative_half_width(&none), f64::INFINITY);
    assert_eq!(plan.next_batch(20, &none), Some(20));
    let zero = estimate(0.0, 0.0, 0.0, lv, 20);
    assert_eq!(plan.next_batch(20, &zero), Some(20));

    // check_look: on the schedule, from that many runs, at the per-look level.
    assert!(plan.check_look(160, &narrow).is_ok());
    assert!(plan
        .check_look(150, &estimate(2.0, 1.85, 2.15, lv, 150))
        .is_err());
    assert!(plan.check_look(10, &narrow).is_err());
    assert!(plan
        .check_look(160, &estimate(2.0, 1.85, 2.15, 0.9, 160))
        .is_err());

    // The reported interval carries the overall level.
    let fin = plan.final_estimate(&narrow);
    assert_eq!(fin.level, 0.9);
    assert_eq!(
        (fin.estimate, fin.lo, fin.hi, fin.n),
        (2.0, 1.85, 2.15, 160)
    );
    assert_eq!(fin.method, "test+seq-bonferroni-8");
    // A look at a lower level than planned only guarantees 1 − K(1 − ℓ) = 0.84; a higher
    // one is reported at the plan's level.
    let fin = plan.final_estimate(&estimate(2.0, 1.85, 2.15, 0.98, 160));
    assert!((fin.level - 0.84).abs() < 1e-12);
    let fin = plan.final_estimate(&estimate(2.0, 1.85, 2.15, 0.999, 160));
    assert_eq!(fin.level, 0.9);
}

/// One sequential experiment: Exp(1) trials censored at `cap`, the censored-exponential
/// interval at each look. Returns the final look's estimate and the trials used.
fn run(plan: &SequentialPlan, cap: f64, rng: &mut Xoshiro256PlusPlus) -> (Estimate, usize) {
    let level = plan.per_look_level();
    let (mut exits, mut censored) = (Vec::new(), Vec::new());
    let mut done = 0;
    let mut current = estimate(f64::INFINITY, 0.0, f64::INFINITY, level, 0);
    let mut previous: Option<Estimate> = None;
    while let Some(batch) = plan.next_batch(done, &current) {
        for _ in 0..batch {
            let x: f64 = Exp1.sample(rng);
            if x < cap {
                exits.push(x);
            } else {
                censored.push(cap);
            }
        }
        done += batch;
        if done > plan.first_batch {
            previous = Some(current.clone());
        }
        current = censored_exponential_mean(&exits, &censored, level).unwrap();
        plan.check_look(done, &current).unwrap();
    }
    // The rule stopped because the precision was reached or the budget was spent, and
    // not earlier than it should have.
    assert!(plan.precision_reached(&current) || done == plan.max_trials);
    if let Some(p) = previous {
        assert!(!plan.precision_reached(&p));
    }
    (current, done)
}

#[test]
fn sequential_coverage_exponential() {
    // 1000 sequential experiments each (uncensored, and censored at 2: 13.5% censored),
    // precision 0.1, overall level 0.9, first batch 10, doubling up to 1280 (8 looks, each
    // at level 1 − 0.1/8). The proof in `SequentialPlan` gives coverage >= 0.9 (measured:
    // 0.989, 2e4 repetitions); the Garwood chi-square interval is exact or conservative at
    // each fixed look. Threshold 863: P(Binomial(1000, 0.9) <= 862) = 8.0e-5 < 1e-4.
    let plan = SequentialPlan::new(0.1, 0.9, 1280, 10, 8).unwrap();
    assert_eq!(plan.looks(), 8);
    for (seed, cap) in [(21u64, f64::INFINITY), (22, 2.0)] {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut covered = 0;
        let mut trials = 0;
        for _ in 0..1000 {
            let (e, done) = run(&plan, cap, &mut rng);
            let fin = plan.final_estimate(&e);
            assert_eq!(fin.level, 0.9);
            trials += done;
            if fin.contains(1.0) {
                covered += 1;
            }
        }
        eprintln!(
            "cap {cap}: coverage {covered}/1000, mean trials {}",
            trials as f64 / 1000.0
        );
        assert!(covered >= 863, "cap {cap}: coverage {covered}/1000 < 863");
    }
}

#[test]
fn budget_stops_the_rule() {
    // Precision 0.01 needs ~ (2.5/0.01)^2 = 62500 exits; the budget of 300 stops it first.
    let plan = SequentialPlan::new(0.01, 0.95, 300, 20, 6).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let (e, done) = run(&plan, f64::INFINITY, &mut rng);
    assert_eq!(done, 300);
    assert_eq!(e.n, 300);
    assert!(!plan.precision_reached(&e));
}
