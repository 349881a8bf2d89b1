//! Secure XML loading into a compact, read-only tree (the XPath data model subset the rules need).
//!
//! Refuses what an invoice never needs and an attacker loves: DOCTYPE declarations (and with them
//! every DTD, internal or external entity and the "billion laughs"), unknown entity references,
//! documents above a size limit, nesting deeper than a limit and trees with too many nodes. The
//! input must be UTF-8, as XRechnung requires.

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use std::borrow::Cow;
use std::collections::HashMap;

/// "No node" in the links of [`Node`].
pub const NONE: u32 = u32::MAX;

/// The namespace of the `xml:` prefix.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Limits applied while loading a document.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest accepted document in bytes.
    pub max_bytes: usize,
    /// Deepest accepted element nesting.
    pub max_depth: usize,
    /// Most nodes (elements, attributes, text) in one document.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 20 * 1024 * 1024,
            max_depth: 256,
            max_nodes: 4_000_000,
        }
    }
}

/// Why a document was not loaded. The texts are shown to senders, hence German.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// Above [`Limits::max_bytes`].
    #[error("Die Datei ist mit {size} Bytes größer als die erlaubten {limit} Bytes.")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A DOCTYPE declaration (DTD, entities).
    #[error(
        "Die Datei enthält eine DOCTYPE-Deklaration (Zeile {line}). DTDs und Entitäten werden aus Sicherheitsgründen nicht angenommen und nie aufgelöst."
    )]
    Doctype {
        /// Line of the declaration.
        line: u32,
    },
    /// A reference to an entity that is not one of the five predefined ones.
    #[error(
        "Die Datei verweist in Zeile {line} auf die nicht erlaubte Entität „&{name};“. Nur die vordefinierten XML-Entitäten sind zulässig."
    )]
    Entity {
        /// Entity name.
        name: String,
        /// Line of the reference.
        line: u32,
    },
    /// Nesting deeper than [`Limits::max_depth`].
    #[error("Die Elemente sind tiefer als {limit} Ebenen verschachtelt (Zeile {line}).")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// Line where the limit was passed.
        line: u32,
    },
    /// More nodes than [`Limits::max_nodes`].
    #[error("Die Datei enthält mehr als {limit} XML-Knoten.")]
    TooManyNodes {
        /// The limit.
        limit: usize,
    },
    /// Not UTF-8.
    #[error("Die Datei ist nicht in UTF-8 kodiert ({detail}).")]
    Encoding {
        /// What was found.
        detail: String,
    },
    /// Not well-formed.
    #[error("Die Datei ist kein wohlgeformtes XML (Zeile {line}): {message}")]
    Malformed {
        /// Line of the error.
        line: u32,
        /// Parser message.
        message: String,
    },
}

/// Kinds of nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The document node.
    Document,
    /// An element.
    Element,
    /// An attribute (not a namespace declaration).
    Attribute,
    /// A text node (character data and CDATA sections, merged).
    Text,
    /// A comment.
    Comment,
    /// A processing instruction.
    Pi,
}

/// One node. Ids are indexes into [`Document::nodes`] and follow document order; an element's
/// attributes directly follow it.
#[derive(Clone, Debug)]
pub struct Node {
    /// Kind of node.
    pub kind: Kind,
    /// Parent (the element for attributes), [`NONE`] for the document.
    pub parent: u32,
    /// First child (elements, text, comments), [`NONE`] if none.
    pub first_child: u32,
    /// Last child.
    pub last_child: u32,
    /// Next sibling (not for attributes).
    pub next_sibling: u32,
    /// Previous sibling (not for attributes).
    pub prev_sibling: u32,
    /// Number of attributes (they have ids `self+1 ..= self+attr_count`).
    pub attr_count: u32,
    /// Index into [`Document::qnames`] (elements, attributes, processing instructions).
    pub name: u32,
    /// Id of the name in the [`Names`] table the document was loaded with ([`QName::id`]),
    /// [`NONE`] if the node has no name or the name is unknown there.
    pub name_id: u32,
    /// Index of the node's text (attributes, text, comments, processing instructions), read
    /// with [`Document::text`].
    pub value: u32,
    /// Line in the source (1-based).
    pub line: u32,
}

