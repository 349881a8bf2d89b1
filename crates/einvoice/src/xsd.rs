//! The XML-schema layer: libxml2's XSD validator, called in-process through a minimal FFI binding
//! (no bindgen needed: only the handful of functions below). The document is handed to libxml2
//! only after the secure loader accepted it, and is parsed with network access and entity
//! substitution off.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::Path;

#[repr(C)]
struct XmlError {
    domain: c_int,
    code: c_int,
    message: *const c_char,
    level: c_int,
    file: *const c_char,
    line: c_int,
    str1: *const c_char,
    str2: *const c_char,
    str3: *const c_char,
    int1: c_int,
    int2: c_int,
    ctxt: *mut c_void,
    node: *mut c_void,
}

type StructuredErrorFn = extern "C" fn(user: *mut c_void, error: *const XmlError);

#[link(name = "xml2")]
unsafe extern "C" {
    fn xmlInitParser();
    fn xmlSchemaNewParserCtxt(url: *const c_char) -> *mut c_void;
    fn xmlSchemaSetParserStructuredErrors(
        ctxt: *mut c_void,
        handler: StructuredErrorFn,
        user: *mut c_void,
    );
    fn xmlSchemaParse(ctxt: *mut c_void) -> *mut c_void;
    fn xmlSchemaFreeParserCtxt(ctxt: *mut c_void);
    fn xmlSchemaFree(schema: *mut c_void);
    fn xmlSchemaNewValidCtxt(schema: *mut c_void) -> *mut c_void;
    fn xmlSchemaSetValidStructuredErrors(
        ctxt: *mut c_void,
        handler: StructuredErrorFn,
        user: *mut c_void,
    );
    fn xmlSchemaValidateDoc(ctxt: *mut c_void, doc: *mut c_void) -> c_int;
    fn xmlSchemaFreeValidCtxt(ctxt: *mut c_void);
    fn xmlReadMemory(
        buffer: *const c_char,
        size: c_int,
        url: *const c_char,
        encoding: *const c_char,
        options: c_int,
    ) -> *mut c_void;
    fn xmlFreeDoc(doc: *mut c_void);
}

const XML_PARSE_NOERROR: c_int = 1 << 5;
const XML_PARSE_NOWARNING: c_int = 1 << 6;
const XML_PARSE_NONET: c_int = 1 << 11;
/// Small text nodes are stored inside the node (fewer allocations); the tree is not modified.
const XML_PARSE_COMPACT: c_int = 1 << 16;

/// One schema violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// Line in the document.
    pub line: u32,
    /// libxml2's message.
    pub message: String,
}

/// Errors loading a schema.
#[derive(Debug, thiserror::Error)]
#[error("XML-Schema {path} konnte nicht geladen werden: {message}")]
pub struct SchemaLoadError {
    /// Schema file.
    pub path: String,
    /// Reason.
    pub message: String,
}

/// A compiled XML schema.
pub struct Schema {
    ptr: *mut c_void,
}

// SAFETY: a parsed xmlSchema is immutable after xmlSchemaParse; libxml2 documents that one schema
// may be used by several validation contexts in different threads at the same time. Each
// validation below uses its own context and document.
unsafe impl Send for Schema {}
// SAFETY: see above.
unsafe impl Sync for Schema {}

extern "C" fn collect(user: *mut c_void, error: *const XmlError) {
    if user.is_null() || error.is_null() {
        return;
    }
    // SAFETY: `user` is the `Vec<SchemaError>` passed by the caller for the duration of the call,
    // and `error` is a valid xmlError supplied by libxml2 for the duration of this callback.
    unsafe {
        let out = &mut *(user as *mut Vec<SchemaError>);
        let e = &*error;
        let message = if e.message.is_null() {
            String::new()
        } else {
            CStr::from_ptr(e.message)
                .to_string_lossy()
                .trim()
                .to_string()
        };
        out.push(SchemaError {
            line: e.line.max(0) as u32,
            message,
        });
    }
}

