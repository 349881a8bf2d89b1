//! The semantic invoice model: EN 16931 business terms (BT-/BG-) read from UBL 2.1 (Invoice,
//! CreditNote) or UN/CEFACT CII D16B with a streaming parser.
//!
//! The reader applies the same protections as [`crate::xml`] (no DOCTYPE, only predefined
//! entities, size and depth limits). It covers all EN 16931 business terms and groups (BT-1 to
//! BT-165, BG-1 to BG-32) and the sub-invoice lines of the XRechnung extension; the rules are
//! `(path, term)` matches in `Reader::end`. Text of any element it cannot map, and a second,
//! different value of a single-valued term, is kept in [`Invoice::extra`] so nothing is dropped.

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

/// An identifier with its optional scheme (e.g. BT-29 with BT-29-1, BT-158 with BT-158-1/-2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Identifier {
    /// The identifier.
    pub value: String,
    /// Scheme identifier (`schemeID`, `listID`, CII `ReferenceTypeCode`).
    pub scheme: Option<String>,
    /// Scheme version (`listVersionID`).
    pub scheme_version: Option<String>,
}

/// A party: seller (BG-4), buyer (BG-7), payee (BG-10), seller tax representative (BG-11) or
/// the deliver-to party and location (BG-13, BG-15). Which fields apply depends on the role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Party {
    /// BT-27 / BT-44 / BT-59 / BT-62 / BT-70 name.
    pub name: Option<String>,
    /// BT-31 / BT-48 / BT-63 VAT identifier.
    pub vat_id: Option<String>,
    /// BT-34 / BT-49 electronic address.
    pub endpoint: Option<String>,
    /// BT-35 / BT-50 / BT-64 / BT-75 address line 1.
    pub street: Option<String>,
    /// BT-37 / BT-52 / BT-66 / BT-77 city.
    pub city: Option<String>,
    /// BT-38 / BT-53 / BT-67 / BT-78 post code.
    pub post_code: Option<String>,
    /// BT-40 / BT-55 / BT-69 / BT-80 country code.
    pub country: Option<String>,
    /// BT-41 / BT-56 contact point.
    pub contact_name: Option<String>,
    /// BT-42 / BT-57 contact telephone.
    pub contact_phone: Option<String>,
    /// BT-43 / BT-58 contact e-mail.
    pub contact_email: Option<String>,
    /// BT-34-1 / BT-49-1 scheme of the electronic address.
    pub endpoint_scheme: Option<String>,
    /// BT-28 / BT-45 trading name.
    pub trading_name: Option<String>,
    /// BT-29 / BT-46 / BT-60 / BT-71 identifiers (for BG-13 the location identifier).
    pub identifiers: Vec<Identifier>,
    /// BT-30 / BT-47 / BT-61 legal registration identifier.
    pub legal_id: Option<Identifier>,
    /// BT-32 seller tax registration identifier (not the VAT identifier).
    pub tax_registration: Option<String>,
    /// BT-33 seller additional legal information.
    pub legal_info: Option<String>,
    /// BT-36 / BT-51 / BT-65 / BT-76 address line 2.
    pub street2: Option<String>,
    /// BT-162 / BT-163 / BT-164 / BT-165 address line 3.
    pub street3: Option<String>,
    /// BT-39 / BT-54 / BT-68 / BT-79 country subdivision.
    pub subdivision: Option<String>,
    /// CII contact department (part of the contact point BT-41 / BT-56).
    pub contact_department: Option<String>,
}

impl Party {
    /// Whether nothing at all was given for this party.
    pub fn is_empty(&self) -> bool {
        self == &Party::default()
    }
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
    /// BT-107 sum of allowances on document level.
    pub allowances: Option<Decimal>,
    /// BT-108 sum of charges on document level.
    pub charges: Option<Decimal>,
    /// BT-111 total VAT amount in accounting currency (BT-6).
    pub vat_in_tax_currency: Option<Decimal>,
    /// BT-113 paid amount.
    pub prepaid: Option<Decimal>,
    /// BT-114 rounding amount.
    pub rounding: Option<Decimal>,
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
    /// BT-120 exemption reason text.
    pub exemption_reason: Option<String>,
    /// BT-121 exemption reason code.
    pub exemption_code: Option<String>,
}

/// An allowance or charge: document level (BG-20, BG-21) or line level (BG-27, BG-28).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AllowanceCharge {
    /// `true` for a charge (BG-21, BG-28), `false` for an allowance (BG-20, BG-27).
    pub charge: bool,
    /// BT-92 / BT-99 / BT-136 / BT-141 amount.
    pub amount: Option<Decimal>,
    /// BT-93 / BT-100 / BT-137 / BT-142 base amount.
    pub base: Option<Decimal>,
    /// BT-94 / BT-101 / BT-138 / BT-143 percentage.
    pub percent: Option<Decimal>,
    /// BT-95 / BT-102 VAT category code (document level only).
    pub vat_category: Option<String>,
    /// BT-96 / BT-103 VAT rate (document level only).
    pub vat_rate: Option<Decimal>,
    /// BT-97 / BT-104 / BT-139 / BT-144 reason.
    pub reason: Option<String>,
    /// BT-98 / BT-105 / BT-140 / BT-145 reason code.
    pub reason_code: Option<String>,
}

/// BG-32 item attribute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ItemAttribute {
    /// BT-160 name.
    pub name: Option<String>,
    /// BT-161 value.
    pub value: Option<String>,
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
    /// BT-127 line note.
    pub note: Option<String>,
    /// BT-128 invoiced object identifier (with scheme BT-128-1).
    pub object_id: Option<Identifier>,
    /// BT-132 referenced purchase order line.
    pub order_line: Option<String>,
    /// BT-133 buyer accounting reference.
    pub accounting_reference: Option<String>,
    /// BT-134 line period start (ISO 8601).
    pub period_start: Option<String>,
    /// BT-135 line period end (ISO 8601).
    pub period_end: Option<String>,
    /// BG-27 / BG-28 line allowances and charges.
    pub allowance_charges: Vec<AllowanceCharge>,
    /// BT-147 item price discount.
    pub price_discount: Option<Decimal>,
    /// BT-148 item gross price.
    pub gross_price: Option<Decimal>,
    /// BT-149 item price base quantity.
    pub base_quantity: Option<Decimal>,
    /// BT-150 unit of the base quantity.
    pub base_quantity_unit: Option<String>,
    /// BT-154 item description.
    pub item_description: Option<String>,
    /// BT-155 seller's item identifier.
    pub seller_item_id: Option<String>,
    /// BT-156 buyer's item identifier.
    pub buyer_item_id: Option<String>,
    /// BT-157 standard item identifier (with scheme BT-157-1).
    pub standard_item_id: Option<Identifier>,
    /// BT-158 item classification identifiers (with BT-158-1 and BT-158-2).
    pub classifications: Vec<Identifier>,
    /// BT-159 item country of origin.
    pub origin_country: Option<String>,
    /// BG-32 item attributes.
    pub attributes: Vec<ItemAttribute>,
    /// Sub-invoice lines of the XRechnung extension (UBL `cac:SubInvoiceLine`).
    pub sub_lines: Vec<Line>,
}

/// BG-1 invoice note.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Note {
    /// BT-21 subject code.
    pub subject: Option<String>,
    /// BT-22 note text.
    pub text: Option<String>,
}

