//! German full-text search over the service catalogue, in process.
//!
//! Text is folded before analysis (`ä→ae`, `ö→oe`, `ü→ue`, `ß→ss`, lower case), so "Münster",
//! "Muenster" and "MÜNSTER" are one word. Every text is indexed three ways: German-stemmed words
//! (precise), whole folded words (for prefix and typo matching) and character trigrams (for parts
//! of compound words: "zulassung" in "Fahrzeugzulassung"). A query is parsed in web-search style
//! (`"phrase"`, `-exclude`, `or`), each word is expanded by the synonym list and looked up in all
//! three ways with different weights; the name counts most, then the OZG-Leistung, Lebenslage and
//! Themenfeld, then the legal basis.
//!
//! How a search stays fast: the stems and trigrams are scored with tantivy's BM25, read straight
//! from its postings (`TermScores`: the same scores as tantivy's term and boolean queries, without
//! building queries, weights and scorers for every word). The whole words of the
//! names are a sorted vocabulary of their own (`Vocabulary`): a prefix is a binary search, and
//! typos (Damerau–Levenshtein distance 1 or 2, as tantivy's `FuzzyTermQuery` counts them) are a
//! walk over the sorted words that shares the work for a common beginning and skips every word of
//! a beginning that is already too far off. What one word matches, with its score per service, does
//! not depend on the rest of the query nor on the tenant, so it is worked out once and kept in a
//! bounded cache (`MatchCache`); a search then adds the cached lists of its words, takes the best
//! head, applies the caller's boost and pages. The ranking is the one a single tantivy query over
//! all parts gives (scores are summed in another order, so they may differ in the last bits).

use crate::model::ServiceDoc;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings, TermInfo};
use tantivy::query::Bm25StatisticsProvider;
use tantivy::query::{BoostQuery, EnableScoring, PhraseQuery, Query};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    Language, LowerCaser, NgramTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
    TokenStream,
};
use tantivy::{DocSet, Index, InvertedIndexReader, Searcher, TERMINATED, TantivyDocument, Term};
use thiserror::Error;

/// Longest query that is considered (longer input is cut, never refused).
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words of a query that are looked up.
const MAX_WORDS: usize = 12;
/// Most distinct words that [`SearchIndex::search_weighted`] looks up.
pub const MAX_WEIGHTED_WORDS: usize = 48;
/// Longest word that is looked up (the index drops longer words).
const MAX_WORD_BYTES: usize = 60;
/// Weight of a synonym's or a compound part's matches relative to the word's own.
const EXPANSION_WEIGHT: f32 = 0.6;
/// Most words and phrases a cache generation holds (see [`MatchCache`]).
const CACHE_ENTRIES: usize = 4096;
/// Most (service, score) pairs a cache generation holds, 8 bytes each (see [`MatchCache`]).
const CACHE_PAIRS: usize = 1 << 20;

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
    gram: Field,
}

/// A searchable, immutable snapshot of one catalogue.
pub struct SearchIndex {
    fields: Fields,
    /// BM25 of single terms, read straight from the postings.
    bm25: TermScores,
    stemmer: TextAnalyzer,
    trigrams: TextAnalyzer,
    docs: Vec<ServiceDoc>,
    synonyms: HashMap<String, Vec<String>>,
    /// The folded words of all service names, sorted (for splitting compound words).
    name_words: Vec<String>,
    /// The whole words of the names with their services (for prefix and typo matching).
    vocabulary: Vocabulary,
    cache: MatchCache,
    /// Whether [`MatchCache`] is used (see [`SearchIndex::set_match_cache`]).
    caching: AtomicBool,
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

/// The tokens `analyzer` makes of `text`.
fn tokens(analyzer: &TextAnalyzer, text: &str) -> Vec<String> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
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

/// What a word or phrase matches: (service number, score) pairs, by service number.
type Matches = Arc<[(u32, f32)]>;

/// The whole words of all service names (as tantivy's word analysis makes them: folded, split at
/// everything but letters and digits, shorter than 60 bytes), sorted, each with the numbers of the
/// services whose name contains it.
struct Vocabulary {
    words: Vec<Box<[char]>>,
    services: Vec<Box<[u32]>>,
    /// Characters of the longest word.
    longest: usize,
}

impl Vocabulary {
    fn build(docs: &[ServiceDoc]) -> Self {
        let mut analyzer = analyzer_word();
        let mut map: BTreeMap<Box<[char]>, Vec<u32>> = BTreeMap::new();
        for (i, d) in docs.iter().enumerate() {
            let name = fold(&d.name);
            let mut stream = analyzer.token_stream(&name);
            while stream.advance() {
                let word: Box<[char]> = stream.token().text.chars().collect();
                let services = map.entry(word).or_default();
                if services.last() != Some(&(i as u32)) {
                    services.push(i as u32);
                }
            }
        }
        let longest = map.keys().map(|w| w.len()).max().unwrap_or(0);
        let (words, services) = map
            .into_iter()
            .map(|(w, s)| (w, s.into_boxed_slice()))
            .unzip();
        Self {
            words,
            services,
            longest,
        }
    }

    /// The words that begin with `prefix` (positions in `words`).
    fn with_prefix(&self, prefix: &[char]) -> Range<usize> {
        let start = self.words.partition_point(|w| &w[..] < prefix);
        let len = self.words[start..].partition_point(|w| w.starts_with(prefix));
        start..start + len
    }