impl Schema {
    /// Loads and compiles an XSD file (with its includes and imports, resolved locally).
    pub fn load(path: &Path) -> Result<Schema, SchemaLoadError> {
        let fail = |message: String| SchemaLoadError {
            path: path.display().to_string(),
            message,
        };
        let c_path = CString::new(path.to_string_lossy().as_bytes())
            .map_err(|_| fail("ungültiger Pfad".into()))?;
        let mut errors: Vec<SchemaError> = Vec::new();
        // SAFETY: plain libxml2 API usage; every pointer is checked for null and freed once.
        unsafe {
            xmlInitParser();
            let pctxt = xmlSchemaNewParserCtxt(c_path.as_ptr());
            if pctxt.is_null() {
                return Err(fail("Parser-Kontext nicht erzeugt".into()));
            }
            xmlSchemaSetParserStructuredErrors(
                pctxt,
                collect,
                &mut errors as *mut Vec<SchemaError> as *mut c_void,
            );
            let schema = xmlSchemaParse(pctxt);
            xmlSchemaFreeParserCtxt(pctxt);
            if schema.is_null() {
                let msg = errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| "unbekannter Fehler".into());
                return Err(fail(msg));
            }
            Ok(Schema { ptr: schema })
        }
    }

    /// Validates a document (already accepted by the secure loader). Returns the violations.
    pub fn validate(&self, xml: &[u8]) -> Vec<SchemaError> {
        let Ok(size) = c_int::try_from(xml.len()) else {
            return vec![SchemaError {
                line: 0,
                message: "Dokument zu groß für die Schemaprüfung".into(),
            }];
        };
        let mut errors: Vec<SchemaError> = Vec::new();
        // SAFETY: `xml` outlives the call; the document and the context are freed before return;
        // `errors` outlives the validation that writes to it through `collect`.
        unsafe {
            let doc = xmlReadMemory(
                xml.as_ptr() as *const c_char,
                size,
                c"document.xml".as_ptr(),
                std::ptr::null(),
                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_COMPACT,
            );
            if doc.is_null() {
                return vec![SchemaError {
                    line: 0,
                    message: "libxml2 konnte das Dokument nicht lesen".into(),
                }];
            }
            let vctxt = xmlSchemaNewValidCtxt(self.ptr);
            if vctxt.is_null() {
                xmlFreeDoc(doc);
                return vec![SchemaError {
                    line: 0,
                    message: "Validierungskontext nicht erzeugt".into(),
                }];
            }
            xmlSchemaSetValidStructuredErrors(
                vctxt,
                collect,
                &mut errors as *mut Vec<SchemaError> as *mut c_void,
            );
            let rc = xmlSchemaValidateDoc(vctxt, doc);
            xmlSchemaFreeValidCtxt(vctxt);
            xmlFreeDoc(doc);
            if rc != 0 && errors.is_empty() {
                errors.push(SchemaError {
                    line: 0,
                    message: format!("Schemaprüfung fehlgeschlagen (Code {rc})"),
                });
            }
        }
        errors
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from xmlSchemaParse and is freed exactly once.
        unsafe { xmlSchemaFree(self.ptr) }
    }
}

/// What [`scan_plain_base64`] found in base64 character data that libxml2 accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Base64Scan {
    /// Number of `\n` bytes.
    pub newlines: usize,
    /// Whether there is a `\r` byte.
    pub carriage_return: bool,
}

