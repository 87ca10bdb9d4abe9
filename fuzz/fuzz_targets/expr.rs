//! Expression parser and evaluator on arbitrary UTF-8: parse, check_domain and the
//! interval gradient on a box never panic; where check_domain certifies the box, the
//! interval value and gradient at a point of the box lie in those on the box
//! (inclusion isotonicity; README "### Fuzzing").
#![no_main]
use escapecert::landscape::expr::{Scratch, Tape};
use inari::Interval;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first 8 bytes choose the box and the point; the rest is the expression.
    if data.len() < 8 {
        return;
    }
    let Ok(src) = std::str::from_utf8(&data[8..]) else {
        return;
    };
    let Ok(t) = Tape::parse(src, None) else {
        return;
    };
    let d = t.dim;
    if d > 16 {
        return;
    }
    let lo: Vec<f64> = (0..d).map(|k| f64::from(data[k % 4] as i8) / 32.0).collect();
    let w: Vec<f64> = (0..d).map(|k| f64::from(data[4 + k % 2]) / 64.0).collect();
    let s = f64::from(data[6]) / 255.0;
    let bx: Vec<Interval> = (0..d)
        .map(|k| Interval::try_from((lo[k], lo[k] + w[k])).unwrap())
        .collect();
    let mut g = vec![Interval::EMPTY; d];
    let v = t.gradient(&bx, &mut g, &mut Scratch::new());
    if t.check_domain(&bx).is_err() {
        return;
    }
    let px: Vec<Interval> = (0..d)
        .map(|k| {
            let x = (lo[k] + s * w[k]).min(lo[k] + w[k]);
            Interval::try_from((x, x)).unwrap()
        })
        .collect();
    let mut gp = vec![Interval::EMPTY; d];
    let vp = t.gradient(&px, &mut gp, &mut Scratch::new());
    assert!(vp.subset(v), "value {vp:?} ⊄ {v:?}");
    for k in 0..d {
        assert!(gp[k].subset(g[k]), "∂{k}: {:?} ⊄ {:?}", gp[k], g[k]);
    }
});