    /// The position after the last word that begins with `beginning`, given that `words[k]` does:
    /// galloping from `k`, so a small group costs a few comparisons.
    fn end_of_beginning(&self, k: usize, beginning: &[char]) -> usize {
        let within = |i: usize| self.words.get(i).is_some_and(|w| w.starts_with(beginning));
        let mut step = 1;
        while within(k + step) {
            step *= 2;
        }
        let from = k + step / 2 + 1;
        let to = (k + step).min(self.words.len());
        from + self.words[from..to].partition_point(|w| w.starts_with(beginning))
    }

    /// Typos: the words within `distance` of `query`, and the words that begin with a string
    /// within `prefix_distance` (at most `distance`) of it (positions in `words`). These are what
    /// tantivy's `FuzzyTermQuery` with transpositions matches, plain and as a prefix query. The
    /// distance is the optimal string alignment distance in characters (insertions, deletions,
    /// substitutions and swaps of neighbours, each 1).
    ///
    /// One walk over the sorted words finds both: the table columns of the beginning a word shares
    /// with the previous one are kept, and once a beginning is more than `distance` away from every
    /// beginning of `query` (the smallest value of its column only grows from there), all words with
    /// that beginning are skipped. Only the band of cells that can be within `distance` is worked
    /// out; the cells just above and below it hold `distance + 1` ("too far").
    fn typos(
        &self,
        query: &[char],
        distance: u32,
        prefix_distance: u32,
    ) -> (Vec<usize>, Vec<usize>) {
        let (mut whole, mut beginning) = (Vec::new(), Vec::new());
        let n = query.len();
        let prefix_distance = prefix_distance.min(distance);
        if n > self.longest + distance as usize {
            return (whole, beginning);
        }
        let d = distance as usize;
        let far = distance + 1;
        let rows = n + 1;
        // Column j: the distances of the word's first j characters to query[..i], i = 0..=n.
        let mut table = vec![far; rows * (self.longest + 1)];
        for (i, cell) in table[..rows.min(d + 2)].iter_mut().enumerate() {
            *cell = (i as u32).min(far);
        }
        let mut previous: &[char] = &[];
        // Columns 0..=valid hold previous[..valid].
        let mut valid = 0;
        // The shortest beginning of `previous` within `prefix_distance` of `query` (0: the empty
        // one; usize::MAX: none).
        let mut accepted = if n as u32 <= prefix_distance {
            0
        } else {
            usize::MAX
        };
        let mut k = 0;
        while let Some(word) = self.words.get(k) {
            let common = previous
                .iter()
                .zip(word.iter())
                .take_while(|(a, b)| a == b)
                .count()
                .min(valid);
            if accepted > common {
                accepted = usize::MAX;
            }
            let mut j = common;
            let (mut dead, mut end) = (false, far);
            while j < word.len() {
                j += 1;
                let (before, rest) = table.split_at_mut(j * rows);
                let left = &before[(j - 1) * rows..];
                let column = &mut rest[..rows];
                let c = word[j - 1];
                // The band: rows within `distance` of the diagonal.
                let (lo, hi) = (j.saturating_sub(d).max(1), (j + d).min(n));
                column[0] = (j as u32).min(far);
                if lo > 1 && lo - 1 <= n {
                    column[lo - 1] = far;
                }
                if hi < n {
                    column[hi + 1] = far;
                }
                let mut smallest = if j <= d { column[0] } else { far };
                for i in lo..=hi {
                    let mut v = (left[i] + 1)
                        .min(column[i - 1] + 1)
                        .min(left[i - 1] + u32::from(query[i - 1] != c));
                    if i > 1 && j > 1 && query[i - 1] == word[j - 2] && query[i - 2] == c {
                        v = v.min(before[(j - 2) * rows + i - 2] + 1);
                    }
                    column[i] = v;
                    smallest = smallest.min(v);
                }
                // column[n] is worked out only when n lies in the band.
                end = match n {
                    0 => column[0],
                    n if lo <= n && n <= hi => column[n],
                    _ => far,
                };
                if end <= prefix_distance && accepted == usize::MAX {
                    accepted = j;
                }
                if smallest > distance {
                    dead = true;
                    break;
                }
            }
            previous = word;
            valid = j;
            if dead {
                // Every word with this beginning is too far; it begins with a match if this one does.
                let next = self.end_of_beginning(k, &word[..j]);
                if accepted <= j {
                    beginning.extend(k..next);
                }
                k = next;
                continue;
            }
            if accepted <= j {
                beginning.push(k);
            }
            if end <= distance {
                whole.push(k);
            }
            k += 1;
        }
        (whole, beginning)
    }
}

/// Scores per service while a word's matches are put together (not on the search path, but on
/// every search whose words are not cached). The per-service arrays are kept between uses in a
/// per-thread pool and tagged with a number per use, so a use neither allocates nor clears them;
/// only the services it touches are visited again.
struct Dense {
    slots: DenseSlots,
    n: usize,
}

#[derive(Default)]
struct DenseSlots {
    score: Vec<f32>,
    /// Equal to `round`: the service has a score in this use.
    hit: Vec<u32>,
    /// The part that last counted a service (a part counts once per service).
    part: Vec<u32>,
    round: u32,
    parts: u32,
    touched: Vec<u32>,
}

thread_local! {
    /// Idle [`DenseSlots`]; more than one when a word's matches are put together inside another's.
    static DENSE_POOL: RefCell<Vec<DenseSlots>> = const { RefCell::new(Vec::new()) };
}

impl Dense {
    fn new(n: usize) -> Self {
        let mut slots = DENSE_POOL.with_borrow_mut(Vec::pop).unwrap_or_default();
        if slots.score.len() < n {
            slots.score.resize(n, 0.0);
            slots.hit.resize(n, 0);
            slots.part.resize(n, 0);
        }
        if slots.round == u32::MAX || slots.parts > u32::MAX - (1 << 16) {
            slots.hit.fill(0);
            slots.part.fill(0);
            (slots.round, slots.parts) = (0, 0);
        }
        slots.round += 1;
        slots.touched.clear();
        Self { slots, n }
    }

