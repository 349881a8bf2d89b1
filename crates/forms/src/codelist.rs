//! Code lists: where the importer gets the values of a referenced list ([`CodeListSource`]),
//! a source reading genericode files from a directory ([`CodeListDir`]) and the genericode 1.0
//! reader ([`parse_genericode`]).

use crate::model::{CodeList, CodeValue};
use crate::xml::{self, Limits, Node};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Namespace of OASIS genericode 1.0.
pub const GENERICODE_NS: &str = "http://docs.oasis-open.org/codelist/ns/genericode/1.0/";

/// Largest genericode file read (bytes).
pub const MAX_CODELIST_BYTES: u64 = 20 * 1024 * 1024;

/// A reference to a code list as a schema writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeListRef {
    /// The FIM id of the reference (XDF 2 `codelisteReferenz/identifikation/id`, e.g. `C00000001`).
    pub id: Option<String>,
    /// Canonical identification (URN).
    pub urn: String,
    /// Version, if given.
    pub version: Option<String>,
    /// Column holding the code (XDF 3 `codeKey`), if given.
    pub code_key: Option<String>,
    /// Column holding the label (XDF 3 `nameKey`), if given.
    pub name_key: Option<String>,
}

/// A code list that was found but cannot be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("Codeliste {file}: {message}")]
pub struct CodeListError {
    /// File (or list) concerned.
    pub file: String,
    /// What is wrong (German).
    pub message: String,
}

/// Resolves code list references to their values.
pub trait CodeListSource {
    /// The list, `Ok(None)` if this source does not have it.
    fn resolve(&self, reference: &CodeListRef) -> Result<Option<CodeList>, CodeListError>;
}

/// A source without any lists: every referenced list becomes free text with a warning.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCodeLists;

impl CodeListSource for NoCodeLists {
    fn resolve(&self, _: &CodeListRef) -> Result<Option<CodeList>, CodeListError> {
        Ok(None)
    }
}

/// Genericode files in a directory (not recursive). A list is found by file name first (the
/// name contains the reference id, e.g. `C00000001_genericode.xml`, or the URN with `:`
/// replaced by `_`), otherwise by the `CanonicalUri` (and `Version`, if the reference has one)
/// inside the `*.xml` files of the directory.
#[derive(Debug, Clone)]
pub struct CodeListDir {
    dir: PathBuf,
}

