//! Prints the top hits of the situation assistant (for tuning `src/situations.txt`):
//! `cargo run -p rathaus-catalog --example assistant_probe [-- "Ich möchte ein Café eröffnen" …]`.
//! Without arguments it runs the tuning sentences of `data/assistant_queries.tsv` (the held-out
//! ones are left out on purpose) and times a 1,000-character sentence.
use std::time::Instant;

fn main() {
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/ozg-leika"
    ));
    let data = rathaus_catalog::read_dir(dir).expect("catalogue");
    let index = rathaus_catalog::search::SearchIndex::build(data.documents()).expect("index");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sentences: Vec<String> = if args.is_empty() {
        include_str!("../data/assistant_queries.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut cols = l.split('\t');
                let (query, split) = (cols.next()?, cols.next()?);
                (split == "tune").then(|| query.to_owned())
            })
            .collect()
    } else {
        args
    };
    for s in &sentences {
        let start = Instant::now();
        let (total, hits) = rathaus_catalog::assistant::assist(&index, s, 5, |_| 1.0).unwrap();
        let took = start.elapsed();
        let names: Vec<_> = hits.iter().map(|h| h.doc.name.as_str()).collect();
        println!("{s:55} {total:5} {took:>9.2?}  {}", names.join(" | "));
    }
    let long: String = "Wir ziehen um, bekommen ein Baby und ich möchte ein Café eröffnen. "
        .repeat(20)
        .chars()
        .take(1000)
        .collect();
    let start = Instant::now();
    let runs = 20;
    for _ in 0..runs {
        rathaus_catalog::assistant::assist(&index, &long, 10, |_| 1.0).unwrap();
    }
    println!(
        "1,000-character sentence: {:.2?} per answer",
        start.elapsed() / runs
    );
}
