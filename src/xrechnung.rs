//! `rathaus xrechnung validate`: checks E-Rechnungen (XRechnung, UBL or CII) with the official
//! KoSIT configuration, in-process.

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use rathaus_einvoice::{Layer, Report, Validator};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Default location of the KoSIT configuration: `../shared` beside the project root.
const DEFAULT_CONFIG: &str = "../shared/testdata/xrechnung/config";

/// Subcommands of `rathaus xrechnung`.
#[derive(Subcommand)]
pub enum XrechnungCommand {
    /// Validate invoices; exit code 0 only if every file is accepted.
    Validate {
        /// Output: German text (default) or one JSON object per file and line.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Run only one layer: `en16931` = the EN 16931 rules alone (no scenario, no schema).
        #[arg(long, value_enum)]
        layer: Option<LayerArg>,
        /// Directory of the KoSIT validator configuration (scenarios.xml, resources/).
        #[arg(long, env = "RATHAUS_XRECHNUNG_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Invoice files (XML).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Output format.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Readable German text.
    Text,
    /// JSON lines: `{"file", "valid", "findings": [{"rule", "severity", "location", "text"}]}`.
    Json,
}

/// Layer selection.
#[derive(Clone, Copy, ValueEnum)]
pub enum LayerArg {
    /// Only the EN 16931 business and syntax rules.
    En16931,
}

/// Runs a `rathaus xrechnung` subcommand.
pub fn run(command: XrechnungCommand) -> Result<ExitCode> {
    let XrechnungCommand::Validate {
        format,
        layer,
        config,
        files,
    } = command;
    let validator = Validator::load(&config).with_context(|| {
        format!(
            "XRechnung-Konfiguration in {} nicht ladbar (Option --config)",
            config.display()
        )
    })?;
    let layer = match layer {
        Some(LayerArg::En16931) => Layer::En16931,
        None => Layer::All,
    };
    let mut all_valid = true;
    for file in &files {
        let report = match std::fs::read(file) {
            Ok(bytes) => validator.validate(&bytes, layer),
            Err(e) => unreadable(file, &e),
        };
        all_valid &= report.valid;
        match format {
            Format::Json => println!("{}", json_line(file, &report)),
            Format::Text => print_text(file, &report),
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn unreadable(file: &Path, e: &std::io::Error) -> Report {
    Report {
        scenario: None,
        valid: false,
        findings: vec![rathaus_einvoice::Finding {
            rule: "IO".into(),
            severity: rathaus_einvoice::Severity::Fatal,
            location: String::new(),
            text: format!("Datei {} nicht lesbar: {e}", file.display()),
        }],
    }
}

fn json_line(file: &Path, report: &Report) -> String {
    serde_json::json!({
        "file": file.display().to_string(),
        "valid": report.valid,
        "scenario": report.scenario,
        "findings": report.findings,
    })
    .to_string()
}

fn print_text(file: &Path, report: &Report) {
    let verdict = if report.valid {
        "angenommen"
    } else {
        "abgelehnt"
    };
    println!("{}: {verdict}", file.display());
    if let Some(s) = &report.scenario {
        println!("  Szenario: {s}");
    }
    for f in &report.findings {
        println!("  [{}] {}: {}", f.severity.german(), f.rule, f.text);
        if !f.location.is_empty() {
            println!("      Ort: {}", f.location);
        }
    }
}

/// The validator for `serve`: from `RATHAUS_XRECHNUNG_CONFIG` or the default directory, loaded
/// once per process. Without a usable configuration E-Rechnung reception answers 503.
pub fn load_for_serve(max_bytes: usize) -> Option<std::sync::Arc<Validator>> {
    let dir = std::env::var_os("RATHAUS_XRECHNUNG_CONFIG")
        .map_or_else(|| PathBuf::from(DEFAULT_CONFIG), PathBuf::from);
    let started = std::time::Instant::now();
    match Validator::load(&dir) {
        Ok(v) => {
            tracing::info!(config = %dir.display(), load_ms = started.elapsed().as_millis() as u64, "XRechnung validator loaded");
            // Accept invoices up to `einvoice.max_bytes` (never below the default limits).
            let limits = rathaus_einvoice::Limits {
                max_bytes: max_bytes.max(rathaus_einvoice::Limits::default().max_bytes),
                ..rathaus_einvoice::Limits::default()
            };
            Some(std::sync::Arc::new(v.with_limits(limits)))
        }
        Err(e) => {
            tracing::warn!(config = %dir.display(), error = %e, "no XRechnung configuration: E-Rechnung reception disabled");
            None
        }
    }
}