/// The value of a base64 character.
#[inline]
fn base64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Whether a byte is a base64 character or `\n` (branch-free, so that the check of a block
/// compiles to vector instructions).
#[inline]
fn is_base64_or_lf(b: u8) -> bool {
    (b.wrapping_sub(b'A') < 26)
        | (b.wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'+')
        | (b == b'/')
        | (b == b'\n')
}

/// Counts of the scan so far.
#[derive(Default)]
struct Base64Counts {
    chars: usize,
    pad: usize,
    newlines: usize,
    carriage_return: bool,
}

impl Base64Counts {
    /// Takes in bytes one by one; `false` at a byte outside the plain alphabet or a base64
    /// character after padding.
    fn bytes(&mut self, raw: &[u8]) -> bool {
        for &b in raw {
            match b {
                b'=' => self.pad += 1,
                b' ' | b'\t' => {}
                b'\n' => self.newlines += 1,
                b'\r' => self.carriage_return = true,
                _ => {
                    if base64_value(b).is_none() || self.pad > 0 {
                        return false;
                    }
                    self.chars += 1;
                }
            }
        }
        true
    }
}

/// Whether libxml2 accepts the character data `raw` as an `xs:base64Binary` value, decided
/// without libxml2 for data written with the plain alphabet only: base64 characters, `=` and
/// XML whitespace; anything else gives `None` (libxml2 would skip stray characters; such data
/// is left to libxml2). On that alphabet the rules are libxml2's (`xmlSchemaValAtomicType`):
/// whitespace is skipped, only `=` may follow the first `=`, and the padding must fit the
/// number of characters before it and the unused bits of the last one.
pub(crate) fn scan_plain_base64(raw: &[u8]) -> Option<Base64Scan> {
    const BLOCK: usize = 64;
    let mut counts = Base64Counts::default();
    let mut blocks = raw.chunks_exact(BLOCK);
    for block in &mut blocks {
        // Blocks of base64 characters and line feeds only (nearly all of an attachment). The
        // byte-sized counter lets the compiler check the block with vector compares.
        let others = block
            .iter()
            .fold(0u8, |n, &b| n.wrapping_add(u8::from(!is_base64_or_lf(b))));
        if others == 0 && counts.pad == 0 {
            let newlines = crate::xml::count_newlines(block);
            counts.newlines += newlines;
            counts.chars += BLOCK - newlines;
        } else if !counts.bytes(block) {
            return None;
        }
    }
    if !counts.bytes(blocks.remainder()) {
        return None;
    }
    let last = raw.iter().rev().find_map(|&b| base64_value(b)).unwrap_or(0);
    let valid = match counts.pad {
        0 => counts.chars % 4 == 0,
        1 => counts.chars % 4 == 3 && last & !0x3c == 0,
        2 => counts.chars % 4 == 2 && last & !0x30 == 0,
        _ => false,
    };
    valid.then_some(Base64Scan {
        newlines: counts.newlines,
        carriage_return: counts.carriage_return,
    })
}

/// Appends a short stand-in for base64 character data accepted by [`scan_plain_base64`]: the
/// valid value `AAAA`, then the line breaks of `raw` in order (with a `\r`, each run of other
/// bytes between line breaks becomes one space, so that a `\r` and a `\n` stay as far apart as
/// before). libxml2 accepts the stand-in as it accepts `raw`, and counts the same lines after
/// it, so its verdict and the line numbers of its messages do not change.
pub(crate) fn push_base64_stand_in(out: &mut Vec<u8>, raw: &[u8], scan: Base64Scan) {
    out.extend_from_slice(b"AAAA");
    if !scan.carriage_return {
        out.resize(out.len() + scan.newlines, b'\n');
        return;
    }
    let mut in_run = false;
    for &b in raw {
        if b == b'\n' || b == b'\r' {
            out.push(b);
            in_run = false;
        } else if !in_run {
            out.push(b' ');
            in_run = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(raw: &[u8]) -> bool {
        scan_plain_base64(raw).is_some()
    }

    #[test]
    fn plain_base64_follows_libxml2() {
        assert!(accepted(b"QUJD"));
        assert!(accepted(b"  QU\nJD\r\n"));
        assert!(accepted(b"QUI="));
        assert!(accepted(b"QQ=="));
        assert!(accepted(b"QQ = = "));
        assert!(!accepted(b"QUJ"));
        assert!(!accepted(b"QUJ=="));
        assert!(!accepted(b"QUJ="));
        assert!(!accepted(b"QR=="));
        assert!(!accepted(b"QQ==QQ=="));
        assert!(!accepted(b"QQ==="));
        assert!(!accepted(b"QUJD!"));
        assert!(!accepted(b"QU-D"));
    }

    #[test]
    fn long_data_is_scanned_in_blocks_like_byte_by_byte() {
        let line =
            b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3";
        let mut raw = Vec::new();
        for _ in 0..50 {
            raw.extend_from_slice(line);
            raw.push(b'\n');
        }
        let scan = scan_plain_base64(&raw).expect("valid");
        assert_eq!(scan.newlines, 50);
        assert!(!scan.carriage_return);
        // One character more breaks the length; a stray byte deep inside is seen.
        let mut longer = raw.clone();
        longer.insert(10, b'Q');
        assert!(!accepted(&longer));
        let mut stray = raw.clone();
        stray[3000] = b'.';
        assert!(!accepted(&stray));
        // The last four characters (and the line feed) become two and two pads.
        let mut padded = raw.clone();
        padded.truncate(raw.len() - 5);
        padded.extend_from_slice(b"NB==\n");
        assert!(!accepted(&padded));
        padded.truncate(padded.len() - 5);
        padded.extend_from_slice(b"Nw==\n");
        assert!(accepted(&padded));
        let mut after_pad = padded.clone();
        after_pad.extend_from_slice(b"QUJD");
        assert!(!accepted(&after_pad));
    }

    #[test]
    fn stand_in_keeps_line_breaks() {
        let raw = b"QUJD\rQUJD\nQUJD\r\nQQ==";
        let scan = scan_plain_base64(raw).expect("valid");
        let mut out = Vec::new();
        push_base64_stand_in(&mut out, raw, scan);
        assert_eq!(out, b"AAAA \r \n \r\n ");
        assert!(accepted(&out));
        let raw = b"QUJD\nQUJD\nQUI=";
        let scan = scan_plain_base64(raw).expect("valid");
        out.clear();
        push_base64_stand_in(&mut out, raw, scan);
        assert_eq!(out, b"AAAA\n\n");
    }
}