    fn add(&mut self, i: usize, score: f32) {
        let s = &mut self.slots;
        if i >= self.n {
            return;
        }
        if s.hit[i] != s.round {
            s.hit[i] = s.round;
            s.score[i] = 0.0;
            s.touched.push(i as u32);
        }
        s.score[i] += score;
    }

    fn add_matches(&mut self, matches: &[(u32, f32)], weight: f32) {
        for &(i, score) in matches {
            self.add(i as usize, score * weight);
        }
    }

    /// One part with a constant score: every service whose name contains one of `words`.
    fn add_words(
        &mut self,
        vocabulary: &Vocabulary,
        words: impl IntoIterator<Item = usize>,
        score: f32,
    ) {
        self.slots.parts += 1;
        let part = self.slots.parts;
        for k in words {
            for &i in vocabulary.services[k].iter() {
                let i = i as usize;
                if i < self.n && self.slots.part[i] != part {
                    self.slots.part[i] = part;
                    self.add(i, score);
                }
            }
        }
    }

    /// The services with a score, by service number.
    fn into_vec(mut self) -> Vec<(u32, f32)> {
        let s = &mut self.slots;
        s.touched.sort_unstable();
        s.touched
            .iter()
            .map(|&i| (i, s.score[i as usize]))
            .collect()
    }
}

impl Drop for Dense {
    fn drop(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        DENSE_POOL.with_borrow_mut(|pool| pool.push(slots));
    }
}

/// Scores single terms as tantivy's `TermQuery` (BM25) does, with the same arithmetic in the same
/// order, but read straight from the postings: building tantivy's queries, weights and scorers for
/// the few short posting lists of one word cost more than reading them.
struct TermScores {
    /// The index's only generation (it is never changed after the build).
    searcher: Searcher,
    num_docs: u64,
    /// Per segment: the service number of each document.
    services: Vec<Vec<u32>>,
    fields: Vec<ScoredField>,
}

/// A field that [`TermScores`] scores.
struct ScoredField {
    field: Field,
    /// BM25's length normalisation `k1 (1 − b + b · len / average len)` by field-norm id, as
    /// tantivy's `Bm25Weight` caches it.
    norm: Box<[f32; 256]>,
    /// Per segment.
    inverted: Vec<Arc<InvertedIndexReader>>,
    fieldnorms: Vec<FieldNormReader>,
}

/// A term's BM25 weight and its entry in each segment (`None`: not in that segment).
type WeightedTerm = (f32, Vec<Option<TermInfo>>);

/// tantivy's BM25 parameters.
const BM25_K1: f32 = 1.2;
const BM25_B: f32 = 0.75;

impl TermScores {
    fn new(searcher: Searcher, fields: [Field; 4]) -> Result<Self, SearchError> {
        let num_docs = Bm25StatisticsProvider::total_num_docs(&searcher)?;
        let mut services = Vec::new();
        for segment in searcher.segment_readers() {
            let ids = segment.fast_fields().u64("id")?;
            services.push(
                (0..segment.max_doc())
                    .map(|doc| ids.first(doc).map_or(u32::MAX, |i| i as u32))
                    .collect(),
            );
        }
        let fields = fields
            .into_iter()
            .map(|field| {
                let tokens = Bm25StatisticsProvider::total_num_tokens(&searcher, field)?;
                let average = tokens as f32 / num_docs as f32;
                let mut norm = Box::new([0.0; 256]);
                for (id, n) in norm.iter_mut().enumerate() {
                    let length = FieldNormReader::id_to_fieldnorm(id as u8);
                    *n = BM25_K1 * (1.0 - BM25_B + BM25_B * length as f32 / average);
                }
                let mut inverted = Vec::new();
                let mut fieldnorms = Vec::new();
                for segment in searcher.segment_readers() {
                    inverted.push(segment.inverted_index(field)?);
                    fieldnorms.push(
                        segment
                            .fieldnorms_readers()
                            .get_field(field)?
                            .unwrap_or_else(|| FieldNormReader::constant(segment.max_doc(), 1)),
                    );
                }
                Ok(ScoredField {
                    field,
                    norm,
                    inverted,
                    fieldnorms,
                })
            })
            .collect::<Result<_, SearchError>>()?;
        Ok(Self {
            searcher,
            num_docs,
            services,
            fields,
        })
    }

    /// The BM25 weight of `text` in field `field` (a position in the fields given to
    /// [`TermScores::new`]) boosted by `boost`, as tantivy's `Bm25Weight` works it out, with the
    /// term's entry per segment; `None` if no document contains it.
    fn term(
        &self,
        field: usize,
        text: &str,
        boost: f32,
    ) -> Result<Option<WeightedTerm>, SearchError> {
        let sf = &self.fields[field];
        let term = Term::from_field_text(sf.field, text);
        let mut infos = Vec::with_capacity(sf.inverted.len());
        let mut doc_freq = 0u64;
        for inverted in &sf.inverted {
            let info = inverted
                .get_term_info(&term)
                .map_err(tantivy::TantivyError::from)?;
            doc_freq += info.as_ref().map_or(0, |i| u64::from(i.doc_freq));
            infos.push(info);
        }
        if doc_freq == 0 {
            return Ok(None);
        }
        // tantivy's `idf` and `Bm25Weight::boost_by`.
        let x = ((self.num_docs - doc_freq) as f32 + 0.5) / (doc_freq as f32 + 0.5);
        let mut weight = (1.0 + x).ln() * (1.0 + BM25_K1);
        if boost != 1.0 {
            weight *= boost;
        }
        Ok(Some((weight, infos)))
    }

