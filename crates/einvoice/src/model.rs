//! The semantic invoice model: EN 16931 business terms (BT-/BG-) read from UBL 2.1 (Invoice,
//! CreditNote) or UN/CEFACT CII D16B with a streaming parser.
//!
//! The reader applies the same protections as [`crate::xml`] (no DOCTYPE, only predefined
//! entities, size and depth limits). It covers the core terms used for routing, duplicate
//! detection, approval and the HKR export; further terms are added in [`Reader::end`] as
//! `(path, term)` rules.

use crate::validate::{CII_NS, UBL_CREDIT_NOTE_NS, UBL_INVOICE_NS};
use crate::xml::{Limits, XmlError};
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use rust_decimal::Decimal;
use serde::Serialize;
use std::str::FromStr;

/// Syntax of the source document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SourceSyntax {
    /// UBL 2.1 Invoice.
    UblInvoice,
    /// UBL 2.1 CreditNote.
    UblCreditNote,
    /// UN/CEFACT CII D16B.
    Cii,
}

/// Why an invoice could not be read into the model.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// Refused by the secure loader rules.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// The root element is not an invoice of a supported syntax.
    #[error(
        "Das Wurzelelement {{{ns}}}{local} ist keine UBL-Rechnung, UBL-Gutschrift oder CII-Rechnung."
    )]
    NotAnInvoice {
        /// Namespace of the root element.
        ns: String,
        /// Local name of the root element.
        local: String,
    },
    /// An amount or quantity is not a decimal number.
    #[error("{term}: „{value}“ ist kein gültiger Dezimalwert.")]
    Number {
        /// Business term.
        term: &'static str,
        /// The text found.
        value: String,
    },
}

/// A party: seller (BG-4) or buyer (BG-7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Party {
    /// BT-27 / BT-44 name.
    pub name: Option<String>,
    /// BT-31 / BT-48 VAT identifier.
    pub vat_id: Option<String>,
    /// BT-34 / BT-49 electronic address.
    pub endpoint: Option<String>,
    /// BT-35 / BT-50 address line 1.
    pub street: Option<String>,
    /// BT-37 / BT-52 city.
    pub city: Option<String>,
    /// BT-38 / BT-53 post code.
    pub post_code: Option<String>,
    /// BT-40 / BT-55 country code.
    pub country: Option<String>,
    /// BT-41 / BT-56 contact point.
    pub contact_name: Option<String>,
    /// BT-42 / BT-57 contact telephone.
    pub contact_phone: Option<String>,
    /// BT-43 / BT-58 contact e-mail.
    pub contact_email: Option<String>,
}

/// BG-22 document totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// BT-106 sum of invoice line net amounts.
    pub line_net: Option<Decimal>,
    /// BT-109 total without VAT.
    pub without_vat: Option<Decimal>,
    /// BT-110 total VAT amount.
    pub vat: Option<Decimal>,
    /// BT-112 total with VAT.
    pub with_vat: Option<Decimal>,
    /// BT-115 amount due for payment.
    pub payable: Option<Decimal>,
}

/// BG-23 VAT breakdown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VatBreakdown {
    /// BT-116 taxable amount.
    pub taxable: Option<Decimal>,
    /// BT-117 tax amount.
    pub tax: Option<Decimal>,
    /// BT-118 category code.
    pub category: Option<String>,
    /// BT-119 rate.
    pub rate: Option<Decimal>,
}

/// BG-25 invoice line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Line {
    /// BT-126 line identifier.
    pub id: Option<String>,
    /// BT-129 quantity.
    pub quantity: Option<Decimal>,
    /// BT-130 unit of measure.
    pub unit: Option<String>,
    /// BT-131 line net amount.
    pub net_amount: Option<Decimal>,
    /// BT-146 item net price.
    pub net_price: Option<Decimal>,
    /// BT-151 VAT category code.
    pub vat_category: Option<String>,
    /// BT-152 VAT rate.
    pub vat_rate: Option<Decimal>,
    /// BT-153 item name.
    pub item_name: Option<String>,
}

