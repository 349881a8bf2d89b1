//! German full-text search over the service catalogue, in process with tantivy.
//!
//! Text is folded before analysis (`ä→ae`, `ö→oe`, `ü→ue`, `ß→ss`, lower case), so "Münster",
//! "Muenster" and "MÜNSTER" are one word. Every text is indexed three ways: German-stemmed words
//! (precise), whole folded words (for prefix and typo matching) and character trigrams (for parts
//! of compound words: "zulassung" in "Fahrzeugzulassung"). A query is parsed in web-search style
//! (`"phrase"`, `-exclude`, `or`), each word is expanded by the synonym list and looked up in all
//! three ways with different weights; the name counts most, then the OZG-Leistung, Lebenslage and
//! Themenfeld, then the legal basis.

use crate::model::ServiceDoc;
use std::collections::HashMap;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, NgramTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
    TokenStream,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term};
use thiserror::Error;

/// Longest query that is considered (longer input is cut, never refused).
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words of a query that are looked up.
const MAX_WORDS: usize = 12;
/// Most distinct words that [`SearchIndex::search_weighted`] looks up.
pub const MAX_WEIGHTED_WORDS: usize = 48;
/// Longest word that is looked up (the index drops longer words).
const MAX_WORD_BYTES: usize = 60;

const SYNONYMS: &str = include_str!("synonyms.txt");

/// Errors of the index.
#[derive(Debug, Error)]
pub enum SearchError {
    /// tantivy failed.
    #[error("Suchindex: {0}")]
    Index(#[from] tantivy::TantivyError),
}

/// Folds German text for matching: lower case, umlauts and ß spelled out.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'é' | 'è' | 'ê' => out.push('e'),
            'á' | 'à' | 'â' => out.push('a'),
            c => out.push(c),
        }
    }
    out
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    stem: [Field; 3],
    word: Field,
    gram: Field,
}

/// A searchable, immutable snapshot of one catalogue.
pub struct SearchIndex {
    reader: IndexReader,
    index: Index,
    fields: Fields,
    docs: Vec<ServiceDoc>,
    synonyms: HashMap<String, Vec<String>>,
    /// The folded words of all service names, sorted (for splitting compound words).
    name_words: Vec<String>,
}

/// One hit.
#[derive(Clone, Debug)]
pub struct Hit<'a> {
    /// The service.
    pub doc: &'a ServiceDoc,
    /// Relevance (higher is better).
    pub score: f32,
}

/// A parsed query clause.
#[derive(Debug, PartialEq, Eq)]
enum Clause {
    Word(String),
    Phrase(Vec<String>),
    Not(String),
}

fn parse(query: &str) -> Vec<Clause> {
    let q: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let mut clauses = Vec::new();
    let mut rest = q.as_str();
    while !rest.is_empty() && clauses.len() < MAX_WORDS {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('"') {
            let (inside, tail) = after.split_once('"').unwrap_or((after, ""));
            let words = words(inside);
            if !words.is_empty() {
                clauses.push(Clause::Phrase(words));
            }
            rest = tail;
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (token, tail) = rest.split_at(end);
        rest = tail;
        if let Some(neg) = token.strip_prefix('-') {
            clauses.extend(words(neg).into_iter().map(Clause::Not));
        } else if !token.eq_ignore_ascii_case("or") && !token.eq_ignore_ascii_case("oder") {
            clauses.extend(words(token).into_iter().map(Clause::Word));
        }
    }
    clauses
}

/// Splits folded text into words of letters and digits.
fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn analyzer_stem() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(60))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::German))
        .build()
}

fn analyzer_word() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(60))
        .filter(LowerCaser)
        .build()
}

fn analyzer_gram() -> TextAnalyzer {
    TextAnalyzer::builder(NgramTokenizer::new(3, 3, false).expect("3..3 is a valid n-gram range"))
        .build()
}

