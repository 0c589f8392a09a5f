//! Hot-loop costs: one LIF layer step (1024 neurons, the paper's hidden layer)
//! and one ADC read (16 and 128 columns).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use xbar_periph::{AdcBank, AdcConfig, LifConfig, LifLayer};

fn lif(c: &mut Criterion) {
    let n = 1024;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let input: Vec<f32> = (0..n).map(|_| rng.random_range(0.0..0.3)).collect();
    let mut spikes = vec![false; n];
    let configs = [
        ("paper", LifConfig::default()),
        (
            "noise+refractory",
            LifConfig {
                noise_sigma: 0.01,
                refractory: 1,
                threshold_sigma: 0.05,
                ..LifConfig::default()
            },
        ),
    ];
    let mut g = c.benchmark_group("lif_step_1024");
    g.throughput(Throughput::Elements(n as u64));
    // Reference: the bare paper update inline, no checks, counters or leak,
    // to tell the API's overhead from the machine's speed in the same run.
    let mut v = vec![0.0f32; n];
    g.bench_function("reference_inline", |b| {
        b.iter(|| {
            for ((v, &x), s) in v.iter_mut().zip(black_box(&input)).zip(&mut spikes) {
                *v += x;
                *s = *v >= 1.0;
                if *s {
                    *v = 0.0;
                }
            }
        })
    });
    for (name, cfg) in configs {
        let mut layer = LifLayer::new(&cfg, n, 7).expect("valid config");
        g.bench_function(name, |b| {
            b.iter(|| {
                layer
                    .step(black_box(&input), &mut spikes)
                    .expect("sizes match")
            })
        });
    }
    g.finish();
}

fn adc(c: &mut Criterion) {
    let mut g = c.benchmark_group("adc_convert");
    for columns in [16usize, 128] {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let input: Vec<f64> = (0..columns)
            .map(|_| rng.random_range(-1e-5..1e-5))
            .collect();
        let mut out = vec![0.0; columns];
        let configs = [
            ("8bit_ideal", AdcConfig::ideal(8, 1e-5)),
            (
                "8bit_dnl_noise",
                AdcConfig {
                    dnl_sigma_lsb: 0.3,
                    noise_lsb: 0.5,
                    offset_sigma_lsb: 0.5,
                    ..AdcConfig::ideal(8, 1e-5)
                },
            ),
        ];
        g.throughput(Throughput::Elements(columns as u64));
        // Reference: bare rounding quantiser inline (8 bits signed, 1e-5 range).
        let lsb = 2e-5 / 256.0;
        g.bench_function(BenchmarkId::new("reference_inline", columns), |b| {
            b.iter(|| {
                for (y, &x) in out.iter_mut().zip(black_box(&input)) {
                    *y = (x / lsb).round().clamp(-128.0, 127.0) * lsb;
                }
            })
        });
        for (name, cfg) in configs {
            let mut bank = AdcBank::new(&cfg, columns, 3).expect("valid config");
            g.bench_function(BenchmarkId::new(name, columns), |b| {
                b.iter(|| {
                    bank.convert(black_box(&input), &mut out)
                        .expect("sizes match")
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, lif, adc);
criterion_main!(benches);