/// An expanded name as found in the document.
#[derive(Clone, Debug)]
pub struct QName {
    /// Namespace URI ("" for none).
    pub ns: Box<str>,
    /// Local part.
    pub local: Box<str>,
    /// Prefix as written ("" for none).
    pub prefix: Box<str>,
    /// Id in the [`Names`] table the document was loaded with, [`NONE`] if unknown there.
    pub id: u32,
}

impl QName {
    /// The name as written (`prefix:local`).
    pub fn display(&self) -> String {
        if self.prefix.is_empty() {
            self.local.to_string()
        } else {
            format!("{}:{}", self.prefix, self.local)
        }
    }
}

/// Table of expanded names known to compiled rules, so that name tests compare integers.
#[derive(Default, Debug, Clone)]
pub struct Names {
    /// Namespace → local name → id (looked up without building a key).
    map: HashMap<Box<str>, HashMap<Box<str>, u32>>,
    len: u32,
}

impl Names {
    /// Id of a name, adding it if new.
    pub fn intern(&mut self, ns: &str, local: &str) -> u32 {
        if let Some(id) = self.get(ns, local) {
            return id;
        }
        let id = self.len;
        self.len += 1;
        self.map
            .entry(ns.into())
            .or_default()
            .insert(local.into(), id);
        id
    }

    /// Id of a name if known.
    pub fn get(&self, ns: &str, local: &str) -> Option<u32> {
        self.map.get(ns)?.get(local).copied()
    }

    /// Number of names (ids are below it).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are no names.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A namespace declaration found on an element.
#[derive(Clone, Debug)]
pub struct NsDecl {
    /// Element carrying the declaration.
    pub node: u32,
    /// Declared prefix ("" for the default namespace).
    pub prefix: Box<str>,
    /// Namespace URI.
    pub uri: Box<str>,
}

/// A loaded document.
#[derive(Clone, Debug)]
pub struct Document {
    /// All nodes in document order; node 0 is the document node.
    pub nodes: Vec<Node>,
    /// Names used by the nodes.
    pub qnames: Vec<QName>,
    /// Text values.
    texts: Vec<(usize, usize)>,
    /// All texts one after the other (`texts` holds their byte ranges): one allocation for a
    /// document instead of one per text.
    text_buf: String,
    /// Namespace declarations in document order.
    pub ns_decls: Vec<NsDecl>,
    /// Elements by name id (of the [`Names`] table), each list in document order: answers
    /// `//name` without walking the tree.
    pub by_name: Vec<Vec<u32>>,
    /// Attributes by name id, each list in document order: answers `//@name`.
    pub attrs_by_name: Vec<Vec<u32>>,
    /// Where the long text nodes written as plain character data (no references, no CDATA
    /// sections) are in the input, in document order: lets the schema layer hand libxml2 a
    /// shortened copy of large embedded attachments.
    pub raw_texts: Vec<RawText>,
}

/// A text node written as plain character data, and its bytes in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawText {
    /// The text node.
    pub node: u32,
    /// Offset of its first byte in the input given to [`Document::parse`].
    pub start: usize,
    /// Offset after its last byte.
    pub end: usize,
}

/// Text nodes at least this long get a [`RawText`] entry.
pub const RAW_TEXT_MIN: usize = 1024;

fn line_of(input: &[u8], pos: usize) -> u32 {
    let end = pos.min(input.len());
    1 + count_newlines(&input[..end]) as u32
}

/// Number of `\n` bytes. Counted in blocks of at most 255 bytes into a byte-sized counter, which
/// the compiler turns into vector compares (a plain `filter().count()` is byte by byte).
pub(crate) fn count_newlines(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|block| {
            block
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'\n'))) as usize
        })
        .sum()
}