fn text_field(tokenizer: &str, positions: bool) -> TextOptions {
    let option = if positions {
        IndexRecordOption::WithFreqsAndPositions
    } else {
        IndexRecordOption::WithFreqs
    };
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(option),
    )
}

impl SearchIndex {
    /// Builds the index in memory.
    pub fn build(docs: Vec<ServiceDoc>) -> Result<Self, SearchError> {
        let mut sb = Schema::builder();
        let fields = Fields {
            id: sb.add_u64_field("id", NumericOptions::default().set_stored().set_fast()),
            stem: [
                sb.add_text_field("name_stem", text_field("de_stem", true)),
                sb.add_text_field("context_stem", text_field("de_stem", false)),
                sb.add_text_field("legal_stem", text_field("de_stem", false)),
            ],
            word: sb.add_text_field("name_word", text_field("de_word", false)),
            gram: sb.add_text_field("name_gram", text_field("de_gram", false)),
        };
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register("de_stem", analyzer_stem());
        index.tokenizers().register("de_word", analyzer_word());
        index.tokenizers().register("de_gram", analyzer_gram());
        let mut writer = index.writer_with_num_threads(1, 30_000_000)?;
        for (i, d) in docs.iter().enumerate() {
            let name = fold(&d.name);
            let context = fold(&format!(
                "{} {} {}",
                d.ozg_name.as_deref().unwrap_or(""),
                d.lebenslage.as_deref().unwrap_or(""),
                d.themenfeld.as_deref().unwrap_or("")
            ));
            let mut doc = TantivyDocument::new();
            doc.add_u64(fields.id, i as u64);
            doc.add_text(fields.stem[0], &name);
            doc.add_text(fields.stem[1], &context);
            doc.add_text(fields.stem[2], fold(&d.legal_basis));
            doc.add_text(fields.word, &name);
            doc.add_text(fields.gram, &name);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        let synonyms = SYNONYMS
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| {
                (
                    fold(k.trim()),
                    v.split(',')
                        .map(|s| fold(s.trim()))
                        .filter(|s| !s.is_empty())
                        .collect(),
                )
            })
            .collect();
        let mut name_words: Vec<String> = docs.iter().flat_map(|d| words(&d.name)).collect();
        name_words.sort_unstable();
        name_words.dedup();
        Ok(Self {
            reader,
            index,
            fields,
            docs,
            synonyms,
            name_words,
        })
    }

