//! The reference service of the demo: registration of a dog for the dog tax
//! (Hundesteuer-Anmeldung), built with the model the way the builder would. Ids are in the
//! FIM Nummernkreis 99 (`S99…`, `G99…`, `F99…`), which no real FIM element uses; they already
//! have the XDF 3 format (letter + 11 digits), so an XDF 3 export keeps them unchanged.
//!
//! The municipality's tax rates are tenant parameters; the form only carries the fee hint.

use crate::model::{
    CodeList, CodeValue, Condition, Constraints, DataType, Element, Fee, Field, FieldKind, FimMeta,
    Form, Group, Prefill, Step, TrustLevel,
};

/// Id of the Hundesteuer form.
pub const HUNDESTEUER_ID: &str = "S99000000001";

/// Kinds of dog for the tax (code list of the field `F99000000014`).
pub const DOG_KINDS: [(&str, &str); 4] = [
    ("ersthund", "Ersthund"),
    ("zweithund", "Zweithund"),
    ("weiterer_hund", "Dritter oder weiterer Hund"),
    ("gefaehrlicher_hund", "Gefährlicher Hund (Listenhund)"),
];

/// Breeds offered in the field `F99000000011` (a short list; "andere" for the rest).
pub const BREEDS: [(&str, &str); 8] = [
    ("mischling", "Mischling"),
    ("labrador", "Labrador Retriever"),
    ("schaeferhund", "Deutscher Schäferhund"),
    ("dackel", "Dackel"),
    ("golden_retriever", "Golden Retriever"),
    ("pitbull", "American Pit Bull Terrier"),
    ("staffordshire", "American Staffordshire Terrier"),
    ("andere", "Andere Rasse"),
];

fn values(list: &[(&str, &str)]) -> CodeList {
    CodeList {
        urn: String::new(),
        version: None,
        values: list
            .iter()
            .map(|(code, label)| CodeValue {
                code: (*code).into(),
                label: (*label).into(),
            })
            .collect(),
    }
}

fn text(id: &str, label: &str, help: &str, min_length: u32, max_length: u32) -> Field {
    Field {
        id: id.into(),
        version: "1.0.0".into(),
        name: label.into(),
        label: label.into(),
        help: Some(help.into()),
        description: None,
        kind: FieldKind::Input,
        datatype: DataType::Text,
        constraints: Constraints {
            min_length: Some(min_length),
            max_length: Some(max_length),
            ..Constraints::default()
        },
        code_list: None,
        min: 1,
        max: Some(1),
        content: None,
        placeholder: None,
        condition: None,
        prefill: None,
        media_types: Vec::new(),
        max_size: None,
        rules: Vec::new(),
        fim: FimMeta::default(),
    }
}

fn typed(id: &str, label: &str, help: &str, datatype: DataType) -> Field {
    Field {
        datatype,
        constraints: Constraints::default(),
        ..text(id, label, help, 0, 1)
    }
}

fn select(id: &str, label: &str, help: &str, list: &[(&str, &str)]) -> Field {
    Field {
        kind: FieldKind::Select,
        code_list: Some(values(list)),
        constraints: Constraints::default(),
        ..text(id, label, help, 0, 1)
    }
}

fn group(id: &str, label: &str, help: &str, min: u32, max: u32, children: Vec<Element>) -> Group {
    Group {
        id: id.into(),
        version: "1.0.0".into(),
        name: label.into(),
        label: label.into(),
        help: Some(help.into()),
        description: None,
        min,
        max: Some(max),
        condition: None,
        rules: Vec::new(),
        fim: FimMeta::default(),
        children,
    }
}

fn optional(mut f: Field) -> Field {
    f.min = 0;
    f
}

fn prefilled(mut f: Field, p: Prefill) -> Field {
    f.prefill = Some(p);
    f
}