/// An invoice in EN 16931 terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invoice {
    /// Source syntax.
    pub syntax: SourceSyntax,
    /// BT-1 invoice number.
    pub number: Option<String>,
    /// BT-2 issue date (ISO 8601, `YYYY-MM-DD`).
    pub issue_date: Option<String>,
    /// BT-3 type code.
    pub type_code: Option<String>,
    /// BT-5 currency.
    pub currency: Option<String>,
    /// BT-9 due date (ISO 8601).
    pub due_date: Option<String>,
    /// BT-10 buyer reference (the Leitweg-ID in XRechnung).
    pub buyer_reference: Option<String>,
    /// BT-24 specification identifier.
    pub specification: Option<String>,
    /// BG-4 seller.
    pub seller: Party,
    /// BG-7 buyer.
    pub buyer: Party,
    /// BT-81 payment means type code.
    pub payment_means: Option<String>,
    /// BT-84 payment account identifier (IBAN).
    pub payment_account: Option<String>,
    /// BG-22 totals.
    pub totals: Totals,
    /// BG-23 VAT breakdown.
    pub vat_breakdown: Vec<VatBreakdown>,
    /// BG-25 lines.
    pub lines: Vec<Line>,
}

fn set(slot: &mut Option<String>, v: &str) {
    if slot.is_none() && !v.trim().is_empty() {
        *slot = Some(v.trim().to_string());
    }
}

fn num(slot: &mut Option<Decimal>, term: &'static str, v: &str) -> Result<(), ModelError> {
    if slot.is_some() {
        return Ok(());
    }
    let t = v.trim();
    *slot = Some(Decimal::from_str(t).map_err(|_| ModelError::Number {
        term,
        value: t.chars().take(40).collect(),
    })?);
    Ok(())
}

/// CII date format 102 (`YYYYMMDD`) to ISO.
fn iso_date(v: &str) -> String {
    let t = v.trim();
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..])
    } else {
        t.to_string()
    }
}

struct Reader {
    inv: Invoice,
}