/// BG-3 preceding invoice reference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PrecedingInvoice {
    /// BT-25 preceding invoice number.
    pub number: Option<String>,
    /// BT-26 preceding invoice issue date (ISO 8601).
    pub issue_date: Option<String>,
}

/// BG-17 credit transfer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CreditTransfer {
    /// BT-84 payment account identifier (IBAN or proprietary).
    pub account: Option<String>,
    /// BT-85 payment account name.
    pub account_name: Option<String>,
    /// BT-86 payment service provider identifier (BIC).
    pub bic: Option<String>,
}

/// BG-24 additional supporting document (the embedded content itself is not kept).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// BT-122 supporting document reference.
    pub id: Option<String>,
    /// BT-123 description.
    pub description: Option<String>,
    /// BT-124 external document location.
    pub uri: Option<String>,
    /// BT-125-2 file name of the attached document.
    pub filename: Option<String>,
    /// BT-125-1 mime code of the attached document.
    pub mime_code: Option<String>,
    /// Size of the embedded document in bytes after base64 decoding (approximate).
    pub embedded_size: Option<usize>,
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
    /// BT-84 payment account identifier (IBAN) of the first credit transfer.
    pub payment_account: Option<String>,
    /// BG-22 totals.
    pub totals: Totals,
    /// BG-23 VAT breakdown.
    pub vat_breakdown: Vec<VatBreakdown>,
    /// BG-25 lines.
    pub lines: Vec<Line>,
    /// BT-6 VAT accounting currency.
    pub tax_currency: Option<String>,
    /// BT-7 value added tax point date (ISO 8601).
    pub tax_point_date: Option<String>,
    /// BT-8 value added tax point date code.
    pub tax_point_date_code: Option<String>,
    /// BT-11 project reference.
    pub project_reference: Option<String>,
    /// Project name (CII `SpecifiedProcuringProject/Name`, belongs to BT-11).
    pub project_name: Option<String>,
    /// BT-12 contract reference.
    pub contract_reference: Option<String>,
    /// BT-13 purchase order reference.
    pub order_reference: Option<String>,
    /// BT-14 sales order reference.
    pub sales_order_reference: Option<String>,
    /// BT-15 receiving advice reference.
    pub receiving_advice: Option<String>,
    /// BT-16 despatch advice reference.
    pub despatch_advice: Option<String>,
    /// BT-17 tender or lot reference.
    pub tender_reference: Option<String>,
    /// BT-18 invoiced object identifier (with scheme BT-18-1).
    pub invoiced_object: Option<Identifier>,
    /// BT-19 buyer accounting reference.
    pub accounting_reference: Option<String>,
    /// BT-20 payment terms.
    pub payment_terms: Option<String>,
    /// BT-23 business process type.
    pub business_process: Option<String>,
    /// BG-1 invoice notes.
    pub notes: Vec<Note>,
    /// BG-3 preceding invoice references.
    pub preceding_invoices: Vec<PrecedingInvoice>,
    /// BG-10 payee.
    pub payee: Party,
    /// BG-11 seller tax representative (with its address BG-12).
    pub tax_representative: Party,
    /// BG-13 deliver-to party (BT-70 name, BT-71 location identifier, BG-15 address).
    pub delivery: Party,
    /// BT-72 actual delivery date (ISO 8601).
    pub delivery_date: Option<String>,
    /// BT-73 invoicing period start (ISO 8601).
    pub period_start: Option<String>,
    /// BT-74 invoicing period end (ISO 8601).
    pub period_end: Option<String>,
    /// BT-82 payment means text.
    pub payment_means_text: Option<String>,
    /// BT-83 remittance information.
    pub remittance_information: Option<String>,
    /// BG-17 credit transfers.
    pub credit_transfers: Vec<CreditTransfer>,
    /// BT-87 payment card primary account number (as given; normally truncated).
    pub card_number: Option<String>,
    /// BT-88 payment card holder name.
    pub card_holder: Option<String>,
    /// Payment card network (UBL `cac:CardAccount/cbc:NetworkID`, part of BG-18).
    pub card_network: Option<String>,
    /// BT-89 mandate reference identifier.
    pub mandate_reference: Option<String>,
    /// BT-90 bank assigned creditor identifier.
    pub creditor_id: Option<String>,
    /// BT-91 debited account identifier.
    pub debited_account: Option<String>,
    /// BG-20 / BG-21 document level allowances and charges.
    pub allowance_charges: Vec<AllowanceCharge>,
    /// BG-24 additional supporting documents.
    pub attachments: Vec<Attachment>,
    /// Elements the model does not map to a business term (local-name path below the root,
    /// text); shown as "weitere Angaben" so nothing entered is dropped.
    pub extra: Vec<(String, String)>,
}

impl Invoice {
    fn empty(syntax: SourceSyntax) -> Invoice {
        Invoice {
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
            tax_currency: None,
            tax_point_date: None,
            tax_point_date_code: None,
            project_reference: None,
            project_name: None,
            contract_reference: None,
            order_reference: None,
            sales_order_reference: None,
            receiving_advice: None,
            despatch_advice: None,
            tender_reference: None,
            invoiced_object: None,
            accounting_reference: None,
            payment_terms: None,
            business_process: None,
            notes: Vec::new(),
            preceding_invoices: Vec::new(),
            payee: Party::default(),
            tax_representative: Party::default(),
            delivery: Party::default(),
            delivery_date: None,
            period_start: None,
            period_end: None,
            payment_means_text: None,
            remittance_information: None,
            credit_transfers: Vec::new(),
            card_number: None,
            card_holder: None,
            card_network: None,
            mandate_reference: None,
            creditor_id: None,
            debited_account: None,
            allowance_charges: Vec::new(),
            attachments: Vec::new(),
            extra: Vec::new(),
        }
    }
}

/// Stores the first value of a single-valued term. Returns `false` if a different value was
/// already stored (the caller then keeps the new one under "weitere Angaben").
fn set(slot: &mut Option<String>, v: &str) -> bool {
    let t = v.trim();
    if t.is_empty() {
        return true;
    }
    match slot {
        None => {
            *slot = Some(t.to_string());
            true
        }
        Some(old) => old == t,
    }
}

fn parse_num(term: &'static str, v: &str) -> Result<Decimal, ModelError> {
    let t = v.trim();
    Decimal::from_str(t).map_err(|_| ModelError::Number {
        term,
        value: t.chars().take(40).collect(),
    })
}

