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
                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING,
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
