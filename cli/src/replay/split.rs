//! Cuts a stream of CloudTrail into records without parsing them: a trail log's
//! `{"Records": [...]}` or a bare array element by element, JSON Lines line by line, anything else
//! (pretty-printed records, envelopes) value by value. Memory stays at about one read chunk
//! whatever the input's size: each [`Batch`] owns the bytes of the whole records it holds, and the
//! partial record at its end moves on to the next one.

use std::io::{self, Read};
use std::ops::Range;

use memchr::{memchr, memchr2};

/// How much is read at a time, and about how much input one batch holds.
pub const CHUNK: usize = 512 << 10;

/// Where a record sits in its input, in the input's own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Position {
    /// The n-th element (from 0) of a trail log's `Records`.
    Records(u64),
    /// The n-th element (from 0) of a top-level array.
    Element(u64),
    /// The value that starts on this line (from 1): JSON Lines, or records one after another.
    Line(u64),
}

impl Position {
    /// `file#Records[3]`, `file#[3]`, `file:12`.
    pub fn origin(self, name: &str) -> String {
        match self {
            Position::Records(index) => format!("{name}#Records[{index}]"),
            Position::Element(index) => format!("{name}#[{index}]"),
            Position::Line(line) => format!("{name}:{line}"),
        }
    }

    /// A line's value may itself be a trail log or an array of records; an element is a record.
    pub fn is_top_level(self) -> bool {
        matches!(self, Position::Line(_))
    }
}

/// Whole records, in input order, with the bytes they were cut from.
#[derive(Debug, Default)]
pub struct Batch {
    pub bytes: Vec<u8>,
    pub records: Vec<(Range<usize>, Position)>,
    /// Input that is not a record, with why: the file ends inside a record, a record that never
    /// ends, a line that is not JSON at all.
    pub broken: Vec<Broken>,
}

impl Batch {
    pub fn record(&self, index: usize) -> (&[u8], Position) {
        let (range, position) = &self.records[index];
        (&self.bytes[range.clone()], *position)
    }
}

/// What the input turned out to be, and where the cutting is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// At the start, or after an array: what comes next is not known yet.
    Unknown,
    /// Inside a `Records` array (trail log) or a top-level array.
    Elements { records: bool },
    /// After a trail log's `Records`: the rest of its object, which holds no record.
    AfterRecords,
    /// After a malformed element: skipping to where the next one starts.
    Resync { records: bool },
    /// After a read error or a truncated record: nothing more can be trusted.
    Done,
    /// One value per line.
    Lines,
    /// Values one after another, over several lines each.
    Values,
}

/// Where CloudTrail starts every record of a trail log: one inside another record means that
/// record never ended (an unterminated string, a lost brace), and the next one starts here.
const RECORD_START: &[u8] = b"{\"eventVersion\":";

/// Between two records of a compact trail log: raw, this can only be structure, since a quote
/// inside a JSON string is escaped.
const NEXT_RECORD: &[u8] = b",{\"eventVersion\":";

/// A record with no end within this much is malformed (CloudTrail's own limit is 256 KB): it is
/// reported and skipped, instead of reading the rest of the input in search of its end.
pub const MAX_RECORD: usize = 16 << 20;

/// Input that is not a record, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub position: Position,
    pub reason: String,
    /// The input ends inside it: the input itself is incomplete.
    pub truncated: bool,
}

impl Broken {
    fn malformed(position: Position, reason: impl Into<String>) -> Broken {
        Broken { position, reason: reason.into(), truncated: false }
    }

    fn truncated(position: Position, reason: &str) -> Broken {
        Broken { position, reason: reason.to_owned(), truncated: true }
    }
}

/// The batches of one input, read as they are needed.
pub struct Splitter<R> {
    reader: R,
    /// Unread input: what follows the last record handed out.
    pending: Vec<u8>,
    chunk: usize,
    eof: bool,
    layout: Layout,
    /// The line `pending` starts on (Lines and Values).
    line: u64,
    /// Array elements so far: concatenated trail logs keep counting.
    elements: u64,
    /// A read error, reported once the records read before it are handed out.
    failed: Option<io::Error>,
}

