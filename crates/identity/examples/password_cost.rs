//! Prints what one password login costs: argon2id hashing and verification time with the
//! configured parameters (default: OWASP's 19 MiB, t = 2, p = 1), median of N runs.
//!
//! `cargo run --release -p rathaus-identity --example password_cost -- [N] [MEMORY_KIB] [ITERATIONS]`

use rathaus_identity::password::{HashParams, PasswordHasher};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);
    let defaults = HashParams::default();
    let params = HashParams {
        memory_kib: args
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or(defaults.memory_kib),
        iterations: args
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or(defaults.iterations),
        parallelism: defaults.parallelism,
    };
    let hasher = match PasswordHasher::new(params) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut hash_ms = Vec::with_capacity(n);
    let mut verify_ms = Vec::with_capacity(n);
    let mut phc = String::new();
    for _ in 0..n {
        let t = Instant::now();
        phc = hasher.hash("Demo-Passwort-1").unwrap_or_default();
        hash_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        assert!(hasher.verify("Demo-Passwort-1", &phc));
        verify_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "argon2id m={} KiB t={} p={}: hash median {:.1} ms, verify median {:.1} ms ({n} runs; {})",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        median(&mut hash_ms),
        median(&mut verify_ms),
        phc.split('$').take(4).collect::<Vec<_>>().join("$")
    );
}
