//! A presentation-neutral, readable view of an invoice: all business terms grouped as the
//! official XRechnung visualisation groups them, with German labels naming the BT/BG id.
//!
//! Only terms with a value appear. Amounts are shown as in the document with the currency,
//! dates as `TT.MM.JJJJ`, codes with a German meaning where one is known. HTML and PDF
//! renderers walk [`View`] generically.

use crate::model::{AllowanceCharge, Identifier, Invoice, Line, Party};
use rust_decimal::Decimal;
use serde::Serialize;

/// The readable view of one invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct View {
    /// Title, e.g. "Rechnung 12345".
    pub title: String,
    /// Sections in display order (empty sections are left out).
    pub sections: Vec<Section>,
}

/// A group of terms (usually one BG).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Group id, e.g. "BG-4" or "uebersicht".
    pub id: String,
    /// Heading.
    pub title: String,
    /// Single terms, in order.
    pub terms: Vec<Term>,
    /// Tables of repeated groups.
    pub tables: Vec<Table>,
    /// Nested groups.
    pub subsections: Vec<Section>,
}

/// One business term with its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Term {
    /// Term id, e.g. "BT-1".
    pub id: String,
    /// Label naming the id, e.g. "Rechnungsnummer (BT-1)".
    pub label: String,
    /// Value as displayed.
    pub value: String,
}

/// A table of repeated groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Caption.
    pub caption: String,
    /// Column headings.
    pub columns: Vec<String>,
    /// Per column: whether it holds numbers (right-aligned).
    pub numeric: Vec<bool>,
    /// Rows of cells (as many as columns; empty cells are empty strings).
    pub rows: Vec<Vec<String>>,
}

impl Section {
    fn new(id: &str, title: &str) -> Section {
        Section {
            id: id.to_string(),
            title: title.to_string(),
            terms: Vec::new(),
            tables: Vec::new(),
            subsections: Vec::new(),
        }
    }

    /// Adds a term if it has a value.
    fn term(&mut self, id: &str, label: &str, value: Option<String>) {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            self.terms.push(Term {
                id: id.to_string(),
                label: format!("{label} ({id})"),
                value: v,
            });
        }
    }

    fn text(&mut self, id: &str, label: &str, value: &Option<String>) {
        self.term(id, label, value.clone());
    }

    fn table(&mut self, t: Option<Table>) {
        if let Some(t) = t {
            self.tables.push(t);
        }
    }

    fn sub(&mut self, s: Section) {
        if !s.is_empty() {
            self.subsections.push(s);
        }
    }

    /// Whether the section shows nothing.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
            && self.tables.is_empty()
            && self.subsections.iter().all(Section::is_empty)
    }
}

impl Table {
    /// A table of the given columns `(heading, numeric)`; columns without any value are left
    /// out, and `None` if there are no rows.
    fn new(caption: &str, columns: &[(&str, bool)], rows: Vec<Vec<String>>) -> Option<Table> {
        if rows.is_empty() {
            return None;
        }
        let keep: Vec<bool> = (0..columns.len())
            .map(|i| rows.iter().any(|r| r.get(i).is_some_and(|c| !c.is_empty())))
            .collect();
        let pick = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(c, _)| c)
                .collect()
        };
        Some(Table {
            caption: caption.to_string(),
            columns: pick(columns.iter().map(|c| c.0.to_string()).collect()),
            numeric: columns
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(c, _)| c.1)
                .collect(),
            rows: rows.into_iter().map(pick).collect(),
        })
    }
}

/// `YYYY-MM-DD` as `TT.MM.JJJJ` (other text unchanged).
pub fn date(iso: &str) -> String {
    let b = iso.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        format!("{}.{}.{}", &iso[8..10], &iso[5..7], &iso[..4])
    } else {
        iso.to_string()
    }
}

fn opt_date(v: &Option<String>) -> Option<String> {
    v.as_deref().map(date)
}

fn amount(v: Option<Decimal>, currency: &str) -> Option<String> {
    v.map(|d| {
        if currency.is_empty() {
            d.to_string()
        } else {
            format!("{d} {currency}")
        }
    })
}

fn percent(v: Option<Decimal>) -> Option<String> {
    v.map(|d| format!("{d} %"))
}