/// Like [`set`] for decimals; an invalid number is an error.
fn num(slot: &mut Option<Decimal>, term: &'static str, v: &str) -> Result<bool, ModelError> {
    if v.trim().is_empty() {
        return Ok(true);
    }
    let d = parse_num(term, v)?;
    match slot {
        None => {
            *slot = Some(d);
            Ok(true)
        }
        Some(old) => Ok(*old == d),
    }
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

/// Attributes of an element (local name, value).
type Attrs = [(String, String)];

fn attr<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn ident(text: &str, attrs: &Attrs, scheme_attr: &str) -> Identifier {
    Identifier {
        value: text.trim().to_string(),
        scheme: attr(attrs, scheme_attr).map(str::to_string),
        scheme_version: attr(attrs, "listVersionID").map(str::to_string),
    }
}

fn set_ident(slot: &mut Option<Identifier>, id: Identifier) -> bool {
    if id.value.is_empty() {
        return true;
    }
    match slot {
        None => {
            *slot = Some(id);
            true
        }
        Some(old) => old.value == id.value,
    }
}

/// Pushes an identifier unless it is empty.
fn push_ident(list: &mut Vec<Identifier>, id: Identifier) -> bool {
    if !id.value.is_empty() {
        list.push(id);
    }
    true
}

/// UBL and CII boolean (`true`/`false`).
fn is_true(v: &str) -> bool {
    v.trim() == "true" || v.trim() == "1"
}

/// A header document reference being read (UBL `AdditionalDocumentReference`, CII
/// `AdditionalReferencedDocument`): its type code decides whether it is BT-17, BT-18 or BG-24.
#[derive(Default)]
struct PendingDoc {
    attachment: Attachment,
    scheme: Option<String>,
    type_code: Option<String>,
}

struct Reader {
    inv: Invoice,
    /// UBL `PartyTaxScheme/CompanyID` waiting for its `TaxScheme/ID`.
    tax_company_id: Option<String>,
    doc: Option<PendingDoc>,
}

/// The roles of a party in UBL (the party name element differs).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Seller and buyer: `RegistrationName` is the name, `PartyName` the trading name.
    Main,
    /// Payee, tax representative, deliver-to party: `PartyName` is the name.
    Other,
}

/// UBL postal address (`cac:PostalAddress`, `cac:Address`) below the address element.
fn ubl_address(p: &mut Party, rest: &str, text: &str) -> Option<bool> {
    Some(match rest {
        "StreetName" => set(&mut p.street, text),
        "AdditionalStreetName" => set(&mut p.street2, text),
        "AddressLine/Line" => set(&mut p.street3, text),
        "CityName" => set(&mut p.city, text),
        "PostalZone" => set(&mut p.post_code, text),
        "CountrySubentity" => set(&mut p.subdivision, text),
        "Country/IdentificationCode" => set(&mut p.country, text),
        _ => return None,
    })
}

/// UBL `cac:Party` (or `cac:PayeeParty`, `cac:TaxRepresentativeParty`) below the party element.
fn ubl_party(
    p: &mut Party,
    rest: &str,
    text: &str,
    attrs: &Attrs,
    role: Role,
    tax_company_id: &mut Option<String>,
    creditor_id: &mut Option<String>,
) -> Option<bool> {
    if let Some(a) = rest.strip_prefix("PostalAddress/") {
        return ubl_address(p, a, text);
    }
    Some(match rest {
        "EndpointID" => {
            if let Some(s) = attr(attrs, "schemeID") {
                set(&mut p.endpoint_scheme, s);
            }
            set(&mut p.endpoint, text)
        }
        "PartyIdentification/ID" => {
            if attr(attrs, "schemeID") == Some("SEPA") {
                set(creditor_id, text)
            } else {
                push_ident(&mut p.identifiers, ident(text, attrs, "schemeID"))
            }
        }
        "PartyName/Name" if role == Role::Main => set(&mut p.trading_name, text),
        "PartyName/Name" => set(&mut p.name, text),
        "PartyTaxScheme/CompanyID" => {
            *tax_company_id = Some(text.trim().to_string());
            true
        }
        "PartyTaxScheme/TaxScheme/ID" => match tax_company_id.take() {
            Some(id) if text.trim() == "VAT" => set(&mut p.vat_id, &id),
            Some(id) => set(&mut p.tax_registration, &id),
            None => true,
        },
        "PartyLegalEntity/RegistrationName" => set(&mut p.name, text),
        "PartyLegalEntity/CompanyID" => set_ident(&mut p.legal_id, ident(text, attrs, "schemeID")),
        "PartyLegalEntity/CompanyLegalForm" => set(&mut p.legal_info, text),
        "Contact/Name" => set(&mut p.contact_name, text),
        "Contact/Telephone" => set(&mut p.contact_phone, text),
        "Contact/ElectronicMail" => set(&mut p.contact_email, text),
        _ => return None,
    })
}

/// UBL and CII allowance or charge below its element (document or line level).
fn allowance_charge(
    ac: &mut AllowanceCharge,
    rest: &str,
    text: &str,
    cii: bool,
) -> Result<Option<bool>, ModelError> {
    let t = match (cii, rest) {
        (false, "ChargeIndicator") | (true, "ChargeIndicator/Indicator") => {
            ac.charge = is_true(text);
            true
        }
        (false, "Amount") | (true, "ActualAmount") => num(&mut ac.amount, "BT-92", text)?,
        (false, "BaseAmount") | (true, "BasisAmount") => num(&mut ac.base, "BT-93", text)?,
        (false, "MultiplierFactorNumeric") | (true, "CalculationPercent") => {
            num(&mut ac.percent, "BT-94", text)?
        }
        (false, "AllowanceChargeReason") | (true, "Reason") => set(&mut ac.reason, text),
        (false, "AllowanceChargeReasonCode") | (true, "ReasonCode") => {
            set(&mut ac.reason_code, text)
        }
        (false, "TaxCategory/ID") | (true, "CategoryTradeTax/CategoryCode") => {
            set(&mut ac.vat_category, text)
        }
        (false, "TaxCategory/Percent") | (true, "CategoryTradeTax/RateApplicablePercent") => {
            num(&mut ac.vat_rate, "BT-96", text)?
        }
        // The tax scheme is always VAT.
        (false, "TaxCategory/TaxScheme/ID") | (true, "CategoryTradeTax/TypeCode") => true,
        _ => return Ok(None),
    };
    Ok(Some(t))
}

/// The line (or sub-invoice line) a UBL path below `InvoiceLine/` belongs to, and the rest.
fn ubl_line<'a, 'p>(lines: &'a mut [Line], mut rest: &'p str) -> Option<(&'a mut Line, &'p str)> {
    let mut line = lines.last_mut()?;
    while let Some(r) = rest.strip_prefix("SubInvoiceLine/") {
        line = line.sub_lines.last_mut()?;
        rest = r;
    }
    Some((line, rest))
}

