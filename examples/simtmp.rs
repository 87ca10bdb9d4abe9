use escapecert::landscape::*;
use escapecert::simulate::*;
fn main() {
    for r in [0.3, 0.33, 0.35] {
        for cap in [100u64, 200, 400] {
    let cfg = SimConfig { dynamics: Dynamics::Discrete, eta: 0.1, batch: 2, trials: 300, seed: 7, max_steps: cap, dt: 0.0, start: vec![0.0;3] };
    let domain = Domain::Ball { center: vec![0.0; 3], radius: r };
    let res = simulate(&Landscape::Quadratic{dim:3, hessian: QuadraticHessian::Scaled(2.0)}, &domain, &Noise::Isotropic { sigma: 1.0 }, &cfg).unwrap();
    let m: f64 = res.exit_times.iter().sum::<f64>() / res.exits as f64;
    println!("r {r} cap {cap} exits {} censored {} mean {m}", res.exits, res.censored);
        }
    }
    let mut r = rand_xoshiro::Xoshiro256PlusPlus::clone(&trajectory_rng(42, 7));
    use rand::RngCore;
    println!("{} {}", r.next_u64(), r.next_u64());
}