fn cell(v: Option<String>) -> String {
    v.unwrap_or_default()
}

fn ident(id: &Identifier) -> String {
    match (&id.scheme, &id.scheme_version) {
        (Some(s), Some(v)) => format!("{} (Schema {s}, Version {v})", id.value),
        (Some(s), None) => format!("{} (Schema {s})", id.value),
        _ => id.value.clone(),
    }
}

/// A code with its German meaning, if known.
fn coded(code: &Option<String>, meaning: fn(&str) -> Option<&'static str>) -> Option<String> {
    code.as_deref().map(|c| match meaning(c) {
        Some(m) => format!("{c} – {m}"),
        None => c.to_string(),
    })
}

/// UNTDID 1001 document types used for invoices.
fn type_code(c: &str) -> Option<&'static str> {
    Some(match c {
        "326" => "Teilrechnung",
        "380" => "Rechnung",
        "381" => "Gutschrift",
        "384" => "Rechnungskorrektur",
        "389" => "Selbst ausgestellte Rechnung",
        "875" => "Teilschlussrechnung",
        "876" => "Teilrechnung (Bau)",
        "877" => "Schlussrechnung",
        _ => return None,
    })
}

/// UNTDID 4461 payment means.
fn payment_means(c: &str) -> Option<&'static str> {
    Some(match c {
        "1" => "Nicht definiert",
        "10" => "Barzahlung",
        "20" => "Scheck",
        "30" => "Überweisung",
        "31" => "Auslandsüberweisung",
        "42" => "Zahlung auf Bankkonto",
        "48" => "Bankkarte",
        "49" => "Lastschrift",
        "54" => "Kreditkarte",
        "55" => "Debitkarte",
        "57" => "Dauerauftrag",
        "58" => "SEPA-Überweisung",
        "59" => "SEPA-Lastschrift",
        "68" => "Online-Zahlungsdienst",
        "97" => "Verrechnung",
        _ => return None,
    })
}

/// UNTDID 5305 VAT categories.
fn vat_category(c: &str) -> Option<&'static str> {
    Some(match c {
        "S" => "Umsatzsteuer mit Normalsatz",
        "Z" => "nach dem Nullsatz zu versteuernde Waren",
        "E" => "Steuerbefreit",
        "AE" => "Umkehrung der Steuerschuldnerschaft",
        "K" => "Kein Ausweis der Umsatzsteuer bei innergemeinschaftlichen Lieferungen",
        "G" => "Steuer nicht erhoben aufgrund von Export außerhalb der EU",
        "O" => "Außerhalb des Steueranwendungsbereichs",
        "L" => "IGIC (Kanarische Inseln)",
        "M" => "IPSI (Ceuta/Melilla)",
        _ => return None,
    })
}

/// UNTDID 2005 (BT-8).
fn tax_point_code(c: &str) -> Option<&'static str> {
    Some(match c {
        "3" | "5" => "Rechnungsdatum",
        "35" => "Lieferdatum",
        "29" | "72" => "Zahlungsdatum",
        "432" => "Zahlungsdatum",
        _ => return None,
    })
}