impl<R: Read> Splitter<R> {
    pub fn new(reader: R) -> Splitter<R> {
        Splitter::with_chunk(reader, CHUNK)
    }

    /// A splitter reading `chunk` bytes at a time (small in tests, to cut records at every offset).
    pub fn with_chunk(reader: R, chunk: usize) -> Splitter<R> {
        Splitter {
            reader,
            pending: Vec::new(),
            chunk: chunk.max(1),
            eof: false,
            layout: Layout::Unknown,
            line: 1,
            elements: 0,
            failed: None,
        }
    }

    /// Reads until `pending` holds `want` bytes or the input ends. A read error ends the input.
    fn fill(&mut self, want: usize) {
        while !self.eof && self.pending.len() < want {
            // Into spare capacity: read_to_end does not zero what it is about to overwrite.
            let missing = (want - self.pending.len()) as u64;
            self.pending.reserve(want - self.pending.len());
            match (&mut self.reader).take(missing).read_to_end(&mut self.pending) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(error) => {
                    self.eof = true;
                    self.failed = Some(error);
                }
            }
        }
    }

    /// The next batch, or None when the input is done. A read error (a truncated gzip stream, a
    /// dropped connection) ends the input: it comes after the batches of what was read before it.
    pub fn next_batch(&mut self) -> io::Result<Option<Batch>> {
        let mut want = self.chunk;
        loop {
            if self.layout == Layout::Done || (self.eof && self.pending.is_empty()) {
                return self.failed.take().map_or(Ok(None), Err);
            }
            self.fill(want);
            let mut batch = Batch::default();
            let consumed = self.cut(&mut batch);
            if batch.records.is_empty() && batch.broken.is_empty() {
                if self.eof && consumed == self.pending.len() {
                    self.pending.clear();
                    return self.failed.take().map_or(Ok(None), Err);
                }
                self.pending.drain(..consumed);
                if !self.eof && self.pending.len() >= want {
                    // One record longer than the buffer (up to MAX_RECORD): read more first.
                    want = self.pending.len() * 2;
                }
                continue;
            }
            let rest = self.pending[consumed..].to_vec();
            batch.bytes = std::mem::replace(&mut self.pending, rest);
            batch.bytes.truncate(consumed);
            return Ok(Some(batch));
        }
    }

    /// Cuts every whole record out of `pending` into `batch`; returns how many bytes are done.
    fn cut(&mut self, batch: &mut Batch) -> usize {
        let bytes = &self.pending[..];
        let eof = self.eof;
        let mut at = 0;
        loop {
            match self.layout {
                Layout::Unknown => match detect(&bytes[at..], eof) {
                    None => return at,
                    Some((layout, skip)) => {
                        self.layout = layout;
                        at += skip;
                    }
                },
                Layout::Done => return bytes.len(),
                Layout::Elements { records } => {
                    at = skip_separators(bytes, at);
                    match bytes.get(at) {
                        None if eof => {
                            let position = next_element(&mut self.elements, records);
                            batch.broken.push(Broken::truncated(
                                position,
                                "the input ends before the array closes (truncated)",
                            ));
                            self.layout = Layout::Done;
                            return bytes.len();
                        }
                        None => return at,
                        Some(b']') => {
                            at += 1;
                            self.layout = if records { Layout::AfterRecords } else { Layout::Unknown };
                            continue;
                        }
                        Some(b'}') => {
                            let position = next_element(&mut self.elements, records);
                            batch.broken.push(Broken::malformed(position, "a stray `}` where a record should start"));
                            at += 1;
                            continue;
                        }
                        Some(_) => {}
                    }
                    // A compact trail log: the next record's start ends this one, found without
                    // following its strings (the record's own parse checks it is one whole value).
                    if records && bytes[at..].starts_with(RECORD_START) {
                        if let Some(next) = find(NEXT_RECORD, &bytes[at + 1..]) {
                            let end = at + 1 + next;
                            let position = next_element(&mut self.elements, records);
                            batch.records.push((trim(bytes, at..end), position));
                            at = end;
                            continue;
                        }
                    }
                    match value_end(&bytes[at..]) {
                        Some(length) => {
                            let position = next_element(&mut self.elements, records);
                            match records.then(|| find(RECORD_START, &bytes[at + 1..at + length])).flatten() {
                                Some(next) => {
                                    batch.broken.push(Broken::malformed(
                                        position,
                                        "it does not end before the next record starts",
                                    ));
                                    at += 1 + next;
                                }
                                None => {
                                    batch.records.push((at..at + length, position));
                                    at += length;
                                }
                            }
                        }
                        None => {
                            if let Some(next) = records.then(|| find(RECORD_START, &bytes[at + 1..])).flatten() {
                                let position = next_element(&mut self.elements, records);
                                batch
                                    .broken
                                    .push(Broken::malformed(position, "it does not end before the next record starts"));
                                at += 1 + next;
                            } else if eof {
                                let position = next_element(&mut self.elements, records);
                                batch
                                    .broken
                                    .push(Broken::truncated(position, "the input ends inside this record (truncated)"));
                                self.layout = Layout::Done;
                                return bytes.len();
                            } else if bytes.len() - at > MAX_RECORD {
                                let position = next_element(&mut self.elements, records);
                                batch.broken.push(Broken::malformed(
                                    position,
                                    format!("no end within {} MiB", MAX_RECORD >> 20),
                                ));
                                self.layout = Layout::Resync { records };
                                return bytes.len();
                            } else {
                                return at;
                            }
                        }
                    }
                }
                Layout::Resync { records } => {
                    let marker: &[u8] = if records { RECORD_START } else { b",{" };
                    match find(marker, &bytes[at..]) {
                        Some(found) => {
                            at += found + usize::from(!records);
                            self.layout = Layout::Elements { records };
                        }
                        None if eof => return bytes.len(),
                        // Keep the tail: the marker may straddle the next read.
                        None => return at.max(bytes.len().saturating_sub(marker.len() - 1)),
                    }
                }
                Layout::AfterRecords => {
                    // The trail log's other members, if any, then its closing brace.
                    at = skip_separators(bytes, at);
                    match bytes.get(at) {
                        None => return if eof { bytes.len() } else { at },
                        Some(b'}') => {
                            at += 1;
                            self.layout = Layout::Unknown;
                        }
                        Some(b':') => at += 1,
                        Some(_) => match value_end(&bytes[at..]) {
                            Some(length) => at += length.max(1),
                            None if eof => return bytes.len(),
                            None => return at,
                        },
                    }
                }
                Layout::Lines => {
                    let Some(end) = memchr(b'\n', &bytes[at..]).map(|n| at + n).or(eof.then_some(bytes.len())) else {
                        return at;
                    };
                    let line = trim(bytes, at..end);
                    if !line.is_empty() {
                        batch.records.push((line, Position::Line(self.line)));
                    }
                    self.line += 1;
                    at = (end + 1).min(bytes.len());
                    if at == bytes.len() && (eof || end == bytes.len()) {
                        return at;
                    }
                }
                Layout::Values => {
                    let start = skip_whitespace(bytes, at);
                    self.line += count_lines(&bytes[at..start]);
                    at = start;
                    if at == bytes.len() {
                        return at;
                    }
                    let position = Position::Line(self.line);
                    if !matches!(bytes[at], b'{' | b'[') {
                        // Not JSON: report the rest of the line and go on from the next.
                        let Some(end) = memchr(b'\n', &bytes[at..]).map(|n| at + n).or(eof.then_some(bytes.len()))
                        else {
                            return at;
                        };
                        let text = String::from_utf8_lossy(&bytes[at..end.min(at + 80)]).into_owned();
                        batch.broken.push(Broken::malformed(position, format!("not JSON: {text:?}")));
                        at = end;
                        continue;
                    }
                    match value_end(&bytes[at..]) {
                        Some(length) => {
                            batch.records.push((at..at + length, position));
                            self.line += count_lines(&bytes[at..at + length]);
                            at += length;
                        }
                        None if eof => {
                            batch
                                .broken
                                .push(Broken::truncated(position, "the input ends inside this record (truncated)"));
                            return bytes.len();
                        }
                        None if bytes.len() - at > MAX_RECORD => {
                            // Go on from the next line that starts a value.
                            batch
                                .broken
                                .push(Broken::malformed(position, format!("no end within {} MiB", MAX_RECORD >> 20)));
                            let next = find(b"\n{", &bytes[at..]).map_or(bytes.len(), |n| at + n + 1);
                            self.line += count_lines(&bytes[at..next]);
                            at = next;
                        }
                        None => return at,
                    }
                }
            }
        }
    }
}