    /// The postings of a term in one segment, with term frequencies if `freqs` (else each counts 1).
    fn postings(
        &self,
        field: usize,
        segment: usize,
        info: &TermInfo,
        freqs: bool,
    ) -> Result<SegmentPostings, SearchError> {
        let option = if freqs {
            IndexRecordOption::WithFreqs
        } else {
            IndexRecordOption::Basic
        };
        Ok(self.fields[field].inverted[segment]
            .read_postings_from_terminfo(info, option)
            .map_err(tantivy::TantivyError::from)?)
    }

    /// tantivy's `Bm25Weight::score` of a document.
    fn score(&self, field: usize, segment: usize, weight: f32, doc: u32, tf: u32) -> f32 {
        let sf = &self.fields[field];
        let tf = tf as f32;
        let norm = sf.norm[sf.fieldnorms[segment].fieldnorm_id(doc) as usize];
        weight * (tf / (tf + norm))
    }

    /// Calls `f(service, score)` for every service whose field `field` contains `text`, in segment
    /// and document order, with the BM25 score of a `TermQuery` (`IndexRecordOption::WithFreqs`)
    /// boosted by `boost`.
    fn for_each(
        &self,
        field: usize,
        text: &str,
        boost: f32,
        mut f: impl FnMut(u32, f32),
    ) -> Result<(), SearchError> {
        let Some((weight, infos)) = self.term(field, text, boost)? else {
            return Ok(());
        };
        for (s, info) in infos.iter().enumerate() {
            let Some(info) = info else { continue };
            let mut postings = self.postings(field, s, info, true)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                let score = self.score(field, s, weight, doc, postings.term_freq());
                if let Some(&service) = self.services[s].get(doc as usize) {
                    f(service, score);
                }
                doc = postings.advance();
            }
        }
        Ok(())
    }

    /// Calls `f(service, score)` for every service whose field `field` contains all of `texts`,
    /// with the score of a tantivy `BooleanQuery` of `TermQuery`s (`IndexRecordOption::Basic`)
    /// that must all match, boosted by `boost`: the scores are added as tantivy's `Intersection`
    /// adds them (the two terms of fewest documents first, of equal numbers the earlier, then the
    /// others in that order). Only the blocks of postings around candidates are read.
    fn for_each_of_all(
        &self,
        field: usize,
        texts: &[String],
        boost: f32,
        mut f: impl FnMut(u32, f32),
    ) -> Result<(), SearchError> {
        let mut terms = Vec::with_capacity(texts.len());
        for text in texts {
            match self.term(field, text, boost)? {
                Some(term) => terms.push(term),
                None => return Ok(()),
            }
        }
        if terms.is_empty() {
            return Ok(());
        }
        for s in 0..self.services.len() {
            // (documents in this segment, weight, postings), by number of documents.
            let mut lists = Vec::with_capacity(terms.len());
            for (weight, infos) in &terms {
                let Some(info) = &infos[s] else { break };
                lists.push((
                    info.doc_freq,
                    *weight,
                    self.postings(field, s, info, false)?,
                ));
            }
            if lists.len() < terms.len() {
                continue;
            }
            lists.sort_by_key(|l| l.0);
            let mut doc = lists[0].2.doc();
            'candidates: while doc != TERMINATED {
                for l in &mut lists[1..] {
                    let at = if l.2.doc() < doc {
                        l.2.seek(doc)
                    } else {
                        l.2.doc()
                    };
                    if at > doc {
                        doc = lists[0].2.seek(at);
                        continue 'candidates;
                    }
                }
                let mut scores = lists.iter().map(|l| self.score(field, s, l.1, doc, 1));
                let left = scores.next().unwrap_or(0.0);
                let score = match scores.next() {
                    None => left,
                    Some(right) => left + right + scores.sum::<f32>(),
                };
                if let Some(&service) = self.services[s].get(doc as usize) {
                    f(service, score);
                }
                doc = lists[0].2.advance();
            }
        }
        Ok(())
    }
}

/// What words match ("hund": the stems, prefixes, typos and trigrams of "hund"), what a query
/// word with its synonyms matches ("hund" with "hundesteuer", …) and what phrases match, with their
/// scores, kept between searches. The entries do not depend on the tenant or the rest of the query.
///
/// Bounded in two generations: new entries go to the young one; when it holds [`CACHE_ENTRIES`]
/// entries or [`CACHE_PAIRS`] pairs it becomes the old one (the previous old one is dropped), and
/// an entry found in the old generation moves back to the young one. So the cache holds at most
/// twice those limits (about 16 MiB), and what is searched often stays.
#[derive(Default)]
struct MatchCache(RwLock<Generations>);

#[derive(Default)]
struct Generations {
    young: [HashMap<Box<str>, Matches>; 3],
    old: [HashMap<Box<str>, Matches>; 3],
    entries: usize,
    pairs: usize,
}

