//! Criterion benchmarks of the certify stage (issue: certified barriers):
//! boxes per second of the sphere branch-and-bound, and the time to certify V̄ for
//! d = 2, 10, 100 quadratics and 2-D non-quadratic landscapes.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use escapecert::certify::path::{path_upper_bound, PathOptions};
use escapecert::certify::{bnb, certify, hj, steepness};
use escapecert::landscape::{Landscape, Problem};
use escapecert::spec::Spec;
use std::hint::black_box;
use std::path::Path;

fn spec(text: &str) -> (Spec, Problem) {
    let s = Spec::from_str(Path::new("bench.toml"), text).expect("valid spec");
    let p = Problem::from_spec(&s).expect("valid problem");
    (s, p)
}

fn quadratic(d: usize) -> String {
    format!(
        "name = \"q{d}\"\n[landscape]\nbuiltin = \"quadratic\"\ndim = {d}\nsharpness = 3.0\n[domain]\nkind = \"ball\"\nradius = 0.1\n[noise]\nkind = \"isotropic\"\nsigma = 1.0\n[sgd]\neta = 0.001\n"
    )
}

const ST2: &str = "name = \"st\"\n[landscape]\nbuiltin = \"styblinski_tang\"\ndim = 2\n[minimum]\nguess = [-2.9, -2.9]\n[domain]\nkind = \"ball\"\nradius = 1.0\n[noise]\nkind = \"isotropic\"\nsigma = 4.0\n[sgd]\neta = 0.1\n";
const ST2_HESSIAN: &str = "name = \"sth\"\n[landscape]\nbuiltin = \"styblinski_tang\"\ndim = 2\n[minimum]\nguess = [-2.9, -2.9]\n[domain]\nkind = \"ball\"\nradius = 1.0\n[noise]\nkind = \"hessian\"\nscale = 0.5\nfloor = 0.1\n[sgd]\neta = 0.1\n";
const MB: &str = "name = \"mb\"\n[landscape]\nbuiltin = \"muller_brown\"\n[minimum]\nguess = [-0.558, 1.442]\n[domain]\nkind = \"ball\"\nradius = 0.1\n[noise]\nkind = \"isotropic\"\nsigma = 4.0\n[sgd]\neta = 0.1\n";
const DW: &str = "name = \"dw\"\n[landscape]\nexpr = \"x^4/4 - x^2/2 + 0.1*x\"\n[minimum]\nguess = [-1.0]\n[domain]\nkind = \"interval\"\nlo = -2.0\nhi = 0.0\n[noise]\nkind = \"isotropic\"\nsigma = 1.0\n[sgd]\neta = 0.1\n";

fn bench_certify(c: &mut Criterion) {
    let mut g = c.benchmark_group("certify");
    g.sample_size(10);
    for d in [2usize, 10, 100] {
        let (s, p) = spec(&quadratic(d));
        g.bench_with_input(BenchmarkId::new("quadratic_ball", d), &d, |b, _| {
            b.iter(|| black_box(certify(&s, &p).expect("certified")))
        });
    }
    for (name, text) in [
        ("tilted_double_well", DW),
        ("styblinski_tang_2d", ST2),
        ("styblinski_tang_2d_hessian_noise", ST2_HESSIAN),
        ("muller_brown", MB),
    ] {
        let (s, p) = spec(text);
        g.bench_function(name, |b| {
            b.iter(|| black_box(certify(&s, &p).expect("certified")))
        });
    }
    g.finish();
}