impl CodeListDir {
    /// Lists in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CodeListDir { dir: dir.into() }
    }

    /// Lists beside a schema file (its directory).
    pub fn beside(schema_file: &Path) -> Self {
        CodeListDir::new(
            schema_file
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        )
    }

    fn xml_files(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .is_some_and(|x| x.eq_ignore_ascii_case("xml") || x == "gc")
            })
            .collect();
        files.sort();
        files
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, CodeListError> {
    let err = |message: String| CodeListError {
        file: path.display().to_string(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(format!("nicht lesbar: {e}")))?;
    if meta.len() > MAX_CODELIST_BYTES {
        return Err(err(format!(
            "zu groß ({} Bytes, höchstens {MAX_CODELIST_BYTES})",
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| err(format!("nicht lesbar: {e}")))
}

impl CodeListSource for CodeListDir {
    fn resolve(&self, r: &CodeListRef) -> Result<Option<CodeList>, CodeListError> {
        let files = self.xml_files();
        let urn_name = r.urn.replace([':', '/'], "_");
        let by_name = files.iter().find(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            r.id.as_deref()
                .is_some_and(|id| !id.is_empty() && name.contains(id))
                || (!urn_name.is_empty() && name.contains(&urn_name))
        });
        if let Some(path) = by_name {
            let bytes = read_file(path)?;
            let list = parse_genericode(&bytes, r).map_err(|message| CodeListError {
                file: path.display().to_string(),
                message,
            })?;
            return Ok(Some(list));
        }
        for path in &files {
            let Ok(bytes) = read_file(path) else { continue };
            let Ok(root) = xml::parse(&bytes, &Limits::default()) else {
                continue;
            };
            if root.name != "CodeList" || root.ns != GENERICODE_NS {
                continue;
            }
            let ident = root.child("Identification");
            let uri = ident
                .and_then(|i| i.child("CanonicalUri"))
                .and_then(Node::trimmed);
            let version = ident
                .and_then(|i| i.child("Version"))
                .and_then(Node::trimmed);
            if uri.as_deref() == Some(r.urn.as_str())
                && (r.version.is_none() || version == r.version)
            {
                let list = read_genericode(&root, r).map_err(|message| CodeListError {
                    file: path.display().to_string(),
                    message,
                })?;
                return Ok(Some(list));
            }
        }
        Ok(None)
    }
}

/// Reads a genericode 1.0 `CodeList`: the code column is the key column (`ColumnSet/Key` with
/// id `codeKey`, else the first key, or `reference.code_key`), the label column is
/// `reference.name_key`, else the key `codenameKey`, else the first non-key column named like
/// "Beschreibung", "Bezeichnung", "Name" or "Wert", else the first non-key column.
pub fn parse_genericode(bytes: &[u8], reference: &CodeListRef) -> Result<CodeList, String> {
    let root = xml::parse(bytes, &Limits::default()).map_err(|e| e.to_string())?;
    read_genericode(&root, reference)
}

fn read_genericode(root: &Node, reference: &CodeListRef) -> Result<CodeList, String> {
    if root.name != "CodeList" || root.ns != GENERICODE_NS {
        return Err(format!(
            "kein genericode-1.0-Dokument (Wurzelelement {{{}}}{})",
            root.ns, root.name
        ));
    }
    let columns_set = root
        .child("ColumnSet")
        .ok_or("ColumnSet fehlt".to_string())?;
    let columns: Vec<(String, String)> = columns_set
        .children_named("Column")
        .map(|c| {
            (
                c.attr("Id").unwrap_or_default().to_string(),
                c.child("ShortName")
                    .and_then(Node::trimmed)
                    .unwrap_or_default(),
            )
        })
        .collect();
    let key_ref = |key: &Node| {
        key.child("ColumnRef")
            .and_then(|c| c.attr("Ref"))
            .map(str::to_string)
    };
    let keys: Vec<&Node> = columns_set.children_named("Key").collect();
    let key_by_id = |id: &str| {
        keys.iter()
            .find(|k| k.attr("Id").is_some_and(|x| x.eq_ignore_ascii_case(id)))
            .and_then(|k| key_ref(k))
    };
    let code_col = reference
        .code_key
        .clone()
        .or_else(|| key_by_id("codeKey"))
        .or_else(|| keys.first().and_then(|k| key_ref(k)))
        .ok_or("keine Schlüsselspalte (ColumnSet/Key) angegeben".to_string())?;
    if !columns.iter().any(|(id, _)| *id == code_col) {
        return Err(format!(
            "die Schlüsselspalte „{code_col}“ ist nicht definiert"
        ));
    }
    let key_cols: Vec<String> = keys.iter().filter_map(|k| key_ref(k)).collect();
    let label_col = reference
        .name_key
        .clone()
        .or_else(|| key_by_id("codenameKey"))
        .or_else(|| {
            columns
                .iter()
                .filter(|(id, _)| !key_cols.contains(id) && *id != code_col)
                .find(|(id, short)| {
                    let s = format!("{id} {short}").to_lowercase();
                    ["beschreibung", "bezeichnung", "name", "wert"]
                        .iter()
                        .any(|w| s.contains(w))
                })
                .map(|(id, _)| id.clone())
        })
        .or_else(|| {
            columns
                .iter()
                .find(|(id, _)| !key_cols.contains(id) && *id != code_col)
                .map(|(id, _)| id.clone())
        });
    let list = root
        .child("SimpleCodeList")
        .ok_or("SimpleCodeList fehlt".to_string())?;
    let mut values = Vec::new();
    for (i, row) in list.children_named("Row").enumerate() {
        let cell = |col: &str| {
            row.children_named("Value")
                .find(|v| v.attr("ColumnRef") == Some(col))
                .and_then(|v| v.child("SimpleValue"))
                .map(|s| s.text.trim().to_string())
        };
        let code = cell(&code_col)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| format!("Zeile {} hat keinen Code", i + 1))?;
        if values.iter().any(|v: &CodeValue| v.code == code) {
            return Err(format!("der Code „{code}“ kommt mehrfach vor"));
        }
        let label = label_col
            .as_deref()
            .and_then(cell)
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| code.clone());
        values.push(CodeValue { code, label });
    }
    if values.is_empty() {
        return Err("die Liste enthält keine Werte".into());
    }
    let ident = root.child("Identification");
    let urn = ident
        .and_then(|i| i.child("CanonicalUri"))
        .and_then(Node::trimmed)
        .unwrap_or_else(|| reference.urn.clone());
    let version = ident
        .and_then(|i| i.child("Version"))
        .and_then(Node::trimmed)
        .or_else(|| reference.version.clone());
    Ok(CodeList {
        urn,
        version,
        values,
    })
}