/// What a cache entry is for.
#[derive(Clone, Copy)]
enum Kind {
    /// One word.
    Word = 0,
    /// One query word with its synonyms.
    Expanded = 1,
    /// A phrase (its words joined by spaces).
    Phrase = 2,
}

impl MatchCache {
    fn get(&self, kind: Kind, key: &str) -> Option<Matches> {
        let generations = self.0.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(m) = generations.young[kind as usize].get(key) {
            return Some(m.clone());
        }
        let m = generations.old[kind as usize].get(key)?.clone();
        drop(generations);
        self.put(kind, key, m.clone());
        Some(m)
    }

    fn put(&self, kind: Kind, key: &str, matches: Matches) {
        let mut g = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if g.entries >= CACHE_ENTRIES || g.pairs + matches.len() > CACHE_PAIRS {
            g.old = std::mem::take(&mut g.young);
            (g.entries, g.pairs) = (0, 0);
        }
        g.entries += 1;
        g.pairs += matches.len();
        g.young[kind as usize].insert(key.into(), matches);
    }
}

/// How a part of a query counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Adds its score where it matches.
    Should,
    /// Must match (and adds its score).
    Must,
    /// Must not match.
    MustNot,
}

/// A part of a query: matches with a weight.
struct Part {
    role: Role,
    weight: f32,
    matches: Matches,
}