fn ubl_line_end(l: &mut Line, rest: &str, text: &str, attrs: &Attrs) -> Result<bool, ModelError> {
    if let Some(a) = rest.strip_prefix("AllowanceCharge/") {
        if let Some(ac) = l.allowance_charges.last_mut()
            && let Some(t) = allowance_charge(ac, a, text, false)?
        {
            return Ok(t);
        }
        return Ok(false);
    }
    Ok(match rest {
        "ID" => set(&mut l.id, text),
        "Note" => set(&mut l.note, text),
        "InvoicedQuantity" | "CreditedQuantity" => {
            if let Some(u) = attr(attrs, "unitCode") {
                set(&mut l.unit, u);
            }
            num(&mut l.quantity, "BT-129", text)?
        }
        "LineExtensionAmount" => num(&mut l.net_amount, "BT-131", text)?,
        "AccountingCost" => set(&mut l.accounting_reference, text),
        "InvoicePeriod/StartDate" => set(&mut l.period_start, text),
        "InvoicePeriod/EndDate" => set(&mut l.period_end, text),
        "OrderLineReference/LineID" => set(&mut l.order_line, text),
        "DocumentReference/ID" => set_ident(&mut l.object_id, ident(text, attrs, "schemeID")),
        // Always 130 (invoiced object) for BT-128.
        "DocumentReference/DocumentTypeCode" => text.trim() == "130",
        "Price/PriceAmount" => num(&mut l.net_price, "BT-146", text)?,
        "Price/BaseQuantity" => {
            if let Some(u) = attr(attrs, "unitCode") {
                set(&mut l.base_quantity_unit, u);
            }
            num(&mut l.base_quantity, "BT-149", text)?
        }
        "Price/AllowanceCharge/ChargeIndicator" => !is_true(text),
        "Price/AllowanceCharge/Amount" => num(&mut l.price_discount, "BT-147", text)?,
        "Price/AllowanceCharge/BaseAmount" => num(&mut l.gross_price, "BT-148", text)?,
        "Item/Description" => set(&mut l.item_description, text),
        "Item/Name" => set(&mut l.item_name, text),
        "Item/BuyersItemIdentification/ID" => set(&mut l.buyer_item_id, text),
        "Item/SellersItemIdentification/ID" => set(&mut l.seller_item_id, text),
        "Item/StandardItemIdentification/ID" => {
            set_ident(&mut l.standard_item_id, ident(text, attrs, "schemeID"))
        }
        "Item/OriginCountry/IdentificationCode" => set(&mut l.origin_country, text),
        "Item/CommodityClassification/ItemClassificationCode" => {
            push_ident(&mut l.classifications, ident(text, attrs, "listID"))
        }
        "Item/ClassifiedTaxCategory/ID" => set(&mut l.vat_category, text),
        "Item/ClassifiedTaxCategory/Percent" => num(&mut l.vat_rate, "BT-152", text)?,
        "Item/ClassifiedTaxCategory/TaxScheme/ID" => true,
        "Item/AdditionalItemProperty/Name" => match l.attributes.last_mut() {
            Some(a) => set(&mut a.name, text),
            None => false,
        },
        "Item/AdditionalItemProperty/Value" => match l.attributes.last_mut() {
            Some(a) => set(&mut a.value, text),
            None => false,
        },
        _ => false,
    })
}

fn cii_party(p: &mut Party, rest: &str, text: &str, attrs: &Attrs) -> Option<bool> {
    Some(match rest {
        "ID" | "GlobalID" => push_ident(&mut p.identifiers, ident(text, attrs, "schemeID")),
        "Name" => set(&mut p.name, text),
        "Description" => set(&mut p.legal_info, text),
        "SpecifiedLegalOrganization/ID" => {
            set_ident(&mut p.legal_id, ident(text, attrs, "schemeID"))
        }
        "SpecifiedLegalOrganization/TradingBusinessName" => set(&mut p.trading_name, text),
        "DefinedTradeContact/PersonName" => set(&mut p.contact_name, text),
        "DefinedTradeContact/DepartmentName" => set(&mut p.contact_department, text),
        "DefinedTradeContact/TelephoneUniversalCommunication/CompleteNumber" => {
            set(&mut p.contact_phone, text)
        }
        "DefinedTradeContact/EmailURIUniversalCommunication/URIID" => {
            set(&mut p.contact_email, text)
        }
        "PostalTradeAddress/PostcodeCode" => set(&mut p.post_code, text),
        "PostalTradeAddress/LineOne" => set(&mut p.street, text),
        "PostalTradeAddress/LineTwo" => set(&mut p.street2, text),
        "PostalTradeAddress/LineThree" => set(&mut p.street3, text),
        "PostalTradeAddress/CityName" => set(&mut p.city, text),
        "PostalTradeAddress/CountryID" => set(&mut p.country, text),
        "PostalTradeAddress/CountrySubDivisionName" => set(&mut p.subdivision, text),
        "URIUniversalCommunication/URIID" => {
            if let Some(s) = attr(attrs, "schemeID") {
                set(&mut p.endpoint_scheme, s);
            }
            set(&mut p.endpoint, text)
        }
        "SpecifiedTaxRegistration/ID" => {
            if attr(attrs, "schemeID") == Some("FC") {
                set(&mut p.tax_registration, text)
            } else {
                set(&mut p.vat_id, text)
            }
        }
        _ => return None,
    })
}

fn cii_line_end(l: &mut Line, rest: &str, text: &str, attrs: &Attrs) -> Result<bool, ModelError> {
    if let Some(a) =
        rest.strip_prefix("SpecifiedLineTradeSettlement/SpecifiedTradeAllowanceCharge/")
    {
        if let Some(ac) = l.allowance_charges.last_mut()
            && let Some(t) = allowance_charge(ac, a, text, true)?
        {
            return Ok(t);
        }
        return Ok(false);
    }
    const GROSS: &str = "SpecifiedLineTradeAgreement/GrossPriceProductTradePrice/";
    const NET: &str = "SpecifiedLineTradeAgreement/NetPriceProductTradePrice/";
    if let Some(p) = rest.strip_prefix(GROSS).or_else(|| rest.strip_prefix(NET)) {
        let gross = rest.starts_with(GROSS);
        return Ok(match p {
            "ChargeAmount" if gross => num(&mut l.gross_price, "BT-148", text)?,
            "ChargeAmount" => num(&mut l.net_price, "BT-146", text)?,
            "BasisQuantity" => {
                if let Some(u) = attr(attrs, "unitCode") {
                    set(&mut l.base_quantity_unit, u);
                }
                num(&mut l.base_quantity, "BT-149", text)?
            }
            "AppliedTradeAllowanceCharge/ActualAmount" => {
                num(&mut l.price_discount, "BT-147", text)?
            }
            "AppliedTradeAllowanceCharge/ChargeIndicator/Indicator" => !is_true(text),
            _ => false,
        });
    }
    Ok(match rest {
        "AssociatedDocumentLineDocument/LineID" => set(&mut l.id, text),
        "AssociatedDocumentLineDocument/IncludedNote/Content" => set(&mut l.note, text),
        "SpecifiedTradeProduct/GlobalID" => {
            set_ident(&mut l.standard_item_id, ident(text, attrs, "schemeID"))
        }
        "SpecifiedTradeProduct/SellerAssignedID" => set(&mut l.seller_item_id, text),
        "SpecifiedTradeProduct/BuyerAssignedID" => set(&mut l.buyer_item_id, text),
        "SpecifiedTradeProduct/Name" => set(&mut l.item_name, text),
        "SpecifiedTradeProduct/Description" => set(&mut l.item_description, text),
        "SpecifiedTradeProduct/ApplicableProductCharacteristic/Description" => {
            match l.attributes.last_mut() {
                Some(a) => set(&mut a.name, text),
                None => false,
            }
        }
        "SpecifiedTradeProduct/ApplicableProductCharacteristic/Value" => {
            match l.attributes.last_mut() {
                Some(a) => set(&mut a.value, text),
                None => false,
            }
        }
        "SpecifiedTradeProduct/DesignatedProductClassification/ClassCode" => {
            push_ident(&mut l.classifications, ident(text, attrs, "listID"))
        }
        "SpecifiedTradeProduct/OriginTradeCountry/ID" => set(&mut l.origin_country, text),
        "SpecifiedLineTradeAgreement/BuyerOrderReferencedDocument/LineID" => {
            set(&mut l.order_line, text)
        }
        "SpecifiedLineTradeDelivery/BilledQuantity" => {
            if let Some(u) = attr(attrs, "unitCode") {
                set(&mut l.unit, u);
            }
            num(&mut l.quantity, "BT-129", text)?
        }
        "SpecifiedLineTradeSettlement/ApplicableTradeTax/TypeCode" => text.trim() == "VAT",
        "SpecifiedLineTradeSettlement/ApplicableTradeTax/CategoryCode" => {
            set(&mut l.vat_category, text)
        }
        "SpecifiedLineTradeSettlement/ApplicableTradeTax/RateApplicablePercent" => {
            num(&mut l.vat_rate, "BT-152", text)?
        }
        "SpecifiedLineTradeSettlement/BillingSpecifiedPeriod/StartDateTime/DateTimeString" => {
            set(&mut l.period_start, &iso_date(text))
        }
        "SpecifiedLineTradeSettlement/BillingSpecifiedPeriod/EndDateTime/DateTimeString" => {
            set(&mut l.period_end, &iso_date(text))
        }
        "SpecifiedLineTradeSettlement/SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount" => {
            num(&mut l.net_amount, "BT-131", text)?
        }
        "SpecifiedLineTradeSettlement/AdditionalReferencedDocument/IssuerAssignedID" => {
            match &mut l.object_id {
                Some(id) if id.value.is_empty() => {
                    id.value = text.trim().to_string();
                    true
                }
                Some(_) => false,
                None => set_ident(&mut l.object_id, ident(text, attrs, "schemeID")),
            }
        }
        // Always 130 (invoiced object) for BT-128.
        "SpecifiedLineTradeSettlement/AdditionalReferencedDocument/TypeCode" => {
            text.trim() == "130"
        }
        "SpecifiedLineTradeSettlement/AdditionalReferencedDocument/ReferenceTypeCode" => {
            let id = l.object_id.get_or_insert_with(Identifier::default);
            set(&mut id.scheme, text)
        }
        "SpecifiedLineTradeSettlement/ReceivableSpecifiedTradeAccountingAccount/ID" => {
            set(&mut l.accounting_reference, text)
        }
        _ => false,
    })
}

