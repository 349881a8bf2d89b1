//! Secure loading of XML into a small tree: size cap checked before anything is read, no
//! DOCTYPE (so no entity expansion, no external entities), depth and node caps.

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use thiserror::Error;

/// Limits for loading XML.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum input size in bytes.
    pub max_bytes: usize,
    /// Maximum element nesting depth.
    pub max_depth: usize,
    /// Maximum number of elements.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 20 * 1024 * 1024,
            max_depth: 128,
            max_nodes: 1_000_000,
        }
    }
}

/// Why an XML document was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// The input exceeds the size cap.
    #[error("Die Datei ist zu groß ({size} Bytes; erlaubt sind höchstens {limit} Bytes).")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// A DOCTYPE declaration (DTD, entities) was found.
    #[error("DOCTYPE-Deklarationen (DTD, Entitäten) sind nicht erlaubt (Zeile {line}).")]
    Doctype {
        /// Line of the declaration.
        line: u32,
    },
    /// An entity reference other than the five predefined ones.
    #[error("Unbekannte Entität &{name}; (Zeile {line}); Entitäten sind nicht erlaubt.")]
    Entity {
        /// Entity name.
        name: String,
        /// Line.
        line: u32,
    },
    /// Nesting deeper than the cap.
    #[error("Die XML-Struktur ist zu tief verschachtelt (mehr als {limit} Ebenen, Zeile {line}).")]
    TooDeep {
        /// The cap.
        limit: usize,
        /// Line.
        line: u32,
    },
    /// More elements than the cap.
    #[error("Die Datei enthält zu viele Elemente (mehr als {limit}).")]
    TooManyNodes {
        /// The cap.
        limit: usize,
    },
    /// The input is not UTF-8.
    #[error("Die Datei ist nicht UTF-8-kodiert: {detail}.")]
    Encoding {
        /// What is wrong.
        detail: String,
    },
    /// Not well-formed XML.
    #[error("Die Datei ist kein wohlgeformtes XML (Zeile {line}): {message}")]
    Malformed {
        /// Line.
        line: u32,
        /// Parser message.
        message: String,
    },
}

/// An element of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Namespace URI (empty when unqualified).
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Prefixed name as written (for messages).
    pub qname: String,
    /// Attributes by local name.
    pub attrs: Vec<(String, String)>,
    /// Child elements.
    pub children: Vec<Node>,
    /// Text content directly inside the element (concatenated).
    pub text: String,
    /// Line of the start tag.
    pub line: u32,
}

impl Node {
    /// Attribute value by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Child elements with the given local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// First child with the given local name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Text trimmed; `None` when empty.
    pub fn trimmed(&self) -> Option<String> {
        let t = self.text.trim();
        (!t.is_empty()).then(|| t.to_string())
    }
}

struct LineCounter<'a> {
    input: &'a [u8],
    pos: usize,
    line: u32,
}

impl LineCounter<'_> {
    fn at(&mut self, pos: usize) -> u32 {
        let pos = pos.min(self.input.len());
        if pos >= self.pos {
            self.line += self.input[self.pos..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u32;
            self.pos = pos;
        }
        self.line
    }
}

/// Parses `input` into a tree, refusing hostile input (see [`Limits`]).
pub fn parse(input: &[u8], limits: &Limits) -> Result<Node, XmlError> {
    if input.len() > limits.max_bytes {
        return Err(XmlError::TooLarge {
            size: input.len(),
            limit: limits.max_bytes,
        });
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|e| XmlError::Encoding {
        detail: format!("ungültige Bytefolge bei Byte {}", e.valid_up_to()),
    })?;
    let mut reader = quick_xml::NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut lines = LineCounter {
        input,
        pos: 0,
        line: 1,
    };
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;
    loop {
        let pos = reader.buffer_position() as usize;
        let (ns, event) = match reader.read_resolved_event() {
            Ok(v) => v,
            Err(e) => {
                let line = lines.at(reader.error_position() as usize);
                return Err(XmlError::Malformed {
                    line,
                    message: e.to_string(),
                });
            }
        };
        match event {
            Event::DocType(_) => {
                return Err(XmlError::Doctype {
                    line: lines.at(pos),
                });
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let line = lines.at(pos);
                if root.is_some() {
                    return Err(XmlError::Malformed {
                        line,
                        message: "mehr als ein Wurzelelement".into(),
                    });
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep {
                        limit: limits.max_depth,
                        line,
                    });
                }
                nodes += 1;
                if nodes > limits.max_nodes {
                    return Err(XmlError::TooManyNodes {
                        limit: limits.max_nodes,
                    });
                }
                let ns = match ns {
                    ResolveResult::Bound(n) => n.as_ref().to_string(),
                    ResolveResult::Unbound => String::new(),
                    ResolveResult::Unknown(p) => {
                        return Err(XmlError::Malformed {
                            line,
                            message: format!("unbekanntes Namensraumpräfix „{}“", p),
                        });
                    }
                };
                let qname = e.name().as_ref().to_string();
                let name = e.local_name().as_ref().to_string();
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|err| XmlError::Malformed {
                        line,
                        message: err.to_string(),
                    })?;
                    let value =
                        a.normalized_value(XmlVersion::Implicit1_0)
                            .map_err(|err| match err {
                                quick_xml::Error::Escape(
                                    quick_xml::escape::EscapeError::UnrecognizedEntity(_, name),
                                ) => XmlError::Entity { name, line },
                                other => XmlError::Malformed {
                                    line,
                                    message: other.to_string(),
                                },
                            })?;
                    let key = a.key.local_name().as_ref().to_string();
                    if a.key.as_ref().starts_with("xmlns") {
                        continue;
                    }
                    attrs.push((key, value.into_owned()));
                }
                let node = Node {
                    ns,
                    name,
                    qname,
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                    line,
                };
                if matches!(event, Event::Empty(_)) {
                    close(node, &mut stack, &mut root);
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                if let Some(node) = stack.pop() {
                    close(node, &mut stack, &mut root);
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(XmlError::Malformed {
                        line: lines.at(pos),
                        message: "Text außerhalb des Wurzelelements".into(),
                    });
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(g) => {
                let line = lines.at(pos);
                let c = match g.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*g.xml10_content() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => {
                            return Err(XmlError::Entity {
                                name: other.to_string(),
                                line,
                            });
                        }
                    },
                    Err(e) => {
                        return Err(XmlError::Malformed {
                            line,
                            message: e.to_string(),
                        });
                    }
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed {
            line: lines.at(input.len()),
            message: "unerwartetes Dateiende".into(),
        });
    }
    root.ok_or(XmlError::Malformed {
        line: 1,
        message: "kein Wurzelelement".into(),
    })
}

fn close(node: Node, stack: &mut [Node], root: &mut Option<Node>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}
