//! Service-catalogue search benchmark, in process: index build time and heap, search latency
//! (p50/p99, one thread), searches per second (several threads) and top-5 relevance on the 52
//! benchmark queries. Driven by `benches/catalog_search.sh`; on its own:
//!
//! ```sh
//! cargo run --release -p rathaus-catalog --example search_bench
//! cargo run --release -p rathaus-catalog --example search_bench -- --searches 400000 --kv /tmp/kv.txt
//! ```
//!
//! Output: with `--no-cache` the table has one more row ("Cache of word matches … off") and
//! `--kv` writes `match_cache=off` (else `on`). Last result of `--no-cache` (callgrind, which does
//! not depend on the load): a search whose words are all worked out costs 1.48 M instructions
//! (1.98 M before the BM25 terms were read straight from the postings); with the cache warm 0.034 M.
//!
//! Options (all optional): `--data DIR` (catalogue CSVs), `--queries FILE`, `--labels FILE`
//! (relevance labels, `benches/data/search_relevance.tsv`), `--tenants N` (400), `--threads N` (2),
//! `--searches N` (searches in the throughput run, 200000), `--latency-rounds N` (rounds over all
//! queries in the latency run, 400), `--builds N` (index builds timed, 5), `--kv FILE` (also write
//! the results as `key=value` lines), `--misses` (print the top 5 of each query without a relevant
//! hit), `--no-cache` (turn the index's cache of word matches off, so that every call works out
//! all its words as if none had been searched before: the cost of searching itself rather than of
//! the cache), `--count-rounds N` (only build the index once and run N rounds over the queries, tenants
//! in turn, then exit: for counting instructions with `valgrind --tool=callgrind`, which does not
//! depend on the machine's load; with runs of 0, 1 and N rounds, (I₁ − I₀) / 52 is the cost of a
//! query in the first round, with nothing cached, and (I_N − I₁) / (52 (N − 1)) once the index's
//! cache of word matches is warm).
//!
//! How it measures:
//! - Rathaus keeps one index of the Land's catalogue; tenants differ only in which services they
//!   offer, which the API applies as a relevance boost at query time (1.3 for an offered service).
//!   The benchmark simulates 400 tenants, each offering a deterministic 60 % of the services (the
//!   same rule as the PostgreSQL peer's data, [`offered`]), as one bit set per tenant, and every
//!   search call gets the boost closure of a tenant (tenants taken in turn).
//! - Build time: `SearchIndex::build` on the documents, wall clock; median and minimum of
//!   `--builds` runs. Reading the CSV files is timed separately.
//! - Heap: a counting global allocator (this example only) reports the bytes live after the
//!   documents are made and after the index is built, and the peak during the build. "Index" is
//!   what the build adds on top of the documents (tantivy's segment files in RAM, reader,
//!   word vocabulary, synonym table); the documents themselves (`Vec<ServiceDoc>`) are reported
//!   apart. The index is never written to disk, so this is its size. "After warm-up" is what the
//!   index's cache of word matches holds after the warm-up.
//! - Cold latency: on the freshly built index (nothing cached), the first call of each of the 52
//!   queries, in file order, timed with `Instant`: what the first search for a query costs (words
//!   that an earlier query already looked up are cached by then, as they would be in a server).
//! - Latency: one thread, `--latency-rounds` rounds over the 52 queries after a warm-up, each call
//!   timed with `Instant` (the call: parse, add up the cached matches of the words, top 10 of a
//!   re-ranked head of 50).
//! - Throughput: `--threads` threads run `--searches` calls in total (queries in a fixed
//!   pseudo-random order, tenants in turn), wall clock from a common start to the last thread's end.
//! - Relevance: a query counts when one of its first 5 hits is in its label list. Reported with the
//!   boost of tenant 1 (as through the API) and without any tenant (the state's catalogue).

use rathaus_catalog::ServiceDoc;
use rathaus_catalog::search::SearchIndex;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

// ---- heap accounting ---------------------------------------------------------------------------

/// The system allocator, counting live bytes while [`COUNTING`] is on.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; only counters are updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            // Saturating: blocks allocated before counting started may be freed while it is on.
            let _ = LIVE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(layout.size()))
            });
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                let shrink = layout.size() - new_size;
                let _ = LIVE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                    Some(v.saturating_sub(shrink))
                });
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

// ---- tenants -------------------------------------------------------------------------------------

/// SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Whether tenant `tenant` (1-based) offers service `id` (the `id` column of leika_leistungen.csv):
/// a deterministic 60 %. `benches/catalog_search.sh` generates the PostgreSQL peer's rows with the
/// same rule.
pub fn offered(tenant: u64, id: i64) -> bool {
    mix((tenant << 32) | (id as u64 & 0xFFFF_FFFF)) % 100 < 60
}

/// One bit per service id, per tenant.
struct Tenants {
    words: usize,
    bits: Vec<u64>,
}

impl Tenants {
    fn new(n: u64, docs: &[ServiceDoc]) -> Self {
        let max = docs.iter().map(|d| d.id.max(0) as usize).max().unwrap_or(0);
        let words = max / 64 + 1;
        let mut bits = vec![0u64; words * n as usize];
        for t in 0..n {
            for d in docs {
                if offered(t + 1, d.id) {
                    let i = d.id.max(0) as usize;
                    bits[t as usize * words + i / 64] |= 1 << (i % 64);
                }
            }
        }
        Self { words, bits }
    }
    fn count(&self) -> usize {
        self.bits.len() / self.words
    }
    /// The boost of tenant `t` (0-based) for a document.
    fn boost(&self, t: usize, d: &ServiceDoc) -> f32 {
        let i = d.id.max(0) as usize;
        match self.bits.get(t * self.words + i / 64) {
            Some(w) if w & (1 << (i % 64)) != 0 => 1.3,
            _ => 1.0,
        }
    }
    fn offers(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }
}

// ---- input files ---------------------------------------------------------------------------------

fn read_queries(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read queries {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn read_labels(path: &Path) -> HashMap<String, HashSet<String>> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read labels {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (q, keys) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("label line without a tab: {l:?}"));
            let keys = keys
                .split(',')
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect();
            (q.to_owned(), keys)
        })
        .collect()
}

fn relevant(labels: &HashSet<String>, d: &ServiceDoc) -> bool {
    d.leika
        .as_ref()
        .is_some_and(|k| labels.contains(k.as_str()))
        || labels.contains(&format!("id:{}", d.id))
}

// ---- helpers -------------------------------------------------------------------------------------

struct Args {
    data: PathBuf,
    queries: PathBuf,
    labels: PathBuf,
    tenants: u64,
    threads: usize,
    searches: usize,
    latency_rounds: usize,
    builds: usize,
    kv: Option<PathBuf>,
    misses: bool,
    no_cache: bool,
    count_rounds: Option<usize>,
}

fn args() -> Args {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut a = Args {
        data: root.join("../../../shared/testdata/ozg-leika"),
        queries: root.join("../../../shared/testdata/search-queries/queries.txt"),
        labels: root.join("../../benches/data/search_relevance.tsv"),
        tenants: 400,
        threads: 2,
        searches: 200_000,
        latency_rounds: 400,
        builds: 5,
        kv: None,
        misses: false,
        no_cache: false,
        count_rounds: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--misses" {
            a.misses = true;
            continue;
        }
        if flag == "--no-cache" {
            a.no_cache = true;
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let num = || -> usize {
            value
                .parse()
                .unwrap_or_else(|_| panic!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--data" => a.data = value.clone().into(),
            "--queries" => a.queries = value.clone().into(),
            "--labels" => a.labels = value.clone().into(),
            "--tenants" => a.tenants = num().max(1) as u64,
            "--threads" => a.threads = num().max(1),
            "--searches" => a.searches = num().max(1),
            "--latency-rounds" => a.latency_rounds = num().max(1),
            "--builds" => a.builds = num().max(1),
            "--kv" => a.kv = Some(value.clone().into()),
            "--count-rounds" => a.count_rounds = Some(num()),
            _ => panic!("unknown option {flag}"),
        }
    }
    a
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Thousands separated by a space, as in the tables of docs/benchmarks.md.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Fixed pseudo-random order of query indices (xorshift), the same for every run.
fn order(n_queries: usize, len: usize, seed: u64) -> Vec<u16> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n_queries as u64) as u16
        })
        .collect()
}

// ---- main ----------------------------------------------------------------------------------------