/// Approximate decoded size of base64 text.
fn base64_size(text: &str) -> usize {
    let n = text.bytes().filter(|b| !b.is_ascii_whitespace()).count();
    let pad = text
        .trim_end()
        .bytes()
        .rev()
        .take_while(|&b| b == b'=')
        .count();
    (n / 4 * 3).saturating_sub(pad)
}

impl Reader {
    /// Handles the text of a closed element at `path` (local names below the root, `/`-joined).
    /// Returns whether the text was taken into a business term (or is known to be technical).
    fn end(&mut self, path: &str, text: &str, attrs: &Attrs) -> Result<bool, ModelError> {
        match self.inv.syntax {
            SourceSyntax::UblInvoice | SourceSyntax::UblCreditNote => {
                self.end_ubl(path, text, attrs)
            }
            SourceSyntax::Cii => self.end_cii(path, text, attrs),
        }
    }

    /// Files a finished header document reference.
    fn finish_doc(&mut self, path: &str) {
        let Some(d) = self.doc.take() else { return };
        let inv = &mut self.inv;
        let a = d.attachment;
        match d.type_code.as_deref() {
            Some("130") => {
                let id = Identifier {
                    value: a.id.clone().unwrap_or_default(),
                    scheme: d.scheme,
                    scheme_version: None,
                };
                if !set_ident(&mut inv.invoiced_object, id) {
                    inv.extra
                        .push((path.to_string(), a.id.clone().unwrap_or_default()));
                }
                // Anything else given with it stays visible.
                if a.description.is_some() || a.uri.is_some() || a.filename.is_some() {
                    inv.attachments.push(a);
                }
            }
            Some("50") if a.description.is_none() && a.uri.is_none() && a.filename.is_none() => {
                if let Some(id) = &a.id
                    && !set(&mut inv.tender_reference, id)
                {
                    inv.extra.push((path.to_string(), id.clone()));
                }
            }
            _ => inv.attachments.push(a),
        }
    }

    fn end_ubl(&mut self, path: &str, text: &str, attrs: &Attrs) -> Result<bool, ModelError> {
        let inv = &mut self.inv;
        let t = match path {
            "UBLVersionID" => true,
            "CustomizationID" => set(&mut inv.specification, text),
            "ProfileID" => set(&mut inv.business_process, text),
            "ID" => set(&mut inv.number, text),
            "IssueDate" => set(&mut inv.issue_date, text),
            "DueDate" | "PaymentMeans/PaymentDueDate" => set(&mut inv.due_date, text),
            "InvoiceTypeCode" | "CreditNoteTypeCode" => set(&mut inv.type_code, text),
            "Note" => {
                if !text.trim().is_empty() {
                    inv.notes.push(Note {
                        subject: None,
                        text: Some(text.trim().to_string()),
                    });
                }
                true
            }
            "TaxPointDate" => set(&mut inv.tax_point_date, text),
            "DocumentCurrencyCode" => set(&mut inv.currency, text),
            "TaxCurrencyCode" => set(&mut inv.tax_currency, text),
            "AccountingCost" => set(&mut inv.accounting_reference, text),
            "BuyerReference" => set(&mut inv.buyer_reference, text),
            "InvoicePeriod/StartDate" => set(&mut inv.period_start, text),
            "InvoicePeriod/EndDate" => set(&mut inv.period_end, text),
            "InvoicePeriod/DescriptionCode" => set(&mut inv.tax_point_date_code, text),
            "OrderReference/ID" => set(&mut inv.order_reference, text),
            "OrderReference/SalesOrderID" => set(&mut inv.sales_order_reference, text),
            "BillingReference/InvoiceDocumentReference/ID" => {
                match inv.preceding_invoices.last_mut() {
                    Some(p) => set(&mut p.number, text),
                    None => false,
                }
            }
            "BillingReference/InvoiceDocumentReference/IssueDate" => {
                match inv.preceding_invoices.last_mut() {
                    Some(p) => set(&mut p.issue_date, text),
                    None => false,
                }
            }
            "DespatchDocumentReference/ID" => set(&mut inv.despatch_advice, text),
            "ReceiptDocumentReference/ID" => set(&mut inv.receiving_advice, text),
            "OriginatorDocumentReference/ID" => set(&mut inv.tender_reference, text),
            "ContractDocumentReference/ID" => set(&mut inv.contract_reference, text),
            "ProjectReference/ID" => set(&mut inv.project_reference, text),
            "AdditionalDocumentReference" => {
                self.finish_doc(path);
                return Ok(true);
            }
            "PaymentMeans/PaymentMeansCode" => {
                if let Some(n) = attr(attrs, "name") {
                    set(&mut inv.payment_means_text, n);
                }
                set(&mut inv.payment_means, text)
            }
            "PaymentMeans/PaymentID" => set(&mut inv.remittance_information, text),
            "PaymentMeans/CardAccount/PrimaryAccountNumberID" => set(&mut inv.card_number, text),
            "PaymentMeans/CardAccount/NetworkID" => set(&mut inv.card_network, text),
            "PaymentMeans/CardAccount/HolderName" => set(&mut inv.card_holder, text),
            "PaymentMeans/PayeeFinancialAccount/ID" => {
                set(&mut inv.payment_account, text);
                match inv.credit_transfers.last_mut() {
                    Some(c) => set(&mut c.account, text),
                    None => false,
                }
            }
            "PaymentMeans/PayeeFinancialAccount/Name" => match inv.credit_transfers.last_mut() {
                Some(c) => set(&mut c.account_name, text),
                None => false,
            },
            "PaymentMeans/PayeeFinancialAccount/FinancialInstitutionBranch/ID" => {
                match inv.credit_transfers.last_mut() {
                    Some(c) => set(&mut c.bic, text),
                    None => false,
                }
            }
            "PaymentMeans/PaymentMandate/ID" => set(&mut inv.mandate_reference, text),
            "PaymentMeans/PaymentMandate/PayerFinancialAccount/ID" => {
                set(&mut inv.debited_account, text)
            }
            "PaymentTerms/Note" => set(&mut inv.payment_terms, text),
            "LegalMonetaryTotal/LineExtensionAmount" => {
                num(&mut inv.totals.line_net, "BT-106", text)?
            }
            "LegalMonetaryTotal/TaxExclusiveAmount" => {
                num(&mut inv.totals.without_vat, "BT-109", text)?
            }
            "LegalMonetaryTotal/TaxInclusiveAmount" => {
                num(&mut inv.totals.with_vat, "BT-112", text)?
            }
            "LegalMonetaryTotal/AllowanceTotalAmount" => {
                num(&mut inv.totals.allowances, "BT-107", text)?
            }
            "LegalMonetaryTotal/ChargeTotalAmount" => num(&mut inv.totals.charges, "BT-108", text)?,
            "LegalMonetaryTotal/PrepaidAmount" => num(&mut inv.totals.prepaid, "BT-113", text)?,
            "LegalMonetaryTotal/PayableRoundingAmount" => {
                num(&mut inv.totals.rounding, "BT-114", text)?
            }
            "LegalMonetaryTotal/PayableAmount" => num(&mut inv.totals.payable, "BT-115", text)?,
            "TaxTotal/TaxAmount" => {
                let cur = attr(attrs, "currencyID");
                if cur.is_some() && cur != inv.currency.as_deref() {
                    num(&mut inv.totals.vat_in_tax_currency, "BT-111", text)?
                } else {
                    num(&mut inv.totals.vat, "BT-110", text)?
                }
            }
            _ => {
                return self.end_ubl_groups(path, text, attrs);
            }
        };
        Ok(t)
    }