/// The position of the next array element, counted.
fn next_element(elements: &mut u64, records: bool) -> Position {
    let position = if records { Position::Records(*elements) } else { Position::Element(*elements) };
    *elements += 1;
    position
}

fn find(needle: &[u8], haystack: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

impl<R: Read> Iterator for Splitter<R> {
    type Item = io::Result<Batch>;

    fn next(&mut self) -> Option<io::Result<Batch>> {
        match self.next_batch() {
            Ok(batch) => batch.map(Ok),
            Err(error) => {
                // Nothing after a read error can be trusted: the input ends here.
                self.layout = Layout::Done;
                Some(Err(error))
            }
        }
    }
}

/// What the input is, from its first bytes, and where its first record starts; None until
/// enough is read to tell.
fn detect(bytes: &[u8], eof: bool) -> Option<(Layout, usize)> {
    let start = skip_whitespace(bytes, bom_length(bytes));
    match bytes.get(start) {
        None if eof => Some((Layout::Lines, start)),
        None => None,
        Some(b'[') => Some((Layout::Elements { records: false }, start + 1)),
        Some(b'{') => {
            // A trail log: CloudTrail writes `Records` as the first and only member.
            let key = skip_whitespace(bytes, start + 1);
            const RECORDS: &[u8] = b"\"Records\"";
            let known = bytes.len() - key;
            if known < RECORDS.len() && RECORDS.starts_with(&bytes[key..]) && !eof {
                return None;
            }
            if bytes[key..].starts_with(RECORDS) {
                let colon = skip_whitespace(bytes, key + RECORDS.len());
                let open = skip_whitespace(bytes, colon + 1);
                match (bytes.get(colon), bytes.get(open)) {
                    (Some(b':'), Some(b'[')) => {
                        return Some((Layout::Elements { records: true }, open + 1));
                    }
                    (None, _) | (Some(b':'), None) if !eof => return None,
                    _ => {}
                }
            }
            // One record per line when the first line is a whole object; else values that span lines.
            match memchr(b'\n', &bytes[start..]) {
                Some(n) => {
                    let first = trim(bytes, start..start + n);
                    let layout = if bytes[first].ends_with(b"}") { Layout::Lines } else { Layout::Values };
                    Some((layout, bom_length(bytes)))
                }
                None if eof => Some((Layout::Lines, bom_length(bytes))),
                None => None,
            }
        }
        Some(_) => Some((Layout::Lines, bom_length(bytes))),
    }
}

fn bom_length(bytes: &[u8]) -> usize {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    }
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
        at += 1;
    }
    at
}

