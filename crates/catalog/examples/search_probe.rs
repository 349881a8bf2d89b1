//! Prints the top hits of the benchmark queries (for tuning): `cargo run -p rathaus-catalog --example search_probe`.
fn main() {
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/ozg-leika"
    ));
    let data = rathaus_catalog::read_dir(dir).expect("catalogue");
    let index = rathaus_catalog::search::SearchIndex::build(data.documents()).expect("index");
    let queries = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/search-queries/queries.txt"
    ))
    .unwrap();
    for q in queries
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (total, hits) = index.search(q, 0, 5, |_| 1.0).unwrap();
        let names: Vec<_> = hits.iter().map(|h| h.doc.name.as_str()).collect();
        println!("{q:35} {total:5}  {}", names.join(" | "));
    }
}