/// Term ids of a party role, in the order name, trading name, identifier, legal registration,
/// VAT id, tax registration, legal information, electronic address, address lines 1–3, city,
/// post code, subdivision, country, contact point, telephone, e-mail.
struct Ids {
    name: &'static str,
    trading: &'static str,
    id: &'static str,
    legal: &'static str,
    vat: &'static str,
    endpoint: &'static str,
    address: [&'static str; 8],
    contact: [&'static str; 4],
}

fn party(section: &mut Section, p: &Party, ids: &Ids, name_label: &str) {
    section.text(ids.name, name_label, &p.name);
    section.text(ids.trading, "Handelsname", &p.trading_name);
    for i in &p.identifiers {
        section.term(ids.id, "Kennung", Some(ident(i)));
    }
    section.term(ids.legal, "Registernummer", p.legal_id.as_ref().map(ident));
    section.text(ids.vat, "Umsatzsteuer-Identifikationsnummer", &p.vat_id);
    section.text("BT-32", "Steuernummer", &p.tax_registration);
    section.text("BT-33", "Weitere rechtliche Informationen", &p.legal_info);
    section.term(
        ids.endpoint,
        "Elektronische Adresse",
        p.endpoint.as_ref().map(|e| match &p.endpoint_scheme {
            Some(s) => format!("{e} (Schema {s})"),
            None => e.clone(),
        }),
    );
    let a = &ids.address;
    let mut addr = Section::new(a[0], "Anschrift");
    addr.text(a[1], "Straße / Zeile 1", &p.street);
    addr.text(a[2], "Zeile 2", &p.street2);
    addr.text(a[3], "Zeile 3", &p.street3);
    addr.text(a[4], "Postleitzahl", &p.post_code);
    addr.text(a[5], "Ort", &p.city);
    addr.text(a[6], "Region", &p.subdivision);
    addr.text(a[7], "Land", &p.country);
    section.sub(addr);
    let c = &ids.contact;
    let mut contact = Section::new(c[0], "Kontakt");
    contact.text(c[1], "Kontaktstelle", &p.contact_name);
    contact.text(c[1], "Kontaktstelle (Abteilung)", &p.contact_department);
    contact.text(c[2], "Telefon", &p.contact_phone);
    contact.text(c[3], "E-Mail", &p.contact_email);
    section.sub(contact);
}

fn allowance_rows(list: &[&AllowanceCharge], currency: &str) -> Vec<Vec<String>> {
    list.iter()
        .map(|a| {
            vec![
                cell(amount(a.amount, currency)),
                cell(amount(a.base, currency)),
                cell(percent(a.percent)),
                cell(coded(&a.vat_category, vat_category)),
                cell(percent(a.vat_rate)),
                cell(a.reason.clone()),
                cell(a.reason_code.clone()),
            ]
        })
        .collect()
}

fn allowance_table(
    caption: &str,
    list: &[&AllowanceCharge],
    ids: [&str; 7],
    currency: &str,
) -> Option<Table> {
    let cols = [
        format!("Betrag ({})", ids[0]),
        format!("Grundbetrag ({})", ids[1]),
        format!("Prozentsatz ({})", ids[2]),
        format!("USt-Kategorie ({})", ids[3]),
        format!("USt-Satz ({})", ids[4]),
        format!("Grund ({})", ids[5]),
        format!("Grund-Code ({})", ids[6]),
    ];
    let numeric = [true, true, true, false, true, false, false];
    let columns: Vec<(&str, bool)> = cols.iter().map(String::as_str).zip(numeric).collect();
    Table::new(caption, &columns, allowance_rows(list, currency))
}

fn line_section(l: &Line, title: &str, id: &str, currency: &str) -> Section {
    let mut s = Section::new(id, title);
    s.text("BT-126", "Positionsnummer", &l.id);
    s.text("BT-127", "Freitext", &l.note);
    s.term("BT-128", "Objektkennung", l.object_id.as_ref().map(ident));
    s.term(
        "BT-129",
        "Menge",
        l.quantity.map(|q| match &l.unit {
            Some(u) => format!("{q} {u}"),
            None => q.to_string(),
        }),
    );
    s.text("BT-130", "Einheit", &l.unit);
    s.term("BT-131", "Nettobetrag", amount(l.net_amount, currency));
    s.text("BT-132", "Referenz zur Bestellposition", &l.order_line);
    s.text("BT-133", "Buchungsreferenz", &l.accounting_reference);

    let mut period = Section::new("BG-26", "Abrechnungszeitraum");
    period.term("BT-134", "von", opt_date(&l.period_start));
    period.term("BT-135", "bis", opt_date(&l.period_end));
    s.sub(period);

    let mut price = Section::new("BG-29", "Preiseinzelheiten");
    price.term("BT-146", "Nettopreis", amount(l.net_price, currency));
    price.term(
        "BT-147",
        "Rabatt auf den Preis",
        amount(l.price_discount, currency),
    );
    price.term("BT-148", "Bruttopreis", amount(l.gross_price, currency));
    price.term(
        "BT-149",
        "Preisbasismenge",
        l.base_quantity.map(|q| q.to_string()),
    );
    price.text(
        "BT-150",
        "Einheit der Preisbasismenge",
        &l.base_quantity_unit,
    );
    s.sub(price);

    let mut vat = Section::new("BG-30", "Umsatzsteuer");
    vat.term(
        "BT-151",
        "Umsatzsteuerkategorie",
        coded(&l.vat_category, vat_category),
    );
    vat.term("BT-152", "Umsatzsteuersatz", percent(l.vat_rate));
    s.sub(vat);

    let mut item = Section::new("BG-31", "Artikelinformationen");
    item.text("BT-153", "Artikelname", &l.item_name);
    item.text("BT-154", "Artikelbeschreibung", &l.item_description);
    item.text("BT-155", "Artikelnummer des Verkäufers", &l.seller_item_id);
    item.text("BT-156", "Artikelnummer des Käufers", &l.buyer_item_id);
    item.term(
        "BT-157",
        "Artikelkennung",
        l.standard_item_id.as_ref().map(ident),
    );
    for c in &l.classifications {
        item.term("BT-158", "Artikelklassifizierung", Some(ident(c)));
    }
    item.text("BT-159", "Herkunftsland", &l.origin_country);
    item.table(Table::new(
        "Artikeleigenschaften (BG-32)",
        &[("Bezeichnung (BT-160)", false), ("Wert (BT-161)", false)],
        l.attributes
            .iter()
            .map(|a| vec![cell(a.name.clone()), cell(a.value.clone())])
            .collect(),
    ));
    s.sub(item);

    let allowances: Vec<&AllowanceCharge> =
        l.allowance_charges.iter().filter(|a| !a.charge).collect();
    let charges: Vec<&AllowanceCharge> = l.allowance_charges.iter().filter(|a| a.charge).collect();
    s.table(allowance_table(
        "Nachlässe auf Positionsebene (BG-27)",
        &allowances,
        [
            "BT-136", "BT-137", "BT-138", "BG-27", "BG-27", "BT-139", "BT-140",
        ],
        currency,
    ));
    s.table(allowance_table(
        "Zuschläge auf Positionsebene (BG-28)",
        &charges,
        [
            "BT-141", "BT-142", "BT-143", "BG-28", "BG-28", "BT-144", "BT-145",
        ],
        currency,
    ));
    for (i, sub) in l.sub_lines.iter().enumerate() {
        let n = sub.id.clone().unwrap_or_else(|| (i + 1).to_string());
        s.sub(line_section(
            sub,
            &format!("Unterposition {n}"),
            &format!("{id}-{}", i + 1),
            currency,
        ));
    }
    s
}

fn overview_rows(lines: &[Line], currency: &str, depth: usize, rows: &mut Vec<Vec<String>>) {
    for l in lines {
        let indent = "– ".repeat(depth);
        rows.push(vec![
            format!("{indent}{}", l.id.clone().unwrap_or_default()),
            cell(l.item_name.clone()),
            cell(l.quantity.map(|q| q.to_string())),
            cell(l.unit.clone()),
            cell(amount(l.net_price, currency)),
            cell(amount(l.net_amount, currency)),
            cell(l.vat_category.clone()),
            cell(percent(l.vat_rate)),
        ]);
        overview_rows(&l.sub_lines, currency, depth + 1, rows);
    }
}

impl Invoice {
    /// The readable view of this invoice.
    pub fn view(&self) -> View {
        let cur = self.currency.as_deref().unwrap_or_default();
        let kind = match self.type_code.as_deref() {
            Some(c) => type_code(c).unwrap_or("Rechnung"),
            None => "Rechnung",
        };
        let title = match &self.number {
            Some(n) => format!("{kind} {n}"),
            None => kind.to_string(),
        };
        let mut sections = Vec::new();

        // Übersicht / Kopfdaten.
        let mut head = Section::new("uebersicht", "Übersicht");
        head.text("BT-1", "Rechnungsnummer", &self.number);
        head.term("BT-2", "Rechnungsdatum", opt_date(&self.issue_date));
        head.term("BT-3", "Rechnungsart", coded(&self.type_code, type_code));
        head.text("BT-5", "Währung", &self.currency);
        head.text(
            "BT-6",
            "Umsatzsteuer-Abrechnungswährung",
            &self.tax_currency,
        );
        head.term("BT-7", "Steuerdatum", opt_date(&self.tax_point_date));
        head.term(
            "BT-8",
            "Code für das Steuerdatum",
            coded(&self.tax_point_date_code, tax_point_code),
        );
        head.term("BT-9", "Fälligkeitsdatum", opt_date(&self.due_date));
        head.text(
            "BT-10",
            "Käuferreferenz (Leitweg-ID)",
            &self.buyer_reference,
        );
        head.text("BT-11", "Projektnummer", &self.project_reference);
        head.text("BT-11", "Projektbezeichnung", &self.project_name);
        head.text("BT-12", "Vertragsnummer", &self.contract_reference);
        head.text("BT-13", "Bestellnummer", &self.order_reference);
        head.text("BT-14", "Auftragsnummer", &self.sales_order_reference);
        head.text("BT-15", "Wareneingangsmeldung", &self.receiving_advice);
        head.text("BT-16", "Versandanzeige", &self.despatch_advice);
        head.text("BT-17", "Vergabe- oder Losnummer", &self.tender_reference);
        head.term(
            "BT-18",
            "Objektkennung",
            self.invoiced_object.as_ref().map(ident),
        );
        head.text(
            "BT-19",
            "Buchungsreferenz des Käufers",
            &self.accounting_reference,
        );
        head.text("BT-20", "Zahlungsbedingungen", &self.payment_terms);
        let mut process = Section::new("BG-2", "Prozesssteuerung");
        process.text("BT-23", "Geschäftsprozess", &self.business_process);
        process.text("BT-24", "Spezifikationskennung", &self.specification);
        head.sub(process);
        let mut preceding = Section::new("BG-3", "Vorausgegangene Rechnungen");
        preceding.table(Table::new(
            "Vorausgegangene Rechnungen (BG-3)",
            &[
                ("Rechnungsnummer (BT-25)", false),
                ("Rechnungsdatum (BT-26)", false),
            ],
            self.preceding_invoices
                .iter()
                .map(|p| vec![cell(p.number.clone()), cell(opt_date(&p.issue_date))])
                .collect(),
        ));
        head.sub(preceding);
        sections.push(head);

        let mut seller = Section::new("BG-4", "Verkäufer");
        party(
            &mut seller,
            &self.seller,
            &Ids {
                name: "BT-27",
                trading: "BT-28",
                id: "BT-29",
                legal: "BT-30",
                vat: "BT-31",
                endpoint: "BT-34",
                address: [
                    "BG-5", "BT-35", "BT-36", "BT-162", "BT-38", "BT-37", "BT-39", "BT-40",
                ],
                contact: ["BG-6", "BT-41", "BT-42", "BT-43"],
            },
            "Firmenname",
        );
        sections.push(seller);

        let mut buyer = Section::new("BG-7", "Käufer");
        party(
            &mut buyer,
            &self.buyer,
            &Ids {
                name: "BT-44",
                trading: "BT-45",
                id: "BT-46",
                legal: "BT-47",
                vat: "BT-48",
                endpoint: "BT-49",
                address: [
                    "BG-8", "BT-50", "BT-51", "BT-163", "BT-53", "BT-52", "BT-54", "BT-55",
                ],
                contact: ["BG-9", "BT-56", "BT-57", "BT-58"],
            },
            "Name",
        );
        sections.push(buyer);

        let mut payee = Section::new("BG-10", "Zahlungsempfänger");
        party(
            &mut payee,
            &self.payee,
            &Ids {
                name: "BT-59",
                trading: "BG-10",
                id: "BT-60",
                legal: "BT-61",
                vat: "BG-10",
                endpoint: "BG-10",
                address: [
                    "BG-10", "BG-10", "BG-10", "BG-10", "BG-10", "BG-10", "BG-10", "BG-10",
                ],
                contact: ["BG-10", "BG-10", "BG-10", "BG-10"],
            },
            "Name",
        );
        sections.push(payee);

        let mut rep = Section::new("BG-11", "Steuervertreter des Verkäufers");
        party(
            &mut rep,
            &self.tax_representative,
            &Ids {
                name: "BT-62",
                trading: "BG-11",
                id: "BG-11",
                legal: "BG-11",
                vat: "BT-63",
                endpoint: "BG-11",
                address: [
                    "BG-12", "BT-64", "BT-65", "BT-164", "BT-67", "BT-66", "BT-68", "BT-69",
                ],
                contact: ["BG-11", "BG-11", "BG-11", "BG-11"],
            },
            "Name",
        );
        sections.push(rep);

        let mut delivery = Section::new("BG-13", "Lieferung");
        party(
            &mut delivery,
            &self.delivery,
            &Ids {
                name: "BT-70",
                trading: "BG-13",
                id: "BT-71",
                legal: "BG-13",
                vat: "BG-13",
                endpoint: "BG-13",
                address: [
                    "BG-15", "BT-75", "BT-76", "BT-165", "BT-78", "BT-77", "BT-79", "BT-80",
                ],
                contact: ["BG-13", "BG-13", "BG-13", "BG-13"],
            },
            "Name des Empfängers",
        );
        // BT-71 is the delivery location identifier.
        for t in &mut delivery.terms {
            if t.id == "BT-71" {
                t.label = "Kennung des Lieferorts (BT-71)".into();
            }
        }
        delivery.term(
            "BT-72",
            "Tatsächliches Lieferdatum",
            opt_date(&self.delivery_date),
        );
        let mut period = Section::new("BG-14", "Rechnungszeitraum");
        period.term("BT-73", "von", opt_date(&self.period_start));
        period.term("BT-74", "bis", opt_date(&self.period_end));
        delivery.sub(period);
        sections.push(delivery);

        let mut pay = Section::new("BG-16", "Zahlungsdaten");
        pay.term(
            "BT-81",
            "Zahlungsart",
            coded(&self.payment_means, payment_means),
        );
        pay.text(
            "BT-82",
            "Erläuterung zur Zahlungsart",
            &self.payment_means_text,
        );
        pay.text("BT-83", "Verwendungszweck", &self.remittance_information);
        pay.table(Table::new(
            "Überweisung (BG-17)",
            &[
                ("Kontonummer / IBAN (BT-84)", false),
                ("Kontoinhaber (BT-85)", false),
                ("BIC (BT-86)", false),
            ],
            self.credit_transfers
                .iter()
                .map(|c| {
                    vec![
                        cell(c.account.clone()),
                        cell(c.account_name.clone()),
                        cell(c.bic.clone()),
                    ]
                })
                .collect(),
        ));
        let mut card = Section::new("BG-18", "Zahlungskarte");
        card.text("BT-87", "Kartennummer", &self.card_number);
        card.text("BT-88", "Karteninhaber", &self.card_holder);
        card.text("BG-18", "Kartennetzwerk", &self.card_network);
        pay.sub(card);
        let mut debit = Section::new("BG-19", "Lastschrift");
        debit.text("BT-89", "Mandatsreferenz", &self.mandate_reference);
        debit.text(
            "BT-90",
            "Gläubiger-Identifikationsnummer",
            &self.creditor_id,
        );
        debit.text("BT-91", "Belastetes Konto", &self.debited_account);
        pay.sub(debit);
        sections.push(pay);

        let mut ac = Section::new("nachlaesse-zuschlaege", "Nachlässe und Zuschläge");
        let allowances: Vec<&AllowanceCharge> = self
            .allowance_charges
            .iter()
            .filter(|a| !a.charge)
            .collect();
        let charges: Vec<&AllowanceCharge> =
            self.allowance_charges.iter().filter(|a| a.charge).collect();
        ac.table(allowance_table(
            "Nachlässe auf Dokumentenebene (BG-20)",
            &allowances,
            [
                "BT-92", "BT-93", "BT-94", "BT-95", "BT-96", "BT-97", "BT-98",
            ],
            cur,
        ));
        ac.table(allowance_table(
            "Zuschläge auf Dokumentenebene (BG-21)",
            &charges,
            [
                "BT-99", "BT-100", "BT-101", "BT-102", "BT-103", "BT-104", "BT-105",
            ],
            cur,
        ));
        sections.push(ac);

        let mut vat = Section::new("BG-23", "Umsatzsteuer");
        vat.table(Table::new(
            "Aufschlüsselung der Umsatzsteuer (BG-23)",
            &[
                ("Kategorie (BT-118)", false),
                ("Steuersatz (BT-119)", true),
                ("Gesamtnettobetrag (BT-116)", true),
                ("Steuerbetrag (BT-117)", true),
                ("Befreiungsgrund (BT-120)", false),
                ("Code des Befreiungsgrunds (BT-121)", false),
            ],
            self.vat_breakdown
                .iter()
                .map(|b| {
                    vec![
                        cell(coded(&b.category, vat_category)),
                        cell(percent(b.rate)),
                        cell(amount(b.taxable, cur)),
                        cell(amount(b.tax, cur)),
                        cell(b.exemption_reason.clone()),
                        cell(b.exemption_code.clone()),
                    ]
                })
                .collect(),
        ));
        sections.push(vat);

        let t = &self.totals;
        let mut totals = Section::new("BG-22", "Summen");
        totals.term(
            "BT-106",
            "Summe der Nettobeträge der Positionen",
            amount(t.line_net, cur),
        );
        totals.term("BT-107", "Summe der Nachlässe", amount(t.allowances, cur));
        totals.term("BT-108", "Summe der Zuschläge", amount(t.charges, cur));
        totals.term(
            "BT-109",
            "Gesamtbetrag ohne Umsatzsteuer",
            amount(t.without_vat, cur),
        );
        totals.term("BT-110", "Summe der Umsatzsteuer", amount(t.vat, cur));
        totals.term(
            "BT-111",
            "Summe der Umsatzsteuer in Abrechnungswährung",
            amount(
                t.vat_in_tax_currency,
                self.tax_currency.as_deref().unwrap_or_default(),
            ),
        );
        totals.term(
            "BT-112",
            "Gesamtbetrag mit Umsatzsteuer",
            amount(t.with_vat, cur),
        );
        totals.term("BT-113", "Bereits gezahlter Betrag", amount(t.prepaid, cur));
        totals.term("BT-114", "Rundungsbetrag", amount(t.rounding, cur));
        totals.term("BT-115", "Fälliger Zahlungsbetrag", amount(t.payable, cur));
        sections.push(totals);

        let mut lines = Section::new("BG-25", "Positionen");
        let mut rows = Vec::new();
        overview_rows(&self.lines, cur, 0, &mut rows);
        lines.table(Table::new(
            "Übersicht der Positionen",
            &[
                ("Pos. (BT-126)", false),
                ("Artikelname (BT-153)", false),
                ("Menge (BT-129)", true),
                ("Einheit (BT-130)", false),
                ("Nettopreis (BT-146)", true),
                ("Nettobetrag (BT-131)", true),
                ("USt-Kategorie (BT-151)", false),
                ("USt-Satz (BT-152)", true),
            ],
            rows,
        ));
        for (i, l) in self.lines.iter().enumerate() {
            lines.sub(line_section(
                l,
                &format!("Position {}", i + 1),
                &format!("BG-25-{}", i + 1),
                cur,
            ));
        }
        sections.push(lines);

        let mut attachments = Section::new("BG-24", "Anhänge");
        attachments.table(Table::new(
            "Rechnungsbegründende Unterlagen (BG-24)",
            &[
                ("Kennung (BT-122)", false),
                ("Beschreibung (BT-123)", false),
                ("Dateiname (BT-125)", false),
                ("MIME-Typ (BT-125)", false),
                ("Größe", true),
                ("Externer Speicherort (BT-124)", false),
            ],
            self.attachments
                .iter()
                .map(|a| {
                    vec![
                        cell(a.id.clone()),
                        cell(a.description.clone()),
                        cell(a.filename.clone()),
                        cell(a.mime_code.clone()),
                        cell(a.embedded_size.map(|n| format!("{n} Byte"))),
                        cell(a.uri.clone()),
                    ]
                })
                .collect(),
        ));
        sections.push(attachments);

        let mut notes = Section::new("BG-1", "Bemerkungen");
        notes.table(Table::new(
            "Bemerkungen zur Rechnung (BG-1)",
            &[
                ("Betreff-Code (BT-21)", false),
                ("Bemerkung (BT-22)", false),
            ],
            self.notes
                .iter()
                .map(|n| vec![cell(n.subject.clone()), cell(n.text.clone())])
                .collect(),
        ));
        sections.push(notes);

        let mut extra = Section::new("weitere-angaben", "Weitere Angaben");
        extra.table(Table::new(
            "Angaben ohne Zuordnung zu einem Geschäftsbegriff",
            &[("Element", false), ("Wert", false)],
            self.extra
                .iter()
                .map(|(p, v)| vec![p.clone(), v.clone()])
                .collect(),
        ));
        sections.push(extra);

        sections.retain(|s| !s.is_empty());
        View { title, sections }
    }
}