/// The Hundesteuer-Anmeldung: owner (prefilled from the account), one to five dogs (name,
/// breed from a code list, birth date, transponder chip number with a 15-digit pattern, kind of
/// dog for the tax, proof for dangerous dogs shown only for them, liability insurance upload,
/// exemption request), and a confirmation.
pub fn hundesteuer() -> Form {
    let owner = group(
        "G99000000001",
        "Halterin oder Halter",
        "Angaben zur Person, die den Hund hält. Sie werden aus Ihrem Konto übernommen.",
        1,
        1,
        vec![
            Element::Field(prefilled(
                text(
                    "F99000000001",
                    "Vorname",
                    "Geben Sie Ihren Vornamen an.",
                    1,
                    100,
                ),
                Prefill::GivenName,
            )),
            Element::Field(prefilled(
                text(
                    "F99000000002",
                    "Familienname",
                    "Geben Sie Ihren Familiennamen an.",
                    1,
                    120,
                ),
                Prefill::FamilyName,
            )),
            Element::Field(prefilled(
                typed(
                    "F99000000003",
                    "Geburtsdatum",
                    "Geben Sie Ihr Geburtsdatum an.",
                    DataType::Date,
                ),
                Prefill::Birthdate,
            )),
            Element::Group(group(
                "G99000000002",
                "Anschrift",
                "Anschrift, unter der der Hund gehalten wird.",
                1,
                1,
                vec![
                    Element::Field(prefilled(
                        text("F99000000004", "Straße", "Geben Sie die Straße an.", 1, 55),
                        Prefill::Street,
                    )),
                    Element::Field(prefilled(
                        optional(text(
                            "F99000000005",
                            "Hausnummer",
                            "Geben Sie die Hausnummer mit Zusatz an.",
                            1,
                            10,
                        )),
                        Prefill::HouseNumber,
                    )),
                    Element::Field(prefilled(
                        Field {
                            constraints: Constraints {
                                pattern: Some("[0-9]{5}".into()),
                                min_length: Some(5),
                                max_length: Some(5),
                                ..Constraints::default()
                            },
                            ..text(
                                "F99000000006",
                                "Postleitzahl",
                                "Geben Sie die fünfstellige Postleitzahl an.",
                                5,
                                5,
                            )
                        },
                        Prefill::PostalCode,
                    )),
                    Element::Field(prefilled(
                        text("F99000000007", "Ort", "Geben Sie den Ort an.", 1, 60),
                        Prefill::Locality,
                    )),
                ],
            )),
            Element::Field(prefilled(
                optional(Field {
                    constraints: Constraints {
                        min_length: Some(6),
                        max_length: Some(254),
                        pattern: Some("[^@\\s]+@[^@\\s]+\\.[^@\\s]+".into()),
                        ..Constraints::default()
                    },
                    ..text(
                        "F99000000008",
                        "E-Mail-Adresse",
                        "Für Rückfragen zu Ihrer Anmeldung.",
                        0,
                        254,
                    )
                }),
                Prefill::Email,
            )),
        ],
    );
    let mut dangerous_proof = optional(typed(
        "F99000000015",
        "Nachweis Wesenstest",
        "Laden Sie das Gutachten über den bestandenen Wesenstest hoch (PDF oder Bild).",
        DataType::File,
    ));
    dangerous_proof.min = 1;
    dangerous_proof.condition = Some(Condition {
        field: "F99000000014".into(),
        equals: serde_json::json!("gefaehrlicher_hund"),
    });
    dangerous_proof.media_types = vec!["application/pdf".into(), "image/jpeg".into()];
    dangerous_proof.max_size = Some(10 * 1024 * 1024);
    let mut insurance = optional(typed(
        "F99000000016",
        "Nachweis Haftpflichtversicherung",
        "Laden Sie die Bestätigung Ihrer Hundehaftpflichtversicherung hoch.",
        DataType::File,
    ));
    insurance.media_types = vec!["application/pdf".into()];
    let mut exemption_reason = optional(text(
        "F99000000018",
        "Begründung der Steuerbefreiung",
        "Zum Beispiel Assistenzhund, Herdenschutzhund oder Hund aus dem Tierheim.",
        1,
        500,
    ));
    exemption_reason.condition = Some(Condition {
        field: "F99000000017".into(),
        equals: serde_json::json!(true),
    });
    exemption_reason.min = 1;
    let mut note = typed(
        "F99000000019",
        "Hinweis zur Steuerpflicht",
        "Hinweistext zur Steuerpflicht.",
        DataType::Text,
    );
    note.kind = FieldKind::Label;
    note.min = 0;
    note.content = Some(
        "Die Steuerpflicht beginnt mit dem Monat, der auf die Aufnahme des Hundes folgt.".into(),
    );
    let dog = group(
        "G99000000003",
        "Hund",
        "Angaben zu jedem Hund, den Sie anmelden (höchstens fünf).",
        1,
        5,
        vec![
            Element::Field(note),
            Element::Field(text(
                "F99000000010",
                "Name des Hundes",
                "Geben Sie den Rufnamen des Hundes an.",
                1,
                50,
            )),
            Element::Field(select(
                "F99000000011",
                "Rasse",
                "Wählen Sie die Rasse oder \"Andere Rasse\".",
                &BREEDS,
            )),
            Element::Field(typed(
                "F99000000012",
                "Wurfdatum",
                "Geben Sie das Geburtsdatum (Wurfdatum) des Hundes an.",
                DataType::Date,
            )),
            Element::Field(optional(Field {
                constraints: Constraints {
                    min_length: Some(15),
                    max_length: Some(15),
                    pattern: Some("[0-9]{15}".into()),
                    ..Constraints::default()
                },
                ..text(
                    "F99000000013",
                    "Transpondernummer",
                    "Die 15-stellige Nummer des Mikrochips (ISO 11784).",
                    15,
                    15,
                )
            })),
            Element::Field(select(
                "F99000000014",
                "Art des Hundes für die Steuer",
                "Der Steuersatz hängt davon ab, der wievielte Hund es ist und ob er als gefährlich gilt.",
                &DOG_KINDS,
            )),
            Element::Field(dangerous_proof),
            Element::Field(typed(
                "F99000000020",
                "Gehalten seit",
                "Seit wann halten Sie den Hund in der Gemeinde?",
                DataType::Date,
            )),
            Element::Field(insurance),
            Element::Field(typed(
                "F99000000017",
                "Steuerbefreiung beantragt",
                "Beantragen Sie eine Befreiung oder Ermäßigung der Hundesteuer?",
                DataType::Bool,
            )),
            Element::Field(exemption_reason),
        ],
    );
    let confirmation = typed(
        "F99000000030",
        "Richtigkeit der Angaben",
        "Bestätigen Sie, dass Ihre Angaben vollständig und richtig sind.",
        DataType::Bool,
    );
    Form {
        id: HUNDESTEUER_ID.into(),
        version: "1.0.0".into(),
        name: "Hundesteuer Anmeldung".into(),
        title: "Anmeldung eines Hundes zur Hundesteuer".into(),
        description: Some(
            "Melden Sie Hunde an, die Sie in der Gemeinde halten. Die Gemeinde setzt die Hundesteuer per Bescheid fest."
                .into(),
        ),
        help: Some("Sie brauchen die Transpondernummer und den Nachweis der Haftpflichtversicherung.".into()),
        source: None,
        trust_level: Some(TrustLevel::Substantial),
        fee: Some(Fee {
            amount_cents: None,
            hint: "Die Anmeldung ist gebührenfrei. Die Höhe der Hundesteuer richtet sich nach der Hundesteuersatzung Ihrer Gemeinde."
                .into(),
        }),
        fim: FimMeta {
            legal_basis: Some("Kommunalabgabengesetz des Landes i. V. m. der Hundesteuersatzung der Gemeinde".into()),
            ..FimMeta::default()
        },
        rules: Vec::new(),
        elements: vec![
            Element::Group(owner),
            Element::Group(dog),
            Element::Field(confirmation),
        ],
        steps: vec![
            Step {
                title: "Halterin oder Halter".into(),
                elements: vec!["G99000000001".into()],
            },
            Step {
                title: "Hunde".into(),
                elements: vec!["G99000000003".into()],
            },
            Step {
                title: "Abschluss".into(),
                elements: vec!["F99000000030".into()],
            },
        ],
    }
}