    fn end_ubl_groups(
        &mut self,
        path: &str,
        text: &str,
        attrs: &Attrs,
    ) -> Result<bool, ModelError> {
        let inv = &mut self.inv;
        if let Some(rest) = path.strip_prefix("AdditionalDocumentReference/") {
            let Some(d) = self.doc.as_mut() else {
                return Ok(false);
            };
            let a = &mut d.attachment;
            return Ok(match rest {
                "ID" => {
                    if let Some(s) = attr(attrs, "schemeID") {
                        d.scheme = Some(s.to_string());
                    }
                    set(&mut a.id, text)
                }
                "DocumentTypeCode" => set(&mut d.type_code, text),
                "DocumentDescription" => set(&mut a.description, text),
                "Attachment/ExternalReference/URI" => set(&mut a.uri, text),
                "Attachment/EmbeddedDocumentBinaryObject" => {
                    if let Some(m) = attr(attrs, "mimeCode") {
                        set(&mut a.mime_code, m);
                    }
                    if let Some(f) = attr(attrs, "filename") {
                        set(&mut a.filename, f);
                    }
                    a.embedded_size = Some(base64_size(text));
                    true
                }
                _ => false,
            });
        }
        if let Some(rest) = path.strip_prefix("TaxTotal/TaxSubtotal/") {
            let Some(b) = inv.vat_breakdown.last_mut() else {
                return Ok(false);
            };
            return Ok(match rest {
                "TaxableAmount" => num(&mut b.taxable, "BT-116", text)?,
                "TaxAmount" => num(&mut b.tax, "BT-117", text)?,
                "TaxCategory/ID" => set(&mut b.category, text),
                "TaxCategory/Percent" => num(&mut b.rate, "BT-119", text)?,
                "TaxCategory/TaxExemptionReasonCode" => set(&mut b.exemption_code, text),
                "TaxCategory/TaxExemptionReason" => set(&mut b.exemption_reason, text),
                "TaxCategory/TaxScheme/ID" => true,
                _ => false,
            });
        }
        if let Some(rest) = path.strip_prefix("AllowanceCharge/") {
            if let Some(ac) = inv.allowance_charges.last_mut()
                && let Some(t) = allowance_charge(ac, rest, text, false)?
            {
                return Ok(t);
            }
            return Ok(false);
        }
        let line = path
            .strip_prefix("InvoiceLine/")
            .or_else(|| path.strip_prefix("CreditNoteLine/"));
        if let Some(rest) = line {
            return match ubl_line(&mut inv.lines, rest) {
                Some((l, rest)) => ubl_line_end(l, rest, text, attrs),
                None => Ok(false),
            };
        }
        if let Some(rest) = path.strip_prefix("Delivery/") {
            let d = &mut inv.delivery;
            if let Some(a) = rest.strip_prefix("DeliveryLocation/Address/") {
                return Ok(ubl_address(d, a, text).unwrap_or(false));
            }
            return Ok(match rest {
                "ActualDeliveryDate" => set(&mut inv.delivery_date, text),
                "DeliveryLocation/ID" => {
                    push_ident(&mut d.identifiers, ident(text, attrs, "schemeID"))
                }
                "DeliveryParty/PartyName/Name" => set(&mut d.name, text),
                _ => false,
            });
        }
        for (prefix, party, role) in [
            (
                "AccountingSupplierParty/Party/",
                &mut inv.seller,
                Role::Main,
            ),
            ("AccountingCustomerParty/Party/", &mut inv.buyer, Role::Main),
            ("PayeeParty/", &mut inv.payee, Role::Other),
            (
                "TaxRepresentativeParty/",
                &mut inv.tax_representative,
                Role::Other,
            ),
        ] {
            if let Some(rest) = path.strip_prefix(prefix) {
                return Ok(ubl_party(
                    party,
                    rest,
                    text,
                    attrs,
                    role,
                    &mut self.tax_company_id,
                    &mut inv.creditor_id,
                )
                .unwrap_or(false));
            }
        }
        Ok(false)
    }