fn main() {
    let a = args();
    let queries = read_queries(&a.queries);
    let labels = read_labels(&a.labels);
    for q in &queries {
        assert!(
            labels.contains_key(q),
            "no relevance label for query {q:?} in {}",
            a.labels.display()
        );
    }

    if let Some(rounds) = a.count_rounds {
        count_rounds(&a, &queries, rounds);
        return;
    }

    // Load and measure the documents.
    COUNTING.store(true, Ordering::SeqCst);
    let t = Instant::now();
    let data = rathaus_catalog::read_dir(&a.data)
        .unwrap_or_else(|e| panic!("catalogue {}: {e}", a.data.display()));
    let before_docs = live();
    let docs = data.documents();
    let load = t.elapsed();
    let docs_heap = live().saturating_sub(before_docs);
    let rejected = data.rejected.len();
    drop(data);
    let n_docs = docs.len();

    // Timed builds; the first one also measures the heap.
    let mut build_times = Vec::with_capacity(a.builds);
    let mut index = None;
    let mut index_heap = 0;
    let mut build_peak = 0;
    for i in 0..a.builds {
        let input = docs.clone();
        drop(index.take());
        let before = live();
        PEAK.store(before, Ordering::SeqCst);
        let t = Instant::now();
        let built = SearchIndex::build(input).expect("index build");
        build_times.push(t.elapsed());
        if i == 0 {
            // `before` already counts the documents' copy, which moved into the index: the
            // difference is what the build added on top of them.
            index_heap = live().saturating_sub(before);
            build_peak = PEAK.load(Ordering::SeqCst).saturating_sub(before);
        }
        index = Some(built);
    }
    let index = index.expect("at least one build");
    if a.no_cache {
        index.set_match_cache(false);
    }
    let mut sorted_builds = build_times.clone();
    sorted_builds.sort();
    let build_median = sorted_builds[sorted_builds.len() / 2];
    let build_min = sorted_builds[0];

    let tenants = Tenants::new(a.tenants, &docs);
    let n_tenants = tenants.count();
    let avg_offers = tenants.offers() as f64 / n_tenants as f64;
    let before_warm = live();

    // Cold: the first call of each query on the fresh index.
    let mut cold: Vec<Duration> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let s = Instant::now();
            let r = index
                .search(q, 0, 10, |d| tenants.boost(i % n_tenants, d))
                .expect("search");
            let e = s.elapsed();
            black_box(r);
            e
        })
        .collect();
    cold.sort();
    let (cold_p50, cold_p99, cold_max) = (
        percentile(&cold, 50.0),
        percentile(&cold, 99.0),
        *cold.last().unwrap_or(&Duration::ZERO),
    );

    // Warm-up: every query with many tenants.
    for (i, q) in queries.iter().cycle().take(queries.len() * 40).enumerate() {
        let t = i % n_tenants;
        black_box(
            index
                .search(q, 0, 10, |d| tenants.boost(t, d))
                .expect("search"),
        );
    }
    let heap_after_warmup = live();
    COUNTING.store(false, Ordering::SeqCst);

    // Relevance.
    let judge = |tenant: Option<usize>| -> Vec<(String, bool, Vec<String>)> {
        queries
            .iter()
            .map(|q| {
                let (_, hits) = index
                    .search(q, 0, 5, |d| match tenant {
                        Some(t) => tenants.boost(t, d),
                        None => 1.0,
                    })
                    .expect("search");
                let set = &labels[q];
                let ok = hits.iter().any(|h| relevant(set, h.doc));
                let top = hits
                    .iter()
                    .map(|h| {
                        format!(
                            "{} ({})",
                            h.doc.name,
                            h.doc.leika.as_ref().map_or_else(
                                || format!("id:{}", h.doc.id),
                                |k| k.as_str().to_owned()
                            )
                        )
                    })
                    .collect();
                (q.clone(), ok, top)
            })
            .collect()
    };
    let rel_tenant = judge(Some(0));
    let rel_state = judge(None);
    let count = |r: &[(String, bool, Vec<String>)]| r.iter().filter(|x| x.1).count();

    // Latency, one thread.
    let mut per_query: Vec<Vec<Duration>> =
        vec![Vec::with_capacity(a.latency_rounds); queries.len()];
    let mut all = Vec::with_capacity(a.latency_rounds * queries.len());
    let lat_order = order(queries.len(), a.latency_rounds * queries.len(), 0x5EED);
    let started = Instant::now();
    for (i, &qi) in lat_order.iter().enumerate() {
        let q = &queries[qi as usize];
        let t = i % n_tenants;
        let s = Instant::now();
        let r = index
            .search(q, 0, 10, |d| tenants.boost(t, d))
            .expect("search");
        let e = s.elapsed();
        black_box(r);
        per_query[qi as usize].push(e);
        all.push(e);
    }
    let single_wall = started.elapsed();
    let single_qps = all.len() as f64 / single_wall.as_secs_f64();
    all.sort();
    let (p50, p90, p99, p999, max) = (
        percentile(&all, 50.0),
        percentile(&all, 90.0),
        percentile(&all, 99.0),
        percentile(&all, 99.9),
        *all.last().unwrap_or(&Duration::ZERO),
    );
    let mean = all.iter().sum::<Duration>() / all.len().max(1) as u32;

    // Throughput, several threads.
    let per_thread = a.searches.div_ceil(a.threads);
    let index = Arc::new(index);
    let tenants = Arc::new(tenants);
    let queries = Arc::new(queries);
    let barrier = Arc::new(Barrier::new(a.threads + 1));
    let handles: Vec<_> = (0..a.threads)
        .map(|th| {
            let (index, tenants, queries, barrier) = (
                index.clone(),
                tenants.clone(),
                queries.clone(),
                barrier.clone(),
            );
            let ord = order(queries.len(), per_thread, 0xC0FFEE + th as u64);
            std::thread::spawn(move || {
                barrier.wait();
                let mut found = 0usize;
                for (i, &qi) in ord.iter().enumerate() {
                    let t = (i * a.threads + th) % n_tenants;
                    let (total, hits) = index
                        .search(&queries[qi as usize], 0, 10, |d| tenants.boost(t, d))
                        .expect("search");
                    found += total.min(1) + hits.len();
                }
                black_box(found);
                Instant::now()
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let end = handles
        .into_iter()
        .map(|h| h.join().expect("search thread"))
        .max()
        .unwrap_or(start);
    let wall = end - start;
    let total_searches = per_thread * a.threads;
    let qps = total_searches as f64 / wall.as_secs_f64();

    // ---- report ------------------------------------------------------------------------------------
    let mut md = String::new();
    let _ = writeln!(md, "| Measure | Rathaus search (tantivy, in process) |");
    let _ = writeln!(md, "| --- | ---: |");
    let _ = writeln!(
        md,
        "| Services indexed | {} (one index for all {} tenants; {} rows rejected by the import) |",
        thousands(n_docs as u64),
        n_tenants,
        rejected
    );
    let _ = writeln!(
        md,
        "| Simulated offers | {:.0} services per tenant on average ({} tenant bit sets) |",
        avg_offers, n_tenants
    );
    let _ = writeln!(
        md,
        "| Read catalogue CSV + make documents | {:.0} ms |",
        load.as_secs_f64() * 1e3
    );
    let _ = writeln!(
        md,
        "| Index build (median / min of {}) | {:.0} ms / {:.0} ms |",
        a.builds,
        build_median.as_secs_f64() * 1e3,
        build_min.as_secs_f64() * 1e3
    );
    let _ = writeln!(
        md,
        "| Index size (heap, in RAM) | {:.1} MiB (+ {:.1} MiB documents; peak during build +{:.1} MiB; +{:.1} MiB after warm-up) |",
        mib(index_heap),
        mib(docs_heap),
        mib(build_peak),
        mib(heap_after_warmup.saturating_sub(before_warm))
    );
    let _ = writeln!(
        md,
        "| Search latency, 1 thread, {} calls: p50 / p90 / p99 / p99.9 / max | {:.0} / {:.0} / {:.0} / {:.0} / {:.0} µs (mean {:.0} µs) |",
        thousands(all.len() as u64),
        us(p50),
        us(p90),
        us(p99),
        us(p999),
        us(max),
        us(mean)
    );
    let _ = writeln!(
        md,
        "| First call of each query on a fresh index (nothing cached), {} calls: p50 / p99 / max | {:.0} / {:.0} / {:.0} µs |",
        cold.len(),
        us(cold_p50),
        us(cold_p99),
        us(cold_max)
    );
    let _ = writeln!(
        md,
        "| Searches/s, 1 thread | {} |",
        thousands(single_qps.round() as u64)
    );
    let _ = writeln!(
        md,
        "| Searches/s, {} threads, {} calls | {} |",
        a.threads,
        thousands(total_searches as u64),
        thousands(qps.round() as u64)
    );
    if a.no_cache {
        let _ = writeln!(
            md,
            "| Cache of word matches | off (`--no-cache`): every call works out all its words |"
        );
    }
    let _ = writeln!(
        md,
        "| Relevant service in top 5 (tenant 1 boost / no tenant) | {} / {} of {} |",
        count(&rel_tenant),
        count(&rel_state),
        rel_tenant.len()
    );
    let miss = |r: &[(String, bool, Vec<String>)]| -> Vec<String> {
        r.iter().filter(|x| !x.1).map(|x| x.0.clone()).collect()
    };
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "Missed in the top 5 (tenant 1): {}",
        fmt_list(&miss(&rel_tenant))
    );
    let _ = writeln!(
        md,
        "Missed in the top 5 (no tenant): {}",
        fmt_list(&miss(&rel_state))
    );
    let _ = writeln!(md);
    // Slowest queries by p99.
    let mut pq: Vec<(usize, Duration, Duration)> = per_query
        .iter_mut()
        .enumerate()
        .filter(|(_, v)| !v.is_empty())
        .map(|(i, v)| {
            v.sort();
            (i, percentile(v, 50.0), percentile(v, 99.0))
        })
        .collect();
    pq.sort_by_key(|x| std::cmp::Reverse(x.2));
    let _ = writeln!(md, "| Slowest queries (1 thread) | p50 µs | p99 µs |");
    let _ = writeln!(md, "| --- | ---: | ---: |");
    for (i, p50q, p99q) in pq.iter().take(8) {
        let _ = writeln!(
            md,
            "| `{}` | {:.0} | {:.0} |",
            queries[*i],
            us(*p50q),
            us(*p99q)
        );
    }
    print!("{md}");
    if a.misses {
        println!();
        for (name, r) in [("tenant 1", &rel_tenant), ("no tenant", &rel_state)] {
            for (q, ok, top) in r.iter() {
                if !ok {
                    println!("miss ({name}) {q:?}: {}", top.join(" | "));
                }
            }
        }
    }

    if let Some(path) = &a.kv {
        let mut kv = String::new();
        let mut put = |k: &str, v: String| {
            let _ = writeln!(kv, "{k}={v}");
        };
        put("docs", n_docs.to_string());
        put("rejected", rejected.to_string());
        put("tenants", n_tenants.to_string());
        put("avg_offers", format!("{avg_offers:.0}"));
        put("load_ms", format!("{:.1}", load.as_secs_f64() * 1e3));
        put(
            "build_ms_median",
            format!("{:.1}", build_median.as_secs_f64() * 1e3),
        );
        put(
            "build_ms_min",
            format!("{:.1}", build_min.as_secs_f64() * 1e3),
        );
        put("builds", a.builds.to_string());
        put("index_heap_bytes", index_heap.to_string());
        put("docs_heap_bytes", docs_heap.to_string());
        put("build_peak_bytes", build_peak.to_string());
        put(
            "warmup_heap_bytes",
            heap_after_warmup.saturating_sub(before_warm).to_string(),
        );
        put("latency_calls", all.len().to_string());
        put("p50_us", format!("{:.1}", us(p50)));
        put("p90_us", format!("{:.1}", us(p90)));
        put("p99_us", format!("{:.1}", us(p99)));
        put("p999_us", format!("{:.1}", us(p999)));
        put("max_us", format!("{:.1}", us(max)));
        put("mean_us", format!("{:.1}", us(mean)));
        put("cold_p50_us", format!("{:.1}", us(cold_p50)));
        put("cold_p99_us", format!("{:.1}", us(cold_p99)));
        put("cold_max_us", format!("{:.1}", us(cold_max)));
        put("qps_1thread", format!("{single_qps:.0}"));
        put("threads", a.threads.to_string());
        put("searches", total_searches.to_string());
        put("qps", format!("{qps:.0}"));
        put("match_cache", if a.no_cache { "off" } else { "on" }.into());
        put("relevant_tenant", count(&rel_tenant).to_string());
        put("relevant_state", count(&rel_state).to_string());
        put("queries", rel_tenant.len().to_string());
        put("missed_tenant", miss(&rel_tenant).join("|"));
        put("missed_state", miss(&rel_state).join("|"));
        std::fs::write(path, kv).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

/// `--count-rounds`: one build, then `rounds` rounds over the queries (tenants in turn), nothing
/// timed or printed but the number of searches and hits.
fn count_rounds(a: &Args, queries: &[String], rounds: usize) {
    let data = rathaus_catalog::read_dir(&a.data)
        .unwrap_or_else(|e| panic!("catalogue {}: {e}", a.data.display()));
    let docs = data.documents();
    let index = SearchIndex::build(docs.clone()).expect("index build");
    if a.no_cache {
        index.set_match_cache(false);
    }
    let tenants = Tenants::new(a.tenants, &docs);
    let n_tenants = tenants.count();
    let mut found = 0usize;
    for round in 0..rounds {
        for (i, q) in queries.iter().enumerate() {
            let t = (round * queries.len() + i) % n_tenants;
            let (total, hits) = index
                .search(q, 0, 10, |d| tenants.boost(t, d))
                .expect("search");
            found += total.min(1) + hits.len();
        }
    }
    println!(
        "searches={} found={}",
        rounds * queries.len(),
        black_box(found)
    );
}

fn fmt_list(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter()
            .map(|q| format!("`{q}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