/// A municipality's annual dog-tax rates in cent (tenant parameter `hundesteuer_saetze`,
/// given there in euro: `{"ersthund": 96, "weiterer_hund": 132, "gefaehrlicher_hund": 600}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxRates {
    /// The first (or only) dog.
    pub first: u64,
    /// The second and every further dog.
    pub further: u64,
    /// A dangerous dog (Listenhund), whatever its position.
    pub dangerous: u64,
}

impl TaxRates {
    /// The rates from the tenant's parameters; `None` if they are missing or not amounts.
    pub fn from_params(params: &serde_json::Value) -> Option<Self> {
        let rates = params.get("hundesteuer_saetze")?;
        let cents = |key: &str| -> Option<u64> {
            let euro = rates.get(key)?.as_f64()?;
            (0.0..1e9)
                .contains(&euro)
                .then(|| (euro * 100.0).round() as u64)
        };
        Some(Self {
            first: cents("ersthund")?,
            further: cents("weiterer_hund")?,
            dangerous: cents("gefaehrlicher_hund")?,
        })
    }
}

/// One dog of an estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxLine {
    /// The dog's name as entered.
    pub name: String,
    /// The kind as the applicant declared it (label of [`DOG_KINDS`]).
    pub kind: String,
    /// Annual tax in cent (0 when an exemption is applied for).
    pub cents: u64,
    /// An exemption is applied for (decided by the office).
    pub exemption_requested: bool,
}