    fn end_cii(&mut self, path: &str, text: &str, attrs: &Attrs) -> Result<bool, ModelError> {
        const TX: &str = "SupplyChainTradeTransaction/";
        let inv = &mut self.inv;
        let t = match path {
            "ExchangedDocument/ID" => set(&mut inv.number, text),
            "ExchangedDocument/TypeCode" => set(&mut inv.type_code, text),
            "ExchangedDocument/IssueDateTime/DateTimeString" => {
                set(&mut inv.issue_date, &iso_date(text))
            }
            "ExchangedDocument/IncludedNote/Content" => match inv.notes.last_mut() {
                Some(n) => set(&mut n.text, text),
                None => false,
            },
            "ExchangedDocument/IncludedNote/SubjectCode" => match inv.notes.last_mut() {
                Some(n) => set(&mut n.subject, text),
                None => false,
            },
            "ExchangedDocumentContext/GuidelineSpecifiedDocumentContextParameter/ID" => {
                set(&mut inv.specification, text)
            }
            "ExchangedDocumentContext/BusinessProcessSpecifiedDocumentContextParameter/ID" => {
                set(&mut inv.business_process, text)
            }
            _ => {
                let Some(rest) = path.strip_prefix(TX) else {
                    return Ok(false);
                };
                if let Some(s) = rest.strip_prefix("ApplicableHeaderTradeSettlement/") {
                    return self.end_cii_settlement(s, text, attrs);
                }
                if let Some(a) = rest.strip_prefix("ApplicableHeaderTradeAgreement/") {
                    return Ok(self.end_cii_agreement(a, path, text, attrs));
                }
                if let Some(d) = rest.strip_prefix("ApplicableHeaderTradeDelivery/") {
                    if let Some(p) = d.strip_prefix("ShipToTradeParty/") {
                        return Ok(cii_party(&mut inv.delivery, p, text, attrs).unwrap_or(false));
                    }
                    return Ok(match d {
                        "ActualDeliverySupplyChainEvent/OccurrenceDateTime/DateTimeString" => {
                            set(&mut inv.delivery_date, &iso_date(text))
                        }
                        "DespatchAdviceReferencedDocument/IssuerAssignedID" => {
                            set(&mut inv.despatch_advice, text)
                        }
                        "ReceivingAdviceReferencedDocument/IssuerAssignedID" => {
                            set(&mut inv.receiving_advice, text)
                        }
                        _ => false,
                    });
                }
                if let Some(l) = rest.strip_prefix("IncludedSupplyChainTradeLineItem/") {
                    return match inv.lines.last_mut() {
                        Some(line) => cii_line_end(line, l, text, attrs),
                        None => Ok(false),
                    };
                }
                false
            }
        };
        Ok(t)
    }

    fn end_cii_agreement(&mut self, a: &str, path: &str, text: &str, attrs: &Attrs) -> bool {
        let inv = &mut self.inv;
        for (prefix, party) in [
            ("SellerTradeParty/", &mut inv.seller),
            ("BuyerTradeParty/", &mut inv.buyer),
            (
                "SellerTaxRepresentativeTradeParty/",
                &mut inv.tax_representative,
            ),
        ] {
            if let Some(p) = a.strip_prefix(prefix) {
                return cii_party(party, p, text, attrs).unwrap_or(false);
            }
        }
        if let Some(d) = a.strip_prefix("AdditionalReferencedDocument/") {
            let Some(doc) = self.doc.as_mut() else {
                return false;
            };
            let at = &mut doc.attachment;
            return match d {
                "IssuerAssignedID" => set(&mut at.id, text),
                "URIID" => set(&mut at.uri, text),
                "TypeCode" => set(&mut doc.type_code, text),
                "Name" => set(&mut at.description, text),
                "ReferenceTypeCode" => set(&mut doc.scheme, text),
                "AttachmentBinaryObject" => {
                    if let Some(m) = attr(attrs, "mimeCode") {
                        set(&mut at.mime_code, m);
                    }
                    if let Some(f) = attr(attrs, "filename") {
                        set(&mut at.filename, f);
                    }
                    at.embedded_size = Some(base64_size(text));
                    true
                }
                _ => false,
            };
        }
        match a {
            "BuyerReference" => set(&mut inv.buyer_reference, text),
            "AdditionalReferencedDocument" => {
                self.finish_doc(path);
                true
            }
            "SellerOrderReferencedDocument/IssuerAssignedID" => {
                set(&mut inv.sales_order_reference, text)
            }
            "BuyerOrderReferencedDocument/IssuerAssignedID" => set(&mut inv.order_reference, text),
            "ContractReferencedDocument/IssuerAssignedID" => set(&mut inv.contract_reference, text),
            "SpecifiedProcuringProject/ID" => set(&mut inv.project_reference, text),
            "SpecifiedProcuringProject/Name" => set(&mut inv.project_name, text),
            _ => false,
        }
    }

    fn end_cii_settlement(
        &mut self,
        s: &str,
        text: &str,
        attrs: &Attrs,
    ) -> Result<bool, ModelError> {
        let inv = &mut self.inv;
        if let Some(p) = s.strip_prefix("PayeeTradeParty/") {
            return Ok(cii_party(&mut inv.payee, p, text, attrs).unwrap_or(false));
        }
        if let Some(t) = s.strip_prefix("ApplicableTradeTax/") {
            if t == "TaxPointDate/DateString" {
                return Ok(set(&mut inv.tax_point_date, &iso_date(text)));
            }
            if t == "DueDateTypeCode" {
                return Ok(set(&mut inv.tax_point_date_code, text));
            }
            let Some(b) = inv.vat_breakdown.last_mut() else {
                return Ok(false);
            };
            return Ok(match t {
                "BasisAmount" => num(&mut b.taxable, "BT-116", text)?,
                "CalculatedAmount" => num(&mut b.tax, "BT-117", text)?,
                "CategoryCode" => set(&mut b.category, text),
                "RateApplicablePercent" => num(&mut b.rate, "BT-119", text)?,
                "ExemptionReason" => set(&mut b.exemption_reason, text),
                "ExemptionReasonCode" => set(&mut b.exemption_code, text),
                "TypeCode" => text.trim() == "VAT",
                _ => false,
            });
        }
        if let Some(a) = s.strip_prefix("SpecifiedTradeAllowanceCharge/") {
            if let Some(ac) = inv.allowance_charges.last_mut()
                && let Some(t) = allowance_charge(ac, a, text, true)?
            {
                return Ok(t);
            }
            return Ok(false);
        }
        if let Some(m) = s.strip_prefix("SpecifiedTradeSettlementPaymentMeans/") {
            return Ok(match m {
                "TypeCode" => set(&mut inv.payment_means, text),
                "Information" => set(&mut inv.payment_means_text, text),
                "ApplicableTradeSettlementFinancialCard/ID" => set(&mut inv.card_number, text),
                "ApplicableTradeSettlementFinancialCard/CardholderName" => {
                    set(&mut inv.card_holder, text)
                }
                "PayerPartyDebtorFinancialAccount/IBANID" => set(&mut inv.debited_account, text),
                "PayeePartyCreditorFinancialAccount/IBANID"
                | "PayeePartyCreditorFinancialAccount/ProprietaryID" => {
                    set(&mut inv.payment_account, text);
                    match inv.credit_transfers.last_mut() {
                        Some(c) => set(&mut c.account, text),
                        None => false,
                    }
                }
                "PayeePartyCreditorFinancialAccount/AccountName" => {
                    match inv.credit_transfers.last_mut() {
                        Some(c) => set(&mut c.account_name, text),
                        None => false,
                    }
                }
                "PayeeSpecifiedCreditorFinancialInstitution/BICID" => {
                    match inv.credit_transfers.last_mut() {
                        Some(c) => set(&mut c.bic, text),
                        None => false,
                    }
                }
                _ => false,
            });
        }
        const SUM: &str = "SpecifiedTradeSettlementHeaderMonetarySummation/";
        if let Some(m) = s.strip_prefix(SUM) {
            let t = &mut inv.totals;
            return Ok(match m {
                "LineTotalAmount" => num(&mut t.line_net, "BT-106", text)?,
                "ChargeTotalAmount" => num(&mut t.charges, "BT-108", text)?,
                "AllowanceTotalAmount" => num(&mut t.allowances, "BT-107", text)?,
                "TaxBasisTotalAmount" => num(&mut t.without_vat, "BT-109", text)?,
                "TaxTotalAmount" => {
                    let cur = attr(attrs, "currencyID");
                    if cur.is_some() && cur != inv.currency.as_deref() {
                        num(&mut t.vat_in_tax_currency, "BT-111", text)?
                    } else {
                        num(&mut t.vat, "BT-110", text)?
                    }
                }
                "RoundingAmount" => num(&mut t.rounding, "BT-114", text)?,
                "GrandTotalAmount" => num(&mut t.with_vat, "BT-112", text)?,
                "TotalPrepaidAmount" => num(&mut t.prepaid, "BT-113", text)?,
                "DuePayableAmount" => num(&mut t.payable, "BT-115", text)?,
                _ => false,
            });
        }
        Ok(match s {
            "CreditorReferenceID" => set(&mut inv.creditor_id, text),
            "PaymentReference" => set(&mut inv.remittance_information, text),
            "TaxCurrencyCode" => set(&mut inv.tax_currency, text),
            "InvoiceCurrencyCode" => set(&mut inv.currency, text),
            "BillingSpecifiedPeriod/StartDateTime/DateTimeString" => {
                set(&mut inv.period_start, &iso_date(text))
            }
            "BillingSpecifiedPeriod/EndDateTime/DateTimeString" => {
                set(&mut inv.period_end, &iso_date(text))
            }
            "SpecifiedTradePaymentTerms/Description" => set(&mut inv.payment_terms, text),
            "SpecifiedTradePaymentTerms/DueDateDateTime/DateTimeString" => {
                set(&mut inv.due_date, &iso_date(text))
            }
            "SpecifiedTradePaymentTerms/DirectDebitMandateID" => {
                set(&mut inv.mandate_reference, text)
            }
            "InvoiceReferencedDocument/IssuerAssignedID" => {
                match inv.preceding_invoices.last_mut() {
                    Some(p) => set(&mut p.number, text),
                    None => false,
                }
            }
            "InvoiceReferencedDocument/FormattedIssueDateTime/DateTimeString" => {
                match inv.preceding_invoices.last_mut() {
                    Some(p) => set(&mut p.issue_date, &iso_date(text)),
                    None => false,
                }
            }
            "ReceivableSpecifiedTradeAccountingAccount/ID" => {
                set(&mut inv.accounting_reference, text)
            }
            _ => false,
        })
    }