impl Reader {
    /// Handles the text of a closed element at `path` (local names below the root, `/`-joined).
    fn end(&mut self, path: &str, text: &str, unit: Option<&str>) -> Result<(), ModelError> {
        let inv = &mut self.inv;
        match inv.syntax {
            SourceSyntax::UblInvoice | SourceSyntax::UblCreditNote => {
                match path {
                    "ID" => set(&mut inv.number, text),
                    "IssueDate" => set(&mut inv.issue_date, text),
                    "DueDate" | "PaymentMeans/PaymentDueDate" => set(&mut inv.due_date, text),
                    "InvoiceTypeCode" | "CreditNoteTypeCode" => set(&mut inv.type_code, text),
                    "DocumentCurrencyCode" => set(&mut inv.currency, text),
                    "BuyerReference" => set(&mut inv.buyer_reference, text),
                    "CustomizationID" => set(&mut inv.specification, text),
                    "PaymentMeans/PaymentMeansCode" => set(&mut inv.payment_means, text),
                    "PaymentMeans/PayeeFinancialAccount/ID" => set(&mut inv.payment_account, text),
                    "LegalMonetaryTotal/LineExtensionAmount" => {
                        num(&mut inv.totals.line_net, "BT-106", text)?
                    }
                    "LegalMonetaryTotal/TaxExclusiveAmount" => {
                        num(&mut inv.totals.without_vat, "BT-109", text)?
                    }
                    "LegalMonetaryTotal/TaxInclusiveAmount" => {
                        num(&mut inv.totals.with_vat, "BT-112", text)?
                    }
                    "LegalMonetaryTotal/PayableAmount" => {
                        num(&mut inv.totals.payable, "BT-115", text)?
                    }
                    "TaxTotal/TaxAmount" => num(&mut inv.totals.vat, "BT-110", text)?,
                    _ => {}
                }
                if let Some(rest) = path.strip_prefix("TaxTotal/TaxSubtotal/")
                    && let Some(b) = inv.vat_breakdown.last_mut()
                {
                    match rest {
                        "TaxableAmount" => num(&mut b.taxable, "BT-116", text)?,
                        "TaxAmount" => num(&mut b.tax, "BT-117", text)?,
                        "TaxCategory/ID" => set(&mut b.category, text),
                        "TaxCategory/Percent" => num(&mut b.rate, "BT-119", text)?,
                        _ => {}
                    }
                }
                let line = path
                    .strip_prefix("InvoiceLine/")
                    .or_else(|| path.strip_prefix("CreditNoteLine/"));
                if let Some(rest) = line
                    && let Some(l) = inv.lines.last_mut()
                {
                    match rest {
                        "ID" => set(&mut l.id, text),
                        "InvoicedQuantity" | "CreditedQuantity" => {
                            num(&mut l.quantity, "BT-129", text)?;
                            if let Some(u) = unit {
                                set(&mut l.unit, u);
                            }
                        }
                        "LineExtensionAmount" => num(&mut l.net_amount, "BT-131", text)?,
                        "Price/PriceAmount" => num(&mut l.net_price, "BT-146", text)?,
                        "Item/Name" => set(&mut l.item_name, text),
                        "Item/ClassifiedTaxCategory/ID" => set(&mut l.vat_category, text),
                        "Item/ClassifiedTaxCategory/Percent" => {
                            num(&mut l.vat_rate, "BT-152", text)?
                        }
                        _ => {}
                    }
                }
                for (prefix, party) in [
                    ("AccountingSupplierParty/Party/", &mut inv.seller),
                    ("AccountingCustomerParty/Party/", &mut inv.buyer),
                ] {
                    if let Some(rest) = path.strip_prefix(prefix) {
                        match rest {
                            "PartyLegalEntity/RegistrationName" => set(&mut party.name, text),
                            "PartyTaxScheme/CompanyID" => set(&mut party.vat_id, text),
                            "EndpointID" => set(&mut party.endpoint, text),
                            "PostalAddress/StreetName" => set(&mut party.street, text),
                            "PostalAddress/CityName" => set(&mut party.city, text),
                            "PostalAddress/PostalZone" => set(&mut party.post_code, text),
                            "PostalAddress/Country/IdentificationCode" => {
                                set(&mut party.country, text)
                            }
                            "Contact/Name" => set(&mut party.contact_name, text),
                            "Contact/Telephone" => set(&mut party.contact_phone, text),
                            "Contact/ElectronicMail" => set(&mut party.contact_email, text),
                            _ => {}
                        }
                    }
                }
            }
            SourceSyntax::Cii => {
                const TX: &str = "SupplyChainTradeTransaction/";
                match path {
                    "ExchangedDocument/ID" => set(&mut inv.number, text),
                    "ExchangedDocument/TypeCode" => set(&mut inv.type_code, text),
                    "ExchangedDocument/IssueDateTime/DateTimeString" => {
                        set(&mut inv.issue_date, &iso_date(text))
                    }
                    "ExchangedDocumentContext/GuidelineSpecifiedDocumentContextParameter/ID" => {
                        set(&mut inv.specification, text)
                    }
                    _ => {}
                }
                let Some(rest) = path.strip_prefix(TX) else {
                    return Ok(());
                };
                if let Some(s) = rest.strip_prefix("ApplicableHeaderTradeSettlement/") {
                    match s {
                        "InvoiceCurrencyCode" => set(&mut inv.currency, text),
                        "SpecifiedTradeSettlementPaymentMeans/TypeCode" => {
                            set(&mut inv.payment_means, text)
                        }
                        "SpecifiedTradeSettlementPaymentMeans/PayeePartyCreditorFinancialAccount/IBANID" => {
                            set(&mut inv.payment_account, text)
                        }
                        "SpecifiedTradePaymentTerms/DueDateDateTime/DateTimeString" => {
                            set(&mut inv.due_date, &iso_date(text))
                        }
                        "SpecifiedTradeSettlementHeaderMonetarySummation/LineTotalAmount" => {
                            num(&mut inv.totals.line_net, "BT-106", text)?
                        }
                        "SpecifiedTradeSettlementHeaderMonetarySummation/TaxBasisTotalAmount" => {
                            num(&mut inv.totals.without_vat, "BT-109", text)?
                        }
                        "SpecifiedTradeSettlementHeaderMonetarySummation/TaxTotalAmount" => {
                            num(&mut inv.totals.vat, "BT-110", text)?
                        }
                        "SpecifiedTradeSettlementHeaderMonetarySummation/GrandTotalAmount" => {
                            num(&mut inv.totals.with_vat, "BT-112", text)?
                        }
                        "SpecifiedTradeSettlementHeaderMonetarySummation/DuePayableAmount" => {
                            num(&mut inv.totals.payable, "BT-115", text)?
                        }
                        _ => {}
                    }
                    if let Some(t) = s.strip_prefix("ApplicableTradeTax/")
                        && let Some(b) = inv.vat_breakdown.last_mut()
                    {
                        match t {
                            "BasisAmount" => num(&mut b.taxable, "BT-116", text)?,
                            "CalculatedAmount" => num(&mut b.tax, "BT-117", text)?,
                            "CategoryCode" => set(&mut b.category, text),
                            "RateApplicablePercent" => num(&mut b.rate, "BT-119", text)?,
                            _ => {}
                        }
                    }
                }
                if let Some(a) = rest.strip_prefix("ApplicableHeaderTradeAgreement/") {
                    if a == "BuyerReference" {
                        set(&mut inv.buyer_reference, text);
                    }
                    for (prefix, party) in [
                        ("SellerTradeParty/", &mut inv.seller),
                        ("BuyerTradeParty/", &mut inv.buyer),
                    ] {
                        if let Some(p) = a.strip_prefix(prefix) {
                            match p {
                                "Name" => set(&mut party.name, text),
                                "SpecifiedTaxRegistration/ID" => set(&mut party.vat_id, text),
                                "URIUniversalCommunication/URIID" => set(&mut party.endpoint, text),
                                "PostalTradeAddress/LineOne" => set(&mut party.street, text),
                                "PostalTradeAddress/CityName" => set(&mut party.city, text),
                                "PostalTradeAddress/PostcodeCode" => {
                                    set(&mut party.post_code, text)
                                }
                                "PostalTradeAddress/CountryID" => set(&mut party.country, text),
                                "DefinedTradeContact/PersonName" => {
                                    set(&mut party.contact_name, text)
                                }
                                "DefinedTradeContact/TelephoneUniversalCommunication/CompleteNumber" => {
                                    set(&mut party.contact_phone, text)
                                }
                                "DefinedTradeContact/EmailURIUniversalCommunication/URIID" => {
                                    set(&mut party.contact_email, text)
                                }
                                _ => {}
                            }
                        }
                    }
                }
                if let Some(l) = rest.strip_prefix("IncludedSupplyChainTradeLineItem/")
                    && let Some(line) = inv.lines.last_mut()
                {
                    match l {
                        "AssociatedDocumentLineDocument/LineID" => set(&mut line.id, text),
                        "SpecifiedTradeProduct/Name" => set(&mut line.item_name, text),
                        "SpecifiedLineTradeAgreement/NetPriceProductTradePrice/ChargeAmount" => {
                            num(&mut line.net_price, "BT-146", text)?
                        }
                        "SpecifiedLineTradeDelivery/BilledQuantity" => {
                            num(&mut line.quantity, "BT-129", text)?;
                            if let Some(u) = unit {
                                set(&mut line.unit, u);
                            }
                        }
                        "SpecifiedLineTradeSettlement/ApplicableTradeTax/CategoryCode" => {
                            set(&mut line.vat_category, text)
                        }
                        "SpecifiedLineTradeSettlement/ApplicableTradeTax/RateApplicablePercent" => {
                            num(&mut line.vat_rate, "BT-152", text)?
                        }
                        "SpecifiedLineTradeSettlement/SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount" => {
                            num(&mut line.net_amount, "BT-131", text)?
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Handles the start of a group element.
    fn start(&mut self, path: &str) {
        let inv = &mut self.inv;
        match (inv.syntax, path) {
            (SourceSyntax::Cii, "SupplyChainTradeTransaction/IncludedSupplyChainTradeLineItem")
            | (SourceSyntax::UblInvoice | SourceSyntax::UblCreditNote, "InvoiceLine")
            | (SourceSyntax::UblInvoice | SourceSyntax::UblCreditNote, "CreditNoteLine") => {
                inv.lines.push(Line::default())
            }
            (
                SourceSyntax::Cii,
                "SupplyChainTradeTransaction/ApplicableHeaderTradeSettlement/ApplicableTradeTax",
            )
            | (SourceSyntax::UblInvoice | SourceSyntax::UblCreditNote, "TaxTotal/TaxSubtotal") => {
                inv.vat_breakdown.push(VatBreakdown::default())
            }
            _ => {}
        }
    }
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map(|(_, l)| l).unwrap_or(name)
}

/// Reads an invoice into the model (streaming; the document is not kept).
pub fn parse(xml: &[u8], limits: Limits) -> Result<Invoice, ModelError> {
    if xml.len() > limits.max_bytes {
        return Err(XmlError::TooLarge {
            size: xml.len(),
            limit: limits.max_bytes,
        }
        .into());
    }
    let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    let text = std::str::from_utf8(xml).map_err(|e| XmlError::Encoding {
        detail: format!("ungültige UTF-8-Bytefolge bei Byte {}", e.valid_up_to()),
    })?;
    let mut reader = quick_xml::NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut r: Option<Reader> = None;
    // Stack of (local name, text, unitCode).
    let mut stack: Vec<(String, String, Option<String>)> = Vec::new();
    let malformed = |pos: usize, message: String| XmlError::Malformed {
        line: 1 + xml[..pos.min(xml.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u32,
        message,
    };
    loop {
        let pos = reader.buffer_position() as usize;
        let (ns, event) = match reader.read_resolved_event() {
            Ok(v) => v,
            Err(e) => return Err(malformed(reader.error_position() as usize, e.to_string()).into()),
        };
        match event {
            Event::DocType(_) => return Err(XmlError::Doctype { line: 1 }.into()),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.name().as_ref().to_string();
                let lname = local(&name).to_string();
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep {
                        limit: limits.max_depth,
                        line: 0,
                    }
                    .into());
                }
                let mut unit = None;
                for a in e.attributes() {
                    let a = a.map_err(|err| malformed(pos, err.to_string()))?;
                    let value =
                        a.normalized_value(XmlVersion::Implicit1_0)
                            .map_err(|err| match err {
                                quick_xml::Error::Escape(
                                    quick_xml::escape::EscapeError::UnrecognizedEntity(_, name),
                                ) => XmlError::Entity { name, line: 0 },
                                other => malformed(pos, other.to_string()),
                            })?;
                    if a.key.as_ref() == "unitCode" {
                        unit = Some(value.into_owned());
                    }
                }
                if r.is_none() {
                    let ns = match ns {
                        quick_xml::name::ResolveResult::Bound(n) => n.as_ref().to_string(),
                        _ => String::new(),
                    };
                    let syntax = match (ns.as_str(), lname.as_str()) {
                        (UBL_INVOICE_NS, "Invoice") => SourceSyntax::UblInvoice,
                        (UBL_CREDIT_NOTE_NS, "CreditNote") => SourceSyntax::UblCreditNote,
                        (CII_NS, "CrossIndustryInvoice") => SourceSyntax::Cii,
                        _ => {
                            return Err(ModelError::NotAnInvoice { ns, local: lname });
                        }
                    };
                    r = Some(Reader {
                        inv: Invoice {
                            syntax,
                            number: None,
                            issue_date: None,
                            type_code: None,
                            currency: None,
                            due_date: None,
                            buyer_reference: None,
                            specification: None,
                            seller: Party::default(),
                            buyer: Party::default(),
                            payment_means: None,
                            payment_account: None,
                            totals: Totals::default(),
                            vat_breakdown: Vec::new(),
                            lines: Vec::new(),
                        },
                    });
                    stack.push((lname, String::new(), None));
                    if empty {
                        stack.pop();
                    }
                    continue;
                }
                stack.push((lname, String::new(), unit));
                let path = path_of(&stack);
                if let Some(r) = r.as_mut() {
                    r.start(&path);
                    if empty {
                        r.end(&path, "", stack.last().and_then(|s| s.2.as_deref()))?;
                    }
                }
                if empty {
                    stack.pop();
                }
            }
            Event::End(_) => {
                let path = path_of(&stack);
                if let (Some(r), Some((_, text, unit))) = (r.as_mut(), stack.last())
                    && stack.len() > 1
                {
                    r.end(&path, text, unit.as_deref())?;
                }
                stack.pop();
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.1.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.1.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(g) => {
                let c = match g.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => match &*g.xml10_content() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                    Err(e) => return Err(malformed(pos, e.to_string()).into()),
                };
                match c {
                    Some(c) => {
                        if let Some(top) = stack.last_mut() {
                            top.1.push(c);
                        }
                    }
                    None => {
                        return Err(XmlError::Entity {
                            name: g.xml10_content().into_owned(),
                            line: 0,
                        }
                        .into());
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed(xml.len(), "unerwartetes Dateiende".into()).into());
    }
    match r {
        Some(r) => Ok(r.inv),
        None => Err(XmlError::Malformed {
            line: 1,
            message: "kein Wurzelelement".into(),
        }
        .into()),
    }
}

/// The path of the innermost element below the root (`A/B/C`).
fn path_of(stack: &[(String, String, Option<String>)]) -> String {
    let mut s = String::new();
    for (i, (name, _, _)) in stack.iter().enumerate().skip(1) {
        if i > 1 {
            s.push('/');
        }
        s.push_str(name);
    }
    s
}