/// The annual dog tax an application leads to under the municipality's rates, as the applicant
/// declared the dogs; the office decides in the tax assessment (Bescheid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxEstimate {
    /// Per dog, in the order entered.
    pub lines: Vec<TaxLine>,
    /// Sum of the lines in cent.
    pub total_cents: u64,
}

/// Estimates the annual tax of Hundesteuer data (keyed by FIM ids, as submitted): each dog at
/// the rate of its declared kind (first dog, second or further dog, dangerous dog), nothing
/// for a dog whose exemption is applied for. `None` if the data holds no dogs.
pub fn estimate_tax(data: &serde_json::Value, rates: TaxRates) -> Option<TaxEstimate> {
    let dogs = data.get("G99000000003")?.as_array()?;
    let lines: Vec<TaxLine> = dogs
        .iter()
        .map(|dog| {
            let code = dog
                .get("F99000000014")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let exemption_requested =
                dog.get("F99000000017").and_then(|v| v.as_bool()) == Some(true);
            let rate = match code {
                "ersthund" => rates.first,
                "gefaehrlicher_hund" => rates.dangerous,
                _ => rates.further,
            };
            TaxLine {
                name: dog
                    .get("F99000000010")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned(),
                kind: DOG_KINDS
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map_or(code, |(_, label)| label)
                    .to_owned(),
                cents: if exemption_requested { 0 } else { rate },
                exemption_requested,
            }
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(TaxEstimate {
        total_cents: lines.iter().map(|l| l.cents).sum(),
        lines,
    })
}

/// An amount in cent as German euro text: `1234` → `12,34 €`, `123456` → `1.234,56 €`.
pub fn euro(cents: u64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{grouped},{:02} €", cents % 100)
}

#[cfg(test)]
mod tax_tests {
    use super::*;
    use serde_json::json;

    const RATES: TaxRates = TaxRates {
        first: 9_600,
        further: 13_200,
        dangerous: 60_000,
    };

    #[test]
    fn each_dog_at_the_rate_of_its_kind_exemptions_free() {
        let data = json!({"G99000000003": [
            {"F99000000010": "Bello", "F99000000014": "ersthund"},
            {"F99000000010": "Luna", "F99000000014": "zweithund"},
            {"F99000000010": "Rex", "F99000000014": "gefaehrlicher_hund"},
            {"F99000000010": "Hope", "F99000000014": "weiterer_hund", "F99000000017": true},
        ]});
        let e = estimate_tax(&data, RATES).unwrap();
        let cents: Vec<u64> = e.lines.iter().map(|l| l.cents).collect();
        assert_eq!(cents, [9_600, 13_200, 60_000, 0]);
        assert_eq!(e.total_cents, 82_800);
        assert_eq!(e.lines[2].kind, "Gefährlicher Hund (Listenhund)");
        assert!(e.lines[3].exemption_requested && !e.lines[0].exemption_requested);
        assert!(estimate_tax(&json!({}), RATES).is_none());
        assert!(estimate_tax(&json!({"G99000000003": []}), RATES).is_none());
    }

    #[test]
    fn rates_come_from_tenant_params_in_euro() {
        let params = json!({"hundesteuer_saetze": {"ersthund": 96, "weiterer_hund": 132.5, "gefaehrlicher_hund": 600}});
        assert_eq!(
            TaxRates::from_params(&params),
            Some(TaxRates {
                first: 9_600,
                further: 13_250,
                dangerous: 60_000
            })
        );
        assert_eq!(TaxRates::from_params(&json!({})), None);
        assert_eq!(
            TaxRates::from_params(
                &json!({"hundesteuer_saetze": {"ersthund": -1, "weiterer_hund": 1, "gefaehrlicher_hund": 1}})
            ),
            None
        );
        assert_eq!(euro(82_800), "828,00 €");
        assert_eq!(euro(123_456_789), "1.234.567,89 €");
        assert_eq!(euro(5), "0,05 €");
    }
}
