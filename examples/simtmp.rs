use escapecert::landscape::*;
use escapecert::simulate::*;
fn main() {
    let dw = Landscape::Expr(Tape::parse("x^4/4 - x^2/2", None).unwrap());
    let mut cfg = SimConfig { dynamics: Dynamics::Continuous, eta: 1.0, batch: 1, trials: 4000, seed: 99, max_steps: 3000, dt: 0.01, start: vec![-1.0] };
    let r = simulate(&dw, &Domain::Interval { lo: -10.0, hi: 0.0 }, &Noise::Isotropic { sigma: 0.6 }, &cfg).unwrap();
    println!("dw exit fraction {}", r.exits as f64 / 4000.0);
    cfg = SimConfig { dynamics: Dynamics::Discrete, eta: 0.1, batch: 2, trials: 4000, seed: 99, max_steps: 100, dt: 0.0, start: vec![0.0; 3] };
    let r = simulate(&Landscape::Quadratic{dim:3, hessian: QuadraticHessian::Scaled(2.0)}, &Domain::Ball { center: vec![0.0; 3], radius: 0.35 }, &Noise::Isotropic { sigma: 1.0 }, &cfg).unwrap();
    println!("ball exit fraction {}", r.exits as f64 / 4000.0);
}