    /// Number of services in the index.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    fn analyze(&self, analyzer: &str, text: &str) -> Vec<String> {
        let Some(mut a) = self.index.tokenizers().get(analyzer) else {
            return Vec::new();
        };
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    fn word_query(&self, word: &str, weight: f32) -> Box<dyn Query> {
        let f = self.fields;
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let boosted = |q: Box<dyn Query>, b: f32| -> (Occur, Box<dyn Query>) {
            (Occur::Should, Box::new(BoostQuery::new(q, b * weight)))
        };
        for stem in self.analyze("de_stem", word) {
            for (field, boost) in [(f.stem[0], 4.0), (f.stem[1], 1.2), (f.stem[2], 0.3)] {
                let term = Term::from_field_text(field, &stem);
                parts.push(boosted(
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                    boost,
                ));
            }
        }
        // The query's stem as the beginning of a whole word ("schwerbehinder" → "schwerbehinderte").
        for stem in self
            .analyze("de_stem", word)
            .into_iter()
            .filter(|s| s.chars().count() >= 5 && s != word)
        {
            let term = Term::from_field_text(f.word, &stem);
            parts.push(boosted(
                Box::new(FuzzyTermQuery::new_prefix(term, 0, true)),
                1.5,
            ));
        }
        let chars = word.chars().count();
        if chars >= 3 {
            let term = Term::from_field_text(f.word, word);
            parts.push(boosted(
                Box::new(FuzzyTermQuery::new_prefix(term, 0, true)),
                2.0,
            ));
        }
        if chars >= 5 {
            let distance = if chars >= 9 { 2 } else { 1 };
            let term = Term::from_field_text(f.word, word);
            parts.push(boosted(
                Box::new(FuzzyTermQuery::new(term, distance, true)),
                1.5,
            ));
            let prefix = Term::from_field_text(f.word, word);
            parts.push(boosted(
                Box::new(FuzzyTermQuery::new_prefix(prefix, 1, true)),
                0.8,
            ));
        }
        if chars >= 5 {
            // All trigrams of the word: the word occurs inside a compound.
            let grams: Vec<(Occur, Box<dyn Query>)> = self
                .analyze("de_gram", word)
                .into_iter()
                .map(|g| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(f.gram, &g),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Must, q)
                })
                .collect();
            if !grams.is_empty() {
                parts.push(boosted(Box::new(BooleanQuery::new(grams)), 0.4));
            }
        }
        Box::new(BooleanQuery::new(parts))
    }

    fn build_query(&self, query: &str) -> Option<Box<dyn Query>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut positive = false;
        for clause in parse(query) {
            match clause {
                Clause::Word(w) => {
                    positive = true;
                    clauses.push((Occur::Should, self.word_query(&w, 1.0)));
                    if let Some(expansions) = self.synonyms.get(&w) {
                        for e in expansions.iter().filter(|e| **e != w) {
                            clauses.push((Occur::Should, self.word_query(e, 0.6)));
                        }
                    }
                }
                Clause::Phrase(ws) => {
                    positive = true;
                    let terms: Vec<Term> = ws
                        .iter()
                        .flat_map(|w| self.analyze("de_stem", w))
                        .map(|s| Term::from_field_text(self.fields.stem[0], &s))
                        .collect();
                    let q: Box<dyn Query> = if terms.len() > 1 {
                        Box::new(BoostQuery::new(Box::new(PhraseQuery::new(terms)), 3.0))
                    } else {
                        self.word_query(&ws[0], 1.0)
                    };
                    clauses.push((Occur::Must, q));
                }
                Clause::Not(w) => clauses.push((Occur::MustNot, self.word_query(&w, 1.0))),
            }
        }
        positive.then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>)
    }

    /// Searches; `boost(doc)` multiplies the relevance of a hit (e.g. 1.3 for services the tenant
    /// offers online). Returns the total number of matches and one page of hits.
    pub fn search(
        &self,
        query: &str,
        offset: usize,
        limit: usize,
        boost: impl Fn(&ServiceDoc) -> f32,
    ) -> Result<(usize, Vec<Hit<'_>>), SearchError> {
        let Some(q) = self.build_query(query) else {
            return Ok((0, Vec::new()));
        };
        self.run(q.as_ref(), offset, limit, boost)
    }

    /// Whether some word of a service name begins with `prefix`.
    fn name_word_starts_with(&self, prefix: &str) -> bool {
        let i = self.name_words.partition_point(|w| w.as_str() < prefix);
        self.name_words
            .get(i)
            .is_some_and(|w| w.starts_with(prefix))
    }

    /// Splits a compound that no service name contains into a known modifier and head
    /// ("bussgeldbescheid" → "bussgeld", "bescheid"); either part may be missing.
    fn split_compound(&self, word: &str) -> Vec<String> {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        if chars.len() < 8 || self.name_word_starts_with(word) {
            return Vec::new();
        }
        let known_head = |h: &str| {
            self.name_words
                .binary_search_by(|w| w.as_str().cmp(h))
                .is_ok()
                || (h.chars().count() >= 5 && self.name_word_starts_with(h))
        };
        // The modifier, without a linking element ("Bußgeld-s-…", "Familie-n-…").
        let known_modifier = |m: &str| -> Option<String> {
            [
                m,
                m.strip_suffix('s').unwrap_or(m),
                m.strip_suffix('n').unwrap_or(m),
            ]
            .into_iter()
            .find(|m| m.chars().count() >= 4 && self.name_word_starts_with(m))
            .map(str::to_owned)
        };
        let mut best: Vec<String> = Vec::new();
        // Longest head first: the head names what the compound is.
        for &(at, _) in &chars[4..chars.len() - 3] {
            let (modifier, head) = word.split_at(at);
            let parts: Vec<String> = known_modifier(modifier)
                .into_iter()
                .chain(known_head(head).then(|| head.to_owned()))
                .collect();
            if parts.len() == 2 {
                return parts;
            }
            if parts.len() > best.len() {
                best = parts;
            }
        }
        best
    }

    /// Searches for weighted words, all OR-ed (no query syntax): each text is folded and split into
    /// words, and each word is matched like a query word (stems, prefixes, typos, compounds, synonyms)
    /// with its weight; a compound that no service name contains is also looked up by its parts
    /// ("Bußgeldbescheid" → "bussgeld", "bescheid"). Words with a weight of 0 or less and words
    /// beyond the first [`MAX_WEIGHTED_WORDS`] are ignored. Used by the situation assistant.
    pub fn search_weighted(
        &self,
        terms: &[(&str, f32)],
        offset: usize,
        limit: usize,
        boost: impl Fn(&ServiceDoc) -> f32,
    ) -> Result<(usize, Vec<Hit<'_>>), SearchError> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let weighted = terms
            .iter()
            .filter(|(_, weight)| *weight > 0.0 && weight.is_finite())
            .flat_map(|(text, weight)| words(text).into_iter().map(move |w| (w, *weight)))
            .filter(|(w, _)| w.len() <= MAX_WORD_BYTES && seen.insert(w.clone()))
            .take(MAX_WEIGHTED_WORDS)
            .collect::<Vec<_>>();
        for (w, weight) in weighted {
            clauses.push((Occur::Should, self.word_query(&w, weight)));
            for part in self.split_compound(&w) {
                clauses.push((Occur::Should, self.word_query(&part, 0.6 * weight)));
            }
            if let Some(expansions) = self.synonyms.get(&w) {
                for e in expansions.iter().filter(|e| **e != w) {
                    clauses.push((Occur::Should, self.word_query(e, 0.6 * weight)));
                }
            }
        }
        if clauses.is_empty() {
            return Ok((0, Vec::new()));
        }
        self.run(&BooleanQuery::new(clauses), offset, limit, boost)
    }

    fn run(
        &self,
        q: &dyn Query,
        offset: usize,
        limit: usize,
        boost: impl Fn(&ServiceDoc) -> f32,
    ) -> Result<(usize, Vec<Hit<'_>>), SearchError> {
        let searcher = self.reader.searcher();
        // Re-rank a generous head of the result by availability, then page.
        let head = (offset + limit).clamp(50, 500);
        let (total, top) =
            searcher.search(q, &(Count, TopDocs::with_limit(head).order_by_score()))?;
        let mut hits: Vec<Hit<'_>> = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let stored: TantivyDocument = searcher.doc(addr)?;
            let Some(i) = stored.get_first(self.fields.id).and_then(|v| v.as_u64()) else {
                continue;
            };
            let Some(doc) = self.docs.get(i as usize) else {
                continue;
            };
            hits.push(Hit {
                doc,
                score: score * boost(doc),
            });
        }
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.doc.name.cmp(&b.doc.name))
        });
        Ok((total, hits.into_iter().skip(offset).take(limit).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_parsing() {
        assert_eq!(
            fold("Führerschein Straße MÜNSTER"),
            "fuehrerschein strasse muenster"
        );
        assert_eq!(
            parse("\"Kraftfahrzeug Zulassung\" Hund -international or Katze"),
            vec![
                Clause::Phrase(vec!["kraftfahrzeug".into(), "zulassung".into()]),
                Clause::Word("hund".into()),
                Clause::Not("international".into()),
                Clause::Word("katze".into()),
            ]
        );
        assert!(parse("").is_empty());
        assert!(parse(&"x".repeat(5000)).len() <= 1);
    }
}