fn bench_sphere_bnb(c: &mut Criterion) {
    // Boxes per second of the sphere branch-and-bound on the 2-D Styblinski–Tang circle.
    let l = Landscape::StyblinskiTang { dim: 2 };
    let centre = [-2.903534027771178, -2.903534027771178];
    let ub = bnb::sphere_point_upper(&l, &[-1.9, -2.9], &centre, 1.0).expect("finite");
    let boxes = bnb::sphere_min(&l, &centre, 1.0, (ub, vec![-1.9, -2.9]), 20_000, 0.0).boxes;
    let mut g = c.benchmark_group("branch_and_bound");
    g.sample_size(10);
    g.throughput(Throughput::Elements(boxes as u64));
    g.bench_function("sphere_boxes_styblinski_tang_2d", |b| {
        b.iter(|| {
            black_box(bnb::sphere_min(
                &l,
                &centre,
                1.0,
                (ub, vec![-1.9, -2.9]),
                20_000,
                0.0,
            ))
        })
    });
    g.finish();
}

const ANISO: &str = "name = \"aniso\"\n[landscape]\nbuiltin = \"quadratic\"\ndim = 2\nhessian = [[3.0, 1.0], [1.0, 2.0]]\n[domain]\nkind = \"ball\"\nradius = 1.0\n[noise]\nkind = \"constant\"\ncov = [[1.0, 0.5], [0.5, 2.0]]\n[sgd]\neta = 0.01\n";

fn bench_hj(c: &mut Criterion) {
    // C-quad and the steepness branch-and-bound on the 2-D anisotropic quadratic
    // (H = [[3,1],[1,2]], Σ = [[1,½],[½,2]], ball of radius 1): boxes per second.
    let (s, p) = spec(ANISO);
    let cert = certify(&s, &p).expect("certified");
    let x = cert.minimizer.x.clone();
    let mut g = c.benchmark_group("hj");
    g.sample_size(10);
    let q = hj::c_quad(&p.landscape, &p.noise, &cert.domain, &x, 200_000).expect("C-quad");
    g.throughput(Throughput::Elements(q.boxes as u64));
    g.bench_function("c_quad_aniso_2d", |b| {
        b.iter(|| {
            black_box(hj::c_quad(
                &p.landscape,
                &p.noise,
                &cert.domain,
                &x,
                200_000,
            ))
        })
    });
    let e = steepness::steepness_enclosure(&p.landscape, &p.noise, &cert.domain, &x, &[], 200_000);
    g.throughput(Throughput::Elements(e.boxes as u64));
    g.bench_function("steepness_aniso_2d", |b| {
        b.iter(|| {
            black_box(steepness::steepness_enclosure(
                &p.landscape,
                &p.noise,
                &cert.domain,
                &x,
                &[],
                200_000,
            ))
        })
    });
    g.finish();
}

/// Lemma P: time to certify the path upper bound (all candidates: straight segment,
/// reversed gradient flow, gMAM; coarse then refined interval quadrature) on a 2-D
/// non-quadratic landscape with constant anisotropic noise.
const QUARTIC_CONST: &str = "name = \"qc\"\n[landscape]\nexpr = \"0.5*(2*x1^2 + 0.6*x1*x2 + 1.5*x2^2) + 0.1*x1^3 - 0.15*x1^2*x2 + 0.1*x2^3 + 0.1*(x1^4 + x2^4)\"\n[minimum]\nguess = [0.0, 0.0]\n[domain]\nkind = \"ball\"\nradius = 0.5\n[noise]\nkind = \"constant\"\ncov = [[1.0, 0.3], [0.3, 0.8]]\n[sgd]\neta = 0.01\n";

fn bench_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("path_upper_bound");
    g.sample_size(10);
    for (name, text) in [
        ("quartic_2d_constant_noise", QUARTIC_CONST),
        ("muller_brown", MB),
    ] {
        let (s, p) = spec(text);
        let cert = certify(&s, &p).expect("certified");
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(path_upper_bound(
                    &p.landscape,
                    &p.noise,
                    &cert.domain,
                    &cert.minimizer.x,
                    &cert.exit_point,
                    &PathOptions::default(),
                ))
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_certify,
    bench_sphere_bnb,
    bench_hj,
    bench_path
);
criterion_main!(benches);