fn normalize_attr(value: Cow<'_, str>) -> Cow<'_, str> {
    if !value.contains(['\t', '\n', '\r']) {
        return value;
    }
    Cow::Owned(
        value
            .chars()
            .map(|c| {
                if matches!(c, '\t' | '\n' | '\r') {
                    ' '
                } else {
                    c
                }
            })
            .collect(),
    )
}

struct Builder<'n> {
    doc: Document,
    names: &'n Names,
    /// Qualified names as written → (namespace, index into `doc.qnames`) pairs seen so far.
    qname_ids: HashMap<String, Vec<(Box<str>, u32)>>,
    stack: Vec<u32>,
    ns_stack: Vec<(String, String)>,
    ns_marks: Vec<usize>,
    text: String,
    text_line: u32,
    /// Events (character data, CDATA sections, references) in `text` so far.
    text_events: u32,
    /// Input bytes of `text` while it is a single run of character data.
    text_span: Option<(usize, usize)>,
    limits: Limits,
}

impl Builder<'_> {
    /// The index in `doc.qnames` of the name of an element, attribute or processing instruction
    /// written `raw` (`prefix:local`, resolved in the current scope); `None` if its prefix is not
    /// declared.
    fn qname(&mut self, raw: &str, kind: Kind) -> Option<u32> {
        let (prefix, local) = if kind == Kind::Pi {
            ("", raw)
        } else {
            split_qname(raw)
        };
        let ns = match kind {
            Kind::Pi => "",
            Kind::Attribute if prefix.is_empty() => "",
            _ => resolve(&self.ns_stack, prefix)?,
        };
        if let Some(seen) = self.qname_ids.get(raw)
            && let Some(&(_, i)) = seen.iter().find(|(n, _)| &**n == ns)
        {
            return Some(i);
        }
        let id = self.names.get(ns, local).unwrap_or(NONE);
        let i = self.doc.qnames.len() as u32;
        self.doc.qnames.push(QName {
            ns: ns.into(),
            local: local.into(),
            prefix: prefix.into(),
            id,
        });
        self.qname_ids
            .entry(raw.to_string())
            .or_default()
            .push((ns.into(), i));
        Some(i)
    }

    fn push_node(&mut self, mut node: Node) -> Result<u32, XmlError> {
        if self.doc.nodes.len() >= self.limits.max_nodes {
            return Err(XmlError::TooManyNodes {
                limit: self.limits.max_nodes,
            });
        }
        let id = self.doc.nodes.len() as u32;
        if node.name != NONE {
            node.name_id = self.doc.qnames[node.name as usize].id;
        }
        if node.kind != Kind::Attribute {
            let parent = *self.stack.last().unwrap_or(&0);
            node.parent = parent;
            let prev = self.doc.nodes[parent as usize].last_child;
            node.prev_sibling = prev;
            if prev == NONE {
                self.doc.nodes[parent as usize].first_child = id;
            } else {
                self.doc.nodes[prev as usize].next_sibling = id;
            }
            self.doc.nodes[parent as usize].last_child = id;
        }
        self.doc.nodes.push(node);
        Ok(id)
    }

    fn leaf(kind: Kind, name: u32, value: u32, line: u32) -> Node {
        Node {
            kind,
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            prev_sibling: NONE,
            attr_count: 0,
            name,
            name_id: NONE,
            value,
            line,
        }
    }

    fn flush_text(&mut self) -> Result<(), XmlError> {
        self.text_events = 0;
        let span = self.text_span.take();
        if self.text.is_empty() {
            return Ok(());
        }
        if self.stack.is_empty() {
            // Outside the root element only whitespace is allowed; it is not part of the tree.
            if !self.text.trim().is_empty() {
                return Err(XmlError::Malformed {
                    line: self.text_line,
                    message: "Text außerhalb des Wurzelelements".into(),
                });
            }
            self.text.clear();
            return Ok(());
        }
        // The buffer is kept for the next text.
        let v = self.doc.push_text(&self.text);
        self.text.clear();
        let line = self.text_line;
        let node = self.push_node(Self::leaf(Kind::Text, NONE, v, line))?;
        if let Some((start, end)) = span
            && end - start >= RAW_TEXT_MIN
        {
            self.doc.raw_texts.push(RawText { node, start, end });
        }
        Ok(())
    }
}