/// Whitespace and the commas between array elements.
fn skip_separators(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b',') {
        at += 1;
    }
    at
}

fn trim(bytes: &[u8], range: Range<usize>) -> Range<usize> {
    let (mut start, mut end) = (range.start, range.end);
    while start < end && bytes[start].is_ascii_whitespace() {
        start += 1;
    }
    while end > start && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    start..end
}

fn count_lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// The length of the JSON value at the start of `bytes`, or None when `bytes` ends first. Only
/// strings and nesting are followed: the value's own parse finds anything else wrong with it.
fn value_end(bytes: &[u8]) -> Option<usize> {
    match bytes.first()? {
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut at = 0;
            while at < bytes.len() {
                match bytes[at] {
                    b'"' => {
                        at = string_end(bytes, at + 1)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(at + 1);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            None
        }
        b'"' => string_end(bytes, 1),
        // A number, true, false or null: up to the next separator.
        _ => bytes.iter().position(|b| matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace()),
    }
}

/// Just past the closing quote of the string whose contents start at `at`.
fn string_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let found = at + memchr2(b'"', b'\\', bytes.get(at..)?)?;
        if bytes[found] == b'\\' {
            at = found + 2;
            continue;
        }
        return Some(found + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record and break of `input`, read `chunk` bytes at a time.
    fn split(input: &str, chunk: usize) -> (Vec<(String, Position)>, Vec<Broken>) {
        let mut records = Vec::new();
        let mut broken = Vec::new();
        for batch in Splitter::with_chunk(input.as_bytes(), chunk) {
            let batch = batch.unwrap();
            for index in 0..batch.records.len() {
                let (bytes, position) = batch.record(index);
                records.push((String::from_utf8(bytes.to_vec()).unwrap(), position));
            }
            broken.extend(batch.broken);
        }
        (records, broken)
    }

    const A: &str = r#"{"eventName":"A","requestParameters":{"s":"a \"quoted\" } ] brace","n":[1,{"x":2}]}}"#;
    const B: &str = r#"{"eventName":"B\\","readOnly":true}"#;

    #[test]
    fn a_trail_log_is_cut_into_its_records_at_any_chunk_size() {
        let trail = format!("{{\"Records\":[{A},\n {B}]}}\n");
        for chunk in 1..trail.len() + 2 {
            let (records, broken) = split(&trail, chunk);
            assert_eq!(
                records,
                [(A.to_owned(), Position::Records(0)), (B.to_owned(), Position::Records(1))],
                "{chunk}"
            );
            assert!(broken.is_empty(), "{chunk}: {broken:?}");
        }
    }

    #[test]
    fn json_lines_keep_their_line_numbers_across_chunks() {
        let lines = format!("{A}\n\n{{oops\r\n{B}");
        for chunk in 1..lines.len() + 2 {
            let (records, broken) = split(&lines, chunk);
            let positions: Vec<Position> = records.iter().map(|(_, p)| *p).collect();
            assert_eq!(positions, [Position::Line(1), Position::Line(3), Position::Line(4)], "{chunk}");
            assert_eq!(records[1].0, "{oops");
            assert_eq!(records[2].0, B);
            assert!(broken.is_empty());
        }
    }

    #[test]
    fn pretty_printed_values_and_arrays_are_cut_whole() {
        let pretty = "{\n  \"eventName\": \"A\"\n}\n{\n \"eventName\": \"B\"\n}\n";
        let (records, _) = split(pretty, 3);
        assert_eq!(records.iter().map(|(_, p)| *p).collect::<Vec<_>>(), [Position::Line(1), Position::Line(4)]);
        let (records, _) = split(&format!(" [ {A} , {B} ] "), 5);
        assert_eq!(records.iter().map(|(_, p)| *p).collect::<Vec<_>>(), [Position::Element(0), Position::Element(1)]);
    }

    #[test]
    fn a_truncated_trail_log_hands_out_its_whole_records_and_names_the_cut_one() {
        let trail = format!("{{\"Records\":[{A},{B},{}", &A[..20]);
        let (records, broken) = split(&trail, 7);
        assert_eq!(records.len(), 2);
        assert_eq!(broken, [Broken::truncated(Position::Records(2), "the input ends inside this record (truncated)")]);
        let (_, broken) = split(&format!("{{\"Records\":[{A},"), 64);
        assert_eq!(broken[0].position, Position::Records(1));
        assert!(broken[0].truncated);
    }

    #[test]
    fn a_record_longer_than_the_chunk_grows_the_buffer() {
        let long = format!(r#"{{"eventName":"{}"}}"#, "x".repeat(10_000));
        let (records, _) = split(&format!("{{\"Records\":[{long},{A}]}}"), 16);
        assert_eq!(records[0].0, long);
        assert_eq!(records[1].0, A);
    }

    #[test]
    fn text_that_is_not_json_is_one_bad_line() {
        let (records, broken) = split("{\n\"eventName\": \"A\"}\nnot json\n{\"eventName\": \"B\"}\n", 4);
        assert_eq!(records.len(), 2);
        assert_eq!(broken, [Broken::malformed(Position::Line(3), "not JSON: \"not json\"")]);
        assert!(split("", 4).0.is_empty());
    }

    /// Trail-log records as CloudTrail writes them: compact, `eventVersion` first.
    fn record(name: &str) -> String {
        format!(r#"{{"eventVersion":"1.09","eventName":"{name}","requestParameters":{{"a":[1,{{"b":"}}]"}}]}}}}"#)
    }

    /// Whether each position's record reads as JSON: broken input is either cut as a record
    /// whose own parse fails or reported by the splitter, depending on where chunks end.
    fn readable(input: &str, chunk: usize) -> Vec<(Position, bool)> {
        let (records, broken) = split(input, chunk);
        let mut all: Vec<(Position, bool)> = records
            .iter()
            .map(|(text, position)| (*position, serde_json::from_str::<serde_json::Value>(text).is_ok()))
            .chain(broken.iter().map(|broken| (broken.position, false)))
            .collect();
        all.sort();
        all
    }

    #[test]
    fn a_record_that_never_ends_is_unreadable_and_the_next_one_read() {
        let (first, last) = (record("First"), record("Last"));
        let unterminated = r#"{"eventVersion":"1.09","eventName":"Cut","userAgent":"x}"#;
        let lost_brace = r#"{"eventVersion":"1.09","eventName":"Lost","requestParameters":{"a":1}"#;
        let trail = format!("{{\"Records\":[{first},{unterminated},{lost_brace},{last}]}}");
        for chunk in [1, 7, 64, 4096] {
            let expected = [
                (Position::Records(0), true),
                (Position::Records(1), false),
                (Position::Records(2), false),
                (Position::Records(3), true),
            ];
            assert_eq!(readable(&trail, chunk), expected, "{chunk}");
        }
    }

    #[test]
    fn a_stray_brace_among_records_is_reported_not_looped_on() {
        let trail = format!("{{\"Records\":[{},}},{}]}}", record("First"), record("Last"));
        let read = readable(&trail, 16);
        assert!(
            read.contains(&(Position::Records(1), true)) || read.contains(&(Position::Records(2), true)),
            "{read:?}"
        );
        assert!(read.iter().any(|(_, readable)| !readable), "{read:?}");
        let (records, broken) = split(&format!("[{A}, }}, {B}]"), 5);
        assert_eq!(records.iter().map(|(_, p)| *p).collect::<Vec<_>>(), [Position::Element(0), Position::Element(2)]);
        assert_eq!(broken, [Broken::malformed(Position::Element(1), "a stray `}` where a record should start")]);
    }

    #[test]
    fn concatenated_trail_logs_and_lines_of_them_are_all_read() {
        let one = format!("{{\"Records\":[{}]}}", record("One"));
        let two = format!("{{\"Records\":[{},{}],\"extra\":{{\"k\":[1]}}}}", record("Two"), record("Three"));
        for input in [format!("{one}{two}"), format!("{one}\n{two}\n"), format!("[{A}]\n[{B}]")] {
            let (records, broken) = split(&input, 9);
            assert!(broken.is_empty(), "{input}: {broken:?}");
            let positions: Vec<Position> = records.iter().map(|(_, p)| *p).collect();
            let expected: &[Position] = if input.starts_with('[') {
                &[Position::Element(0), Position::Element(1)]
            } else {
                &[Position::Records(0), Position::Records(1), Position::Records(2)]
            };
            assert_eq!(positions, expected, "{input}");
        }
    }
}