/// Per-thread working memory of [`rank`], one slot per service; `seen`/`banned` equal to `round`
/// mean "in this search".
#[derive(Default)]
struct Scratch {
    round: u32,
    seen: Vec<u32>,
    banned: Vec<u32>,
    score: Vec<f32>,
    musts: Vec<u32>,
    touched: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Adds up the parts for `n` services and returns the number of matching services and the best
/// `head` of them, unordered (of equal scores the lower service numbers, as tantivy picks them).
fn rank(parts: &[Part], n: usize, head: usize) -> (usize, Vec<(u32, f32)>) {
    let musts = parts.iter().filter(|p| p.role == Role::Must).count() as u32;
    let mut found: Vec<(u32, f32)> = SCRATCH.with_borrow_mut(|s| {
        if s.seen.len() < n {
            s.seen.resize(n, 0);
            s.banned.resize(n, 0);
            s.score.resize(n, 0.0);
            s.musts.resize(n, 0);
        }
        if s.round == u32::MAX {
            s.seen.fill(0);
            s.banned.fill(0);
            s.round = 0;
        }
        s.round += 1;
        let round = s.round;
        s.touched.clear();
        for part in parts {
            for &(i, score) in part.matches.iter() {
                let i = i as usize;
                if part.role == Role::MustNot {
                    s.banned[i] = round;
                    continue;
                }
                if s.seen[i] != round {
                    s.seen[i] = round;
                    s.score[i] = 0.0;
                    s.musts[i] = 0;
                    s.touched.push(i as u32);
                }
                s.score[i] += score * part.weight;
                if part.role == Role::Must {
                    s.musts[i] += 1;
                }
            }
        }
        s.touched
            .iter()
            .filter(|&&i| s.musts[i as usize] == musts && s.banned[i as usize] != round)
            .map(|&i| (i, s.score[i as usize]))
            .collect()
    });
    let total = found.len();
    if head == 0 {
        found.clear();
    } else if found.len() > head {
        found.select_nth_unstable_by(head - 1, best_first);
        found.truncate(head);
    }
    (total, found)
}

/// Higher score first, of equal scores the lower service number (tantivy's order).
fn best_first(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

impl SearchIndex {
    /// Builds the index in memory.
    pub fn build(docs: Vec<ServiceDoc>) -> Result<Self, SearchError> {
        let mut sb = Schema::builder();
        let fields = Fields {
            id: sb.add_u64_field("id", NumericOptions::default().set_fast()),
            stem: [
                sb.add_text_field("name_stem", text_field("de_stem", true)),
                sb.add_text_field("context_stem", text_field("de_stem", false)),
                sb.add_text_field("legal_stem", text_field("de_stem", false)),
            ],
            gram: sb.add_text_field("name_gram", text_field("de_gram", false)),
        };
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register("de_stem", analyzer_stem());
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
            doc.add_text(fields.gram, &name);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        let bm25 = TermScores::new(
            reader.searcher(),
            [fields.stem[0], fields.stem[1], fields.stem[2], fields.gram],
        )?;
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
            fields,
            bm25,
            stemmer: analyzer_stem(),
            trigrams: analyzer_gram(),
            vocabulary: Vocabulary::build(&docs),
            docs,
            synonyms,
            name_words,
            cache: MatchCache::default(),
            caching: AtomicBool::new(true),
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

    /// Turns the cache of word matches on (the default) or off, and empties it. Without the cache
    /// every search works out all its words again (same answers, more work): for measuring what
    /// a search costs when none of its words was searched before.
    #[doc(hidden)]
    pub fn set_match_cache(&self, enabled: bool) {
        self.caching.store(enabled, Ordering::Relaxed);
        *self.cache.0.write().unwrap_or_else(PoisonError::into_inner) = Generations::default();
    }

    /// Adds the scores of `q` (run by tantivy) to `dense`.
    fn score_into(&self, q: &dyn Query, dense: &mut Dense) -> Result<(), SearchError> {
        let searcher = &self.bm25.searcher;
        let weight = q.weight(EnableScoring::enabled_from_searcher(searcher))?;
        for segment in searcher.segment_readers() {
            let ids = segment.fast_fields().u64("id")?;
            weight.for_each(segment, &mut |doc, score| {
                if let Some(i) = ids.first(doc) {
                    dense.add(i as usize, score);
                }
            })?;
        }
        Ok(())
    }

    /// The cached matches of `key`, worked out by `compute` if they are not cached.
    fn cached(
        &self,
        kind: Kind,
        key: &str,
        compute: impl FnOnce() -> Result<Vec<(u32, f32)>, SearchError>,
    ) -> Result<Matches, SearchError> {
        if !self.caching.load(Ordering::Relaxed) {
            return Ok(compute()?.into());
        }
        if let Some(m) = self.cache.get(kind, key) {
            return Ok(m);
        }
        let m: Matches = compute()?.into();
        self.cache.put(kind, key, m.clone());
        Ok(m)
    }

    /// What one folded word matches.
    fn word(&self, word: &str) -> Result<Matches, SearchError> {
        self.cached(Kind::Word, word, || self.match_word(word))
    }

    /// What a query word matches together with its synonyms.
    fn expanded(&self, word: &str) -> Result<Matches, SearchError> {
        let Some(expansions) = self.synonyms.get(word) else {
            return self.word(word);
        };
        self.cached(Kind::Expanded, word, || {
            let mut dense = Dense::new(self.docs.len());
            dense.add_matches(&self.word(word)?, 1.0);
            for e in expansions.iter().filter(|e| *e != word) {
                dense.add_matches(&self.word(e)?, EXPANSION_WEIGHT);
            }
            Ok(dense.into_vec())
        })
    }

    /// What a phrase matches: its stems in this order in a name; a phrase of one word is that word.
    fn phrase(&self, words: &[String]) -> Result<Matches, SearchError> {
        if words.len() == 1 {
            return self.word(&words[0]);
        }
        self.cached(Kind::Phrase, &words.join(" "), || {
            let terms: Vec<Term> = words
                .iter()
                .flat_map(|w| tokens(&self.stemmer, w))
                .map(|s| Term::from_field_text(self.fields.stem[0], &s))
                .collect();
            if terms.len() <= 1 {
                return Ok(self.word(&words[0])?.to_vec());
            }
            let mut dense = Dense::new(self.docs.len());
            self.score_into(
                &BoostQuery::new(Box::new(PhraseQuery::new(terms)), 3.0),
                &mut dense,
            )?;
            Ok(dense.into_vec())
        })
    }

    /// Adds to `dense` what tantivy's BM25 gives the word's stems in the three stem fields and
    /// (from 5 letters) the conjunction of its trigrams in the name, as one tantivy `BooleanQuery`
    /// of these boosted clauses would (same scores, added in the same order).
    fn score_terms(
        &self,
        word: &str,
        stems: &[String],
        dense: &mut Dense,
    ) -> Result<(), SearchError> {
        for stem in stems {
            for (field, boost) in [(0, 4.0), (1, 1.2), (2, 0.3)] {
                self.bm25
                    .for_each(field, stem, boost, |i, score| dense.add(i as usize, score))?;
            }
        }
        if word.chars().nth(4).is_some() {
            // All trigrams of the word: the word occurs inside a compound.
            let grams = tokens(&self.trigrams, word);
            self.bm25
                .for_each_of_all(3, &grams, 0.4, |i, score| dense.add(i as usize, score))?;
        }
        Ok(())
    }

    /// Works out what one folded word matches: its stems in name, context and legal basis and its
    /// trigrams in the name (scored by tantivy), and with a constant score each: whole name words
    /// beginning with its stem or with the word, within typo distance of it, or beginning with a
    /// string within distance 1 of it.
    fn match_word(&self, word: &str) -> Result<Vec<(u32, f32)>, SearchError> {
        let stems = tokens(&self.stemmer, word);
        let chars: Vec<char> = word.chars().collect();
        let mut dense = Dense::new(self.docs.len());
        self.score_terms(word, &stems, &mut dense)?;
        let v = &self.vocabulary;
        // The query's stem as the beginning of a whole word ("schwerbehinder" → "schwerbehinderte").
        for stem in stems
            .iter()
            .filter(|s| s.chars().count() >= 5 && *s != word)
        {
            let stem: Vec<char> = stem.chars().collect();
            dense.add_words(v, v.with_prefix(&stem), 1.5);
        }
        if chars.len() >= 3 {
            dense.add_words(v, v.with_prefix(&chars), 2.0);
        }
        if chars.len() >= 5 {
            let distance = if chars.len() >= 9 { 2 } else { 1 };
            let (whole, beginning) = v.typos(&chars, distance, 1);
            dense.add_words(v, whole, 1.5);
            dense.add_words(v, beginning, 0.8);
        }
        Ok(dense.into_vec())
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
        let mut parts = Vec::new();
        let mut positive = false;
        for clause in parse(query) {
            let (role, matches) = match clause {
                Clause::Word(w) => (Role::Should, self.expanded(&w)?),
                Clause::Phrase(ws) => (Role::Must, self.phrase(&ws)?),
                Clause::Not(w) => (Role::MustNot, self.word(&w)?),
            };
            positive |= role != Role::MustNot;
            parts.push(Part {
                role,
                weight: 1.0,
                matches,
            });
        }
        if !positive {
            return Ok((0, Vec::new()));
        }
        Ok(self.run(&parts, offset, limit, boost))
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
        let mut seen = std::collections::HashSet::new();
        let weighted = terms
            .iter()
            .filter(|(_, weight)| *weight > 0.0 && weight.is_finite())
            .flat_map(|(text, weight)| words(text).into_iter().map(move |w| (w, *weight)))
            .filter(|(w, _)| w.len() <= MAX_WORD_BYTES && seen.insert(w.clone()))
            .take(MAX_WEIGHTED_WORDS)
            .collect::<Vec<_>>();
        let mut parts = Vec::new();
        let mut should = |weight: f32, matches: Matches| {
            parts.push(Part {
                role: Role::Should,
                weight,
                matches,
            });
        };
        for (w, weight) in weighted {
            should(weight, self.word(&w)?);
            for part in self.split_compound(&w) {
                should(EXPANSION_WEIGHT * weight, self.word(&part)?);
            }
            if let Some(expansions) = self.synonyms.get(&w) {
                for e in expansions.iter().filter(|e| **e != w) {
                    should(EXPANSION_WEIGHT * weight, self.word(e)?);
                }
            }
        }
        if parts.is_empty() {
            return Ok((0, Vec::new()));
        }
        Ok(self.run(&parts, offset, limit, boost))
    }

    /// Ranks the parts, re-ranks a generous head by `boost` and returns the total and one page.
    fn run(
        &self,
        parts: &[Part],
        offset: usize,
        limit: usize,
        boost: impl Fn(&ServiceDoc) -> f32,
    ) -> (usize, Vec<Hit<'_>>) {
        let head = offset.saturating_add(limit).clamp(50, 500);
        let (total, top) = rank(parts, self.docs.len(), head);
        let mut hits: Vec<(Hit<'_>, (u32, f32))> = top
            .into_iter()
            .filter_map(|(i, score)| {
                let doc = self.docs.get(i as usize)?;
                let hit = Hit {
                    doc,
                    score: score * boost(doc),
                };
                Some((hit, (i, score)))
            })
            .collect();
        // By boosted score, then name; what is still equal in the order of the unboosted head.
        hits.sort_unstable_by(|(a, a_raw), (b, b_raw)| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.doc.name.cmp(&b.doc.name))
                .then_with(|| best_first(a_raw, b_raw))
        });
        let page = hits.into_iter().skip(offset).take(limit);
        (total, page.map(|(hit, _)| hit).collect())
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

    fn real() -> &'static SearchIndex {
        static INDEX: std::sync::OnceLock<SearchIndex> = std::sync::OnceLock::new();
        INDEX.get_or_init(|| {
            let dir = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/testdata/ozg-leika"
            );
            let data = crate::read_dir(std::path::Path::new(dir)).expect("catalogue data");
            SearchIndex::build(data.documents()).expect("index")
        })
    }

    /// The vocabulary's prefix and typo matching gives exactly what tantivy's automaton queries
    /// (`FuzzyTermQuery` with transpositions) give on the same words.
    #[test]
    fn typo_and_prefix_matching_is_tantivys() {
        use tantivy::collector::DocSetCollector;
        use tantivy::query::FuzzyTermQuery;
        let v = &real().vocabulary;
        let mut sb = Schema::builder();
        let word = sb.add_text_field("w", text_field("raw", false));
        let k = sb.add_u64_field("k", NumericOptions::default().set_fast());
        let index = Index::create_in_ram(sb.build());
        let mut writer = index.writer_with_num_threads(1, 30_000_000).unwrap();
        for (i, w) in v.words.iter().enumerate() {
            let mut doc = TantivyDocument::new();
            doc.add_text(word, w.iter().collect::<String>());
            doc.add_u64(k, i as u64);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let tantivy = |q: &dyn Query| -> Vec<usize> {
            let mut found: Vec<usize> = searcher
                .search(q, &DocSetCollector)
                .unwrap()
                .into_iter()
                .map(|a| {
                    let ks = searcher.segment_reader(a.segment_ord).fast_fields();
                    ks.u64("k").unwrap().first(a.doc_id).unwrap() as usize
                })
                .collect();
            found.sort_unstable();
            found
        };
        // Query words, typos and umlaut spellings, and mutations of every 40th word of the names.
        let mut queries: Vec<String> = [
            "personalausweiss",
            "hundsteuer",
            "fuererschein",
            "baugenemigung",
            "einburgerung",
            "fuehrerschien",
            "sitzt",
            "kindergartn",
            "eheschliessung",
            "meldebescheinigung",
            "gaststaette",
            "ummelden",
            "zulassung",
            "ab",
            "hund",
            "xyzzy",
            "aaaaaaaaaa",
            "schwerbehinderung",
            "ausbildungsfoerderung",
            "wohnberechtigungsschein",
        ]
        .map(str::to_owned)
        .into();
        for w in v.words.iter().step_by(40) {
            let w: Vec<char> = w.to_vec();
            let n = w.len();
            let mut swapped = w.clone();
            swapped.swap(n / 2, (n / 2 + 1).min(n - 1));
            let mut dropped = w.clone();
            dropped.remove(n / 2);
            let mut changed = w.clone();
            changed[n / 3] = if w[n / 3] == 'e' { 'a' } else { 'e' };
            let mut added = w.clone();
            added.insert(n / 2, 'x');
            for q in [w, swapped, dropped, changed, added] {
                queries.push(q.into_iter().collect());
            }
        }
        for q in &queries {
            let chars: Vec<char> = q.chars().collect();
            let term = Term::from_field_text(word, q);
            let prefix: Vec<usize> = v.with_prefix(&chars).collect();
            assert_eq!(
                prefix,
                tantivy(&FuzzyTermQuery::new_prefix(term.clone(), 0, true)),
                "{q}"
            );
            // The search uses typos of distance 1 and 2 for whole words, distance 1 for beginnings.
            let begins = tantivy(&FuzzyTermQuery::new_prefix(term.clone(), 1, true));
            for distance in [1, 2] {
                let whole = tantivy(&FuzzyTermQuery::new(term.clone(), distance as u8, true));
                let typos = v.typos(&chars, distance, 1);
                assert_eq!(typos.0, whole, "{q} ~{distance}");
                assert_eq!(typos.1, begins, "{q} ~1*");
            }
        }
    }

    /// The BM25 part of a word's matches, read from the postings, is what one tantivy
    /// `BooleanQuery` of the boosted term queries and the trigram conjunction gives, to the bit.
    #[test]
    fn term_scores_are_tantivys() {
        use tantivy::query::{BooleanQuery, Occur, TermQuery};
        let index = real();
        let f = index.fields;
        let tantivy = |word: &str| -> Vec<(u32, f32)> {
            let mut scored: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            let boosted = |q: Box<dyn Query>, b: f32| -> (Occur, Box<dyn Query>) {
                (Occur::Should, Box::new(BoostQuery::new(q, b)))
            };
            for stem in tokens(&index.stemmer, word) {
                for (field, boost) in [(f.stem[0], 4.0), (f.stem[1], 1.2), (f.stem[2], 0.3)] {
                    let term = Term::from_field_text(field, &stem);
                    let q = TermQuery::new(term, IndexRecordOption::WithFreqs);
                    scored.push(boosted(Box::new(q), boost));
                }
            }
            if word.chars().count() >= 5 {
                let grams = tokens(&index.trigrams, word)
                    .into_iter()
                    .map(|g| {
                        let term = Term::from_field_text(f.gram, &g);
                        let q: Box<dyn Query> =
                            Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                        (Occur::Must, q)
                    })
                    .collect();
                scored.push(boosted(Box::new(BooleanQuery::new(grams)), 0.4));
            }
            let mut dense = Dense::new(index.docs.len());
            index
                .score_into(&BooleanQuery::new(scored), &mut dense)
                .unwrap();
            dense.into_vec()
        };
        let ours = |word: &str| -> Vec<(u32, f32)> {
            let mut dense = Dense::new(index.docs.len());
            index
                .score_terms(word, &tokens(&index.stemmer, word), &mut dense)
                .unwrap();
            dense.into_vec()
        };
        let bits = |v: Vec<(u32, f32)>| -> Vec<(u32, u32)> {
            v.into_iter().map(|(i, s)| (i, s.to_bits())).collect()
        };
        let mut words: Vec<String> = [
            "hund",
            "antrag",
            "ung",
            "aaaaa",
            "zulassung",
            "fuererschein",
            "gesetz",
            "xyzzy",
            "erteilung",
            "bescheinigung",
            "anmeldung",
            "und",
        ]
        .map(str::to_owned)
        .into();
        words.extend(index.name_words.iter().step_by(13).cloned());
        let mut nonempty = 0;
        for w in &words {
            let expected = bits(tantivy(w));
            nonempty += usize::from(!expected.is_empty());
            assert_eq!(bits(ours(w)), expected, "{w}");
        }
        assert!(nonempty > words.len() / 2, "{nonempty} of {}", words.len());
    }

    /// Answers are the same with an empty cache, a warm one and after the cache has rolled over.
    #[test]
    fn cache_keeps_answers() {
        let index = real();
        let queries = [
            "Hund anmelden",
            "\"Kraftfahrzeug Zulassung\"",
            "Führerschein -international",
            "Fürerschein",
            "Kita Platz",
            "Antrag",
        ];
        let answer = |q: &str| {
            let (total, hits) = index
                .search(q, 0, 10, |d| if d.id % 2 == 0 { 1.3 } else { 1.0 })
                .unwrap();
            let hits: Vec<(i64, u32)> =
                hits.iter().map(|h| (h.doc.id, h.score.to_bits())).collect();
            (total, hits)
        };
        let cold: Vec<_> = queries.iter().map(|q| answer(q)).collect();
        let warm: Vec<_> = queries.iter().map(|q| answer(q)).collect();
        assert_eq!(cold, warm);
        for i in 0..2 * CACHE_ENTRIES + 10 {
            index.search(&format!("w{i}"), 0, 1, |_| 1.0).unwrap();
        }
        {
            let g = index.cache.0.read().unwrap();
            let entries: usize = g.young.iter().chain(&g.old).map(HashMap::len).sum();
            assert!(entries <= 2 * CACHE_ENTRIES, "{entries}");
        }
        let rolled: Vec<_> = queries.iter().map(|q| answer(q)).collect();
        assert_eq!(cold, rolled);
        // The phrase needs both words in this order; the exclusion drops what it matches.
        let (_, hits) = index.search(queries[1], 0, 50, |_| 1.0).unwrap();
        assert!(!hits.is_empty());
        assert!(
            hits.iter()
                .all(|h| fold(&h.doc.name).contains("kraftfahrzeug zulassung"))
        );
        let (_, hits) = index.search(queries[2], 0, 50, |_| 1.0).unwrap();
        assert!(!hits.is_empty());
        assert!(
            hits.iter()
                .all(|h| !fold(&h.doc.name).contains("international"))
        );
        assert_eq!(
            cold[3].1[0].0,
            answer("Führerschein").1[0].0,
            "typo ranks like the word"
        );
    }
}