/// The namespace a prefix is bound to by the declarations in scope (innermost last).
fn resolve<'s>(ns_stack: &'s [(String, String)], prefix: &str) -> Option<&'s str> {
    if prefix == "xml" {
        return Some(XML_NS);
    }
    let found = ns_stack
        .iter()
        .rev()
        .find(|(p, _)| p == prefix)
        .map(|(_, u)| u.as_str());
    // An undeclared default namespace is "no namespace".
    if prefix.is_empty() {
        return Some(found.unwrap_or(""));
    }
    found
}

/// Appends a node to the list of its name id in a name index.
fn index_push(index: &mut Vec<Vec<u32>>, name_id: u32, node: u32) {
    let i = name_id as usize;
    if i >= index.len() {
        index.resize_with(i + 1, Vec::new);
    }
    index[i].push(node);
}

fn split_qname(name: &str) -> (&str, &str) {
    match name.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", name),
    }
}

impl Document {
    /// Loads a document from bytes, applying the limits. `names` maps names to the ids compiled
    /// rules use (pass `&Names::default()` when no rules are involved).
    pub fn parse(input: &[u8], limits: Limits, names: &Names) -> Result<Document, XmlError> {
        if input.len() > limits.max_bytes {
            return Err(XmlError::TooLarge {
                size: input.len(),
                limit: limits.max_bytes,
            });
        }
        let full_len = input.len();
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        // Offsets into `input` become offsets into the caller's bytes by adding this.
        let bom = full_len - input.len();
        let text = std::str::from_utf8(input).map_err(|e| XmlError::Encoding {
            detail: format!(
                "ungültige UTF-8-Bytefolge in Zeile {}",
                line_of(input, e.valid_up_to())
            ),
        })?;
        let mut reader = quick_xml::Reader::from_str(text);
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.check_comments = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
        let doc_node = Builder::leaf(Kind::Document, NONE, NONE, 1);
        let mut b = Builder {
            doc: Document {
                nodes: vec![doc_node],
                qnames: Vec::new(),
                texts: Vec::new(),
                // Texts never need more bytes than the input has.
                text_buf: String::with_capacity(input.len()),
                ns_decls: Vec::new(),
                // Capacity for every name id: the indexes grow without moving.
                by_name: Vec::with_capacity(names.len()),
                attrs_by_name: Vec::with_capacity(names.len()),
                raw_texts: Vec::new(),
            },
            names,
            qname_ids: HashMap::new(),
            stack: Vec::new(),
            ns_stack: Vec::new(),
            ns_marks: Vec::new(),
            text: String::new(),
            text_line: 1,
            text_events: 0,
            text_span: None,
            limits,
        };
        let mut seen_root = false;
        let (mut line_pos, mut line_no) = (0usize, 1u32);
        loop {
            let pos = reader.buffer_position() as usize;
            // Lines are counted incrementally: the loader stays linear in the input size.
            if pos > line_pos {
                line_no += count_newlines(&input[line_pos..pos]) as u32;
                line_pos = pos;
            }
            let cur_line = line_no;
            let event = reader.read_event().map_err(|e| XmlError::Malformed {
                line: line_of(input, reader.error_position() as usize),
                message: e.to_string(),
            })?;
            let line = || cur_line;
            match event {
                Event::Decl(d) => {
                    if let Some(Ok(enc)) = d.encoding() {
                        let enc = enc.to_ascii_lowercase();
                        if enc != "utf-8" && enc != "utf8" {
                            return Err(XmlError::Encoding {
                                detail: format!("erklärte Kodierung „{enc}“"),
                            });
                        }
                    }
                }
                Event::DocType(_) => return Err(XmlError::Doctype { line: line() }),
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let is_empty = matches!(event, Event::Empty(_));
                    b.flush_text()?;
                    if b.stack.is_empty() && seen_root {
                        return Err(XmlError::Malformed {
                            line: line(),
                            message: "mehr als ein Wurzelelement".into(),
                        });
                    }
                    seen_root = true;
                    if b.stack.len() >= limits.max_depth {
                        return Err(XmlError::TooDeep {
                            limit: limits.max_depth,
                            line: line(),
                        });
                    }
                    let malformed = |message: String| XmlError::Malformed {
                        line: cur_line,
                        message,
                    };
                    // Namespace declarations first, then the names.
                    b.ns_marks.push(b.ns_stack.len());
                    let mut attrs: Vec<(&str, Cow<'_, str>)> = Vec::new();
                    let mut decls = Vec::new();
                    for a in e.attributes() {
                        let a = a.map_err(|err| malformed(err.to_string()))?;
                        let value =
                            a.normalized_value(XmlVersion::Implicit1_0).map_err(
                                |err| match err {
                                    quick_xml::Error::Escape(
                                        quick_xml::escape::EscapeError::UnrecognizedEntity(_, name),
                                    ) => XmlError::Entity {
                                        name,
                                        line: cur_line,
                                    },
                                    other => malformed(other.to_string()),
                                },
                            )?;
                        let value = normalize_attr(value);
                        let key = a.key.into_inner();
                        if key == "xmlns" {
                            decls.push((String::new(), value.into_owned()));
                        } else if let Some(p) = key.strip_prefix("xmlns:") {
                            if value.is_empty() {
                                return Err(malformed(format!(
                                    "leere Namensraumdeklaration für „{p}“"
                                )));
                            }
                            decls.push((p.to_string(), value.into_owned()));
                        } else {
                            attrs.push((key, value));
                        }
                    }
                    let name = e.name().into_inner();
                    let node_id_next = b.doc.nodes.len() as u32;
                    for (p, u) in &decls {
                        b.doc.ns_decls.push(NsDecl {
                            node: node_id_next,
                            prefix: p.as_str().into(),
                            uri: u.as_str().into(),
                        });
                    }
                    b.ns_stack.extend(decls);
                    let qn = b.qname(name, Kind::Element).ok_or_else(|| {
                        let prefix = split_qname(name).0;
                        malformed(format!("Namenspräfix „{prefix}“ ist nicht deklariert"))
                    })?;
                    let mut el = Builder::leaf(Kind::Element, qn, NONE, line());
                    el.attr_count = attrs.len() as u32;
                    let id = b.push_node(el)?;
                    let name_id = b.doc.qnames[qn as usize].id;
                    if name_id != NONE {
                        index_push(&mut b.doc.by_name, name_id, id);
                    }
                    for (key, value) in attrs {
                        let qa = b.qname(key, Kind::Attribute).ok_or_else(|| {
                            let p = split_qname(key).0;
                            malformed(format!("Namenspräfix „{p}“ ist nicht deklariert"))
                        })?;
                        let v = b.doc.push_text(&value);
                        let mut at = Builder::leaf(Kind::Attribute, qa, v, line());
                        at.parent = id;
                        let attr_id = b.push_node(at)?;
                        let name_id = b.doc.qnames[qa as usize].id;
                        if name_id != NONE {
                            index_push(&mut b.doc.attrs_by_name, name_id, attr_id);
                        }
                    }
                    if is_empty {
                        if let Some(m) = b.ns_marks.pop() {
                            b.ns_stack.truncate(m);
                        }
                    } else {
                        b.stack.push(id);
                    }
                }
                Event::End(_) => {
                    b.flush_text()?;
                    b.stack.pop();
                    if let Some(m) = b.ns_marks.pop() {
                        b.ns_stack.truncate(m);
                    }
                }
                Event::Text(t) => {
                    if b.text.is_empty() {
                        b.text_line = line();
                    }
                    b.text_span = (b.text_events == 0)
                        .then(|| (bom + pos, bom + reader.buffer_position() as usize));
                    b.text_events += 1;
                    b.text.push_str(&t.xml10_content());
                }
                Event::CData(t) => {
                    if b.text.is_empty() {
                        b.text_line = line();
                    }
                    b.text_span = None;
                    b.text_events += 1;
                    b.text.push_str(&t.xml10_content());
                }
                Event::GeneralRef(r) => {
                    if b.text.is_empty() {
                        b.text_line = line();
                    }
                    b.text_span = None;
                    b.text_events += 1;
                    let resolved: Option<char> = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        Ok(None) => match &*r.xml10_content() {
                            "amp" => Some('&'),
                            "lt" => Some('<'),
                            "gt" => Some('>'),
                            "quot" => Some('"'),
                            "apos" => Some('\''),
                            _ => None,
                        },
                        Err(err) => {
                            return Err(XmlError::Malformed {
                                line: line(),
                                message: err.to_string(),
                            });
                        }
                    };
                    match resolved {
                        Some(c) => b.text.push(c),
                        None => {
                            return Err(XmlError::Entity {
                                name: r.xml10_content().into_owned(),
                                line: line(),
                            });
                        }
                    }
                }
                Event::Comment(c) => {
                    b.flush_text()?;
                    if !b.stack.is_empty() {
                        let v = b.doc.push_text(&c.xml10_content());
                        b.push_node(Builder::leaf(Kind::Comment, NONE, v, line()))?;
                    }
                }
                Event::PI(p) => {
                    b.flush_text()?;
                    if !b.stack.is_empty() {
                        let target = p.target().to_string();
                        let content = p.content().trim_start().to_string();
                        let qn = b.qname(&target, Kind::Pi).unwrap_or(NONE);
                        let v = b.doc.push_text(&content);
                        b.push_node(Builder::leaf(Kind::Pi, qn, v, line()))?;
                    }
                }
                Event::Eof => {
                    b.flush_text()?;
                    if !b.stack.is_empty() {
                        return Err(XmlError::Malformed {
                            line: line_of(input, input.len()),
                            message: "unerwartetes Dateiende: nicht alle Elemente sind geschlossen"
                                .into(),
                        });
                    }
                    if !seen_root {
                        return Err(XmlError::Malformed {
                            line: 1,
                            message: "kein Wurzelelement".into(),
                        });
                    }
                    break;
                }
            }
        }
        Ok(b.doc)
    }

    /// Appends a text, returning its index.
    fn push_text(&mut self, text: &str) -> u32 {
        let start = self.text_buf.len();
        self.text_buf.push_str(text);
        self.texts.push((start, self.text_buf.len()));
        self.texts.len() as u32 - 1
    }

    /// The text with the given index ([`Node::value`]).
    #[inline]
    pub fn text(&self, index: u32) -> &str {
        let (start, end) = self.texts[index as usize];
        &self.text_buf[start..end]
    }

    /// The document element.
    pub fn root_element(&self) -> Option<u32> {
        let mut c = self.nodes[0].first_child;
        while c != NONE {
            if self.nodes[c as usize].kind == Kind::Element {
                return Some(c);
            }
            c = self.nodes[c as usize].next_sibling;
        }
        None
    }

    /// Elements with the given name id inside the subtree of `id` (excluding `id` itself).
    pub fn descendants_named(&self, id: u32, name_id: u32) -> &[u32] {
        let Some(all) = self.by_name.get(name_id as usize) else {
            return &[];
        };
        let end = self.subtree_end(id);
        let lo = all.partition_point(|&n| n <= id);
        let hi = all.partition_point(|&n| n <= end);
        &all[lo..hi]
    }

    /// Attributes with the given name id of `id` and of its descendants.
    pub fn attributes_named_within(&self, id: u32, name_id: u32) -> &[u32] {
        let Some(all) = self.attrs_by_name.get(name_id as usize) else {
            return &[];
        };
        let end = self.subtree_end(id);
        let lo = all.partition_point(|&n| n <= id);
        let hi = all.partition_point(|&n| n <= end);
        &all[lo..hi]
    }

    /// The node.
    #[inline]
    pub fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    /// The name of a node (elements, attributes, processing instructions).
    #[inline]
    pub fn qname(&self, id: u32) -> Option<&QName> {
        let n = self.node(id).name;
        if n == NONE {
            None
        } else {
            Some(&self.qnames[n as usize])
        }
    }

    /// The string value of a node.
    pub fn string_value(&self, id: u32) -> Cow<'_, str> {
        let n = self.node(id);
        match n.kind {
            Kind::Attribute | Kind::Text | Kind::Comment | Kind::Pi => {
                Cow::Borrowed(self.text(n.value))
            }
            Kind::Element | Kind::Document => {
                let first = n.first_child;
                if first == NONE {
                    return Cow::Borrowed("");
                }
                let f = self.node(first);
                if f.next_sibling == NONE && f.kind == Kind::Text {
                    return Cow::Borrowed(self.text(f.value));
                }
                let mut s = String::new();
                self.collect_text(id, &mut s);
                Cow::Owned(s)
            }
        }
    }

    fn collect_text(&self, id: u32, out: &mut String) {
        let mut c = self.node(id).first_child;
        while c != NONE {
            let n = self.node(c);
            match n.kind {
                Kind::Text => out.push_str(self.text(n.value)),
                Kind::Element => self.collect_text(c, out),
                _ => {}
            }
            c = n.next_sibling;
        }
    }

    /// Children (not attributes) in order.
    pub fn children(&self, id: u32) -> Children<'_> {
        Children {
            doc: self,
            next: self.node(id).first_child,
        }
    }

    /// Attribute ids of an element.
    pub fn attributes(&self, id: u32) -> std::ops::Range<u32> {
        let n = self.node(id);
        if n.kind == Kind::Element {
            id + 1..id + 1 + n.attr_count
        } else {
            0..0
        }
    }

    /// The last node id inside the subtree of `id` (itself if it has no descendants).
    pub fn subtree_end(&self, id: u32) -> u32 {
        let mut cur = id;
        loop {
            let n = self.node(cur);
            if n.last_child != NONE {
                cur = n.last_child;
            } else {
                return cur
                    + if n.kind == Kind::Element {
                        n.attr_count
                    } else {
                        0
                    };
            }
        }
    }

    /// Namespace declarations in scope at an element, innermost last (for compiling rules).
    pub fn in_scope_namespaces(&self, id: u32) -> Vec<(String, String)> {
        let mut chain = Vec::new();
        let mut cur = id;
        while cur != NONE {
            chain.push(cur);
            cur = self.node(cur).parent;
        }
        let mut out = Vec::new();
        for &el in chain.iter().rev() {
            for d in self.ns_decls.iter().filter(|d| d.node == el) {
                out.push((d.prefix.to_string(), d.uri.to_string()));
            }
        }
        out
    }

    /// Value of an attribute (no namespace) of an element.
    pub fn attr(&self, id: u32, local: &str) -> Option<&str> {
        self.attributes(id)
            .find(|&a| {
                self.qname(a)
                    .is_some_and(|q| q.ns.is_empty() && &*q.local == local)
            })
            .map(|a| self.text(self.node(a).value))
    }
}

/// Iterator over the children of a node.
pub struct Children<'d> {
    doc: &'d Document,
    next: u32,
}

impl Iterator for Children<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.doc.node(id).next_sibling;
        Some(id)
    }
}
