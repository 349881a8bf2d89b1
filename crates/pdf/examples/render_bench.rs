//! How long rendering takes: a receipt-sized document (one page, headings, a list of fields, a
//! small table) and an invoice-sized one (a 200-row table over several pages), each rendered
//! repeatedly on one thread.
//!
//! `cargo run --release -p rathaus-pdf --example render_bench [-- ROUNDS]`

use rathaus_pdf::{Block, Document, render};
use std::time::Instant;

fn receipt() -> Document {
    let mut fields: Vec<(String, String)> = vec![
        ("Aktenzeichen".into(), "A-20261207-7K2M4Q".into()),
        ("Eingegangen am".into(), "07.12.2026, 01:23 Uhr".into()),
        ("Behörde".into(), "Stadt Köln".into()),
    ];
    for i in 1..=20 {
        fields.push((
            format!("Angabe {i}"),
            format!("Wert Nummer {i} mit Umlauten äöüß"),
        ));
    }
    Document {
        title: "Eingangsbestätigung A-20261207-7K2M4Q".into(),
        lang: "de-DE".into(),
        author: Some("Stadt Köln".into()),
        subject: Some("Anmeldung eines Hundes zur Hundesteuer".into()),
        blocks: vec![
            Block::Heading {
                level: 1,
                text: "Eingangsbestätigung".into(),
            },
            Block::Paragraph(
                "Ihr Antrag „Anmeldung eines Hundes zur Hundesteuer“ ist eingegangen.".into(),
            ),
            Block::Fields(fields),
            Block::Table {
                caption: Some("Jahresbetrag nach der Hundesteuersatzung".into()),
                header: vec!["Hund".into(), "Art".into(), "Steuer pro Jahr".into()],
                rows: vec![vec!["Bello".into(), "Ersthund".into(), "156,00 €".into()]],
                widths: vec![3.0, 4.0, 2.0],
                numeric: vec![false, false, true],
            },
        ],
    }
}

fn invoice() -> Document {
    Document {
        title: "Rechnung 123456XX".into(),
        lang: "de-DE".into(),
        author: Some("Stadt Köln".into()),
        subject: None,
        blocks: vec![
            Block::Heading {
                level: 1,
                text: "Rechnung 123456XX".into(),
            },
            Block::Table {
                caption: Some("Positionen".into()),
                header: vec![
                    "Pos.".into(),
                    "Bezeichnung".into(),
                    "Menge".into(),
                    "Betrag".into(),
                ],
                rows: (1..=200)
                    .map(|i| {
                        vec![
                            i.to_string(),
                            format!("Leistung {i}: Wartung der Straßenbeleuchtung"),
                            "1".into(),
                            format!("{i},50 EUR"),
                        ]
                    })
                    .collect(),
                widths: vec![1.0, 6.0, 1.5, 2.0],
                numeric: vec![true, false, true, true],
            },
        ],
    }
}

fn measure(name: &str, doc: &Document, rounds: usize) {
    let bytes = render(doc).expect("renders").len();
    let mut times: Vec<f64> = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        std::hint::black_box(render(doc).expect("renders"));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{name}: {bytes} bytes, {rounds} renders, p50 {:.2} ms, p99 {:.2} ms, {:.0} documents/s on one thread",
        pct(0.5),
        pct(0.99),
        1000.0 / pct(0.5)
    );
}

fn main() {
    let rounds = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    measure("receipt (1 page)", &receipt(), rounds);
    measure("invoice (200 lines)", &invoice(), rounds.div_ceil(10));
}