    /// Handles the start of a group element.
    fn start(&mut self, path: &str) {
        let inv = &mut self.inv;
        match inv.syntax {
            SourceSyntax::UblInvoice | SourceSyntax::UblCreditNote => {
                match path {
                    "InvoiceLine" | "CreditNoteLine" => inv.lines.push(Line::default()),
                    "TaxTotal/TaxSubtotal" => inv.vat_breakdown.push(VatBreakdown::default()),
                    "BillingReference" => inv.preceding_invoices.push(PrecedingInvoice::default()),
                    "AdditionalDocumentReference" => self.doc = Some(PendingDoc::default()),
                    "AllowanceCharge" => inv.allowance_charges.push(AllowanceCharge::default()),
                    "PaymentMeans/PayeeFinancialAccount" => {
                        inv.credit_transfers.push(CreditTransfer::default())
                    }
                    _ => {}
                }
                let line = path
                    .strip_prefix("InvoiceLine/")
                    .or_else(|| path.strip_prefix("CreditNoteLine/"));
                if let Some(rest) = line {
                    // A sub-invoice line below the last (sub-)line of the level above.
                    let (parent, last) = match rest.rsplit_once('/') {
                        Some((p, l)) => (format!("{p}/"), l),
                        None => (String::new(), rest),
                    };
                    if let Some((l, r)) = ubl_line(&mut inv.lines, &parent) {
                        match (r, last) {
                            ("", "SubInvoiceLine") => l.sub_lines.push(Line::default()),
                            ("", "AllowanceCharge") => {
                                l.allowance_charges.push(AllowanceCharge::default())
                            }
                            ("Item/", "AdditionalItemProperty") => {
                                l.attributes.push(ItemAttribute::default())
                            }
                            _ => {}
                        }
                    }
                }
            }
            SourceSyntax::Cii => {
                let Some(rest) = path.strip_prefix("SupplyChainTradeTransaction/") else {
                    if path == "ExchangedDocument/IncludedNote" {
                        inv.notes.push(Note::default());
                    }
                    return;
                };
                match rest {
                    "IncludedSupplyChainTradeLineItem" => inv.lines.push(Line::default()),
                    "ApplicableHeaderTradeSettlement/ApplicableTradeTax" => {
                        inv.vat_breakdown.push(VatBreakdown::default())
                    }
                    "ApplicableHeaderTradeSettlement/SpecifiedTradeAllowanceCharge" => {
                        inv.allowance_charges.push(AllowanceCharge::default())
                    }
                    "ApplicableHeaderTradeSettlement/InvoiceReferencedDocument" => {
                        inv.preceding_invoices.push(PrecedingInvoice::default())
                    }
                    "ApplicableHeaderTradeSettlement/SpecifiedTradeSettlementPaymentMeans/PayeePartyCreditorFinancialAccount" => {
                        inv.credit_transfers.push(CreditTransfer::default())
                    }
                    "ApplicableHeaderTradeAgreement/AdditionalReferencedDocument" => {
                        self.doc = Some(PendingDoc::default())
                    }
                    _ => {}
                }
                if let Some(l) = rest.strip_prefix("IncludedSupplyChainTradeLineItem/")
                    && let Some(line) = inv.lines.last_mut()
                {
                    match l {
                        "SpecifiedLineTradeSettlement/SpecifiedTradeAllowanceCharge" => {
                            line.allowance_charges.push(AllowanceCharge::default())
                        }
                        "SpecifiedTradeProduct/ApplicableProductCharacteristic" => {
                            line.attributes.push(ItemAttribute::default())
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// An open element: local name, text, attributes (local name, value).
type Frame = (String, String, Vec<(String, String)>);

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
    // Stack of (local name, text, attributes).
    let mut stack: Vec<Frame> = Vec::new();
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
                let mut attrs = Vec::new();
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
                    let key: &str = a.key.as_ref();
                    if key != "xmlns" && !key.starts_with("xmlns:") {
                        attrs.push((local(key).to_string(), value.into_owned()));
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
                        inv: Invoice::empty(syntax),
                        tax_company_id: None,
                        doc: None,
                    });
                    stack.push((lname, String::new(), Vec::new()));
                    if empty {
                        stack.pop();
                    }
                    continue;
                }
                stack.push((lname, String::new(), attrs));
                let path = path_of(&stack);
                if let Some(r) = r.as_mut() {
                    r.start(&path);
                    if empty {
                        let attrs = stack.last().map(|s| s.2.as_slice()).unwrap_or_default();
                        r.end(&path, "", attrs)?;
                    }
                }
                if empty {
                    stack.pop();
                }
            }
            Event::End(_) => {
                let path = path_of(&stack);
                if let (Some(r), Some((_, text, attrs))) = (r.as_mut(), stack.last())
                    && stack.len() > 1
                    && !r.end(&path, text, attrs)?
                    && !text.trim().is_empty()
                {
                    r.inv.extra.push((path, text.trim().to_string()));
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
fn path_of(stack: &[Frame]) -> String {
    let mut s = String::new();
    for (i, (name, _, _)) in stack.iter().enumerate().skip(1) {
        if i > 1 {
            s.push('/');
        }
        s.push_str(name);
    }
    s
}
