//! Validates files with the KoSIT configuration and reports throughput.
//!
//! `cargo run --release -p rathaus-einvoice --example xrechnung_bench -- [--json] [--rounds N]
//! [--threads N] [--layer en16931] FILE...`: loads the configuration once, warms up with one
//! round, then validates all files `rounds` times on `threads` threads and prints invoices/s
//! (stderr). With `--json`, prints one report per file (first round) on stdout.

use rathaus_einvoice::{Layer, Validator};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut json = false;
    let mut rounds = 1usize;
    let mut threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut layer = Layer::All;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut config =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/xrechnung/config");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json = true,
            "--rounds" => rounds = args.next().ok_or("--rounds N")?.parse()?,
            "--threads" => threads = args.next().ok_or("--threads N")?.parse()?,
            "--layer" => {
                if args.next().as_deref() == Some("en16931") {
                    layer = Layer::En16931;
                }
            }
            "--config" => config = PathBuf::from(args.next().ok_or("--config DIR")?),
            _ => files.push(PathBuf::from(a)),
        }
    }
    let t0 = Instant::now();
    let validator = Validator::load(&config)?;
    validator.preload_schemas()?;
    eprintln!(
        "configuration loaded in {:.1} ms ({} rules)",
        t0.elapsed().as_secs_f64() * 1000.0,
        validator.rule_count()
    );
    let inputs: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| Ok((f.display().to_string(), std::fs::read(f)?)))
        .collect::<Result<_, std::io::Error>>()?;
    // warm-up round, also the output round
    for (name, bytes) in &inputs {
        let r = validator.validate(bytes, layer);
        if json {
            let line = serde_json::json!({"file": name, "valid": r.valid, "scenario": r.scenario, "findings": r.findings});
            println!("{line}");
        }
    }
    if rounds == 0 {
        return Ok(());
    }
    let t = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let total = inputs.len() * rounds;
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let (_, bytes) = &inputs[i % inputs.len()];
                    std::hint::black_box(validator.validate(bytes, layer));
                }
            });
        }
    });
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{total} validations in {secs:.3} s on {threads} threads: {:.1} invoices/s",
        total as f64 / secs
    );
    Ok(())
}
