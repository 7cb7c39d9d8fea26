//! Cuts a stream of CloudTrail into records without parsing them: a trail log's
//! `{"Records": [...]}` or a bare array element by element, JSON Lines line by line, anything else
//! (pretty-printed records, envelopes) value by value. Memory stays at about one read chunk
//! whatever the input's size: each [`Batch`] owns the bytes of the whole records it holds, and the
//! partial record at its end moves on to the next one.

use std::io::{self, Read};
use std::ops::Range;

use memchr::{memchr, memchr2};

/// How much is read at a time, and about how much input one batch holds.
pub const CHUNK: usize = 1 << 20;

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
    /// Input that is not a record, with why: the file ends inside a record, or a line that is
    /// not JSON at all.
    pub broken: Vec<(Position, String)>,
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
    /// Nothing read yet.
    Unknown,
    /// Inside a `Records` array (trail log) or a top-level array: the next element's index.
    Elements { records: bool, next: u64 },
    /// After the array: the rest (the trail log's closing brace) holds no record.
    Done,
    /// One value per line.
    Lines,
    /// Values one after another, over several lines each.
    Values,
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
            failed: None,
        }
    }

    /// Reads until `pending` holds `want` bytes or the input ends. A read error ends the input.
    fn fill(&mut self, want: usize) {
        while !self.eof && self.pending.len() < want {
            let start = self.pending.len();
            self.pending.resize(want, 0);
            let read = loop {
                match self.reader.read(&mut self.pending[start..]) {
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            match read {
                Ok(0) => {
                    self.pending.truncate(start);
                    self.eof = true;
                }
                Ok(read) => self.pending.truncate(start + read),
                Err(error) => {
                    self.pending.truncate(start);
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
                    // One record longer than the buffer: read more before cutting again.
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
        let mut at = 0;
        loop {
            match self.layout {
                Layout::Unknown => match detect(bytes, self.eof) {
                    None => return at,
                    Some((layout, skip)) => {
                        self.layout = layout;
                        at = skip;
                    }
                },
                Layout::Done => return bytes.len(),
                Layout::Elements { records, next } => {
                    at = skip_separators(bytes, at);
                    match bytes.get(at) {
                        None if self.eof => {
                            let position = element_position(records, next);
                            batch.broken.push((position, "the input ends before the array closes (truncated)".into()));
                            self.layout = Layout::Done;
                            return bytes.len();
                        }
                        None => return at,
                        Some(b']') => {
                            self.layout = Layout::Done;
                            return bytes.len();
                        }
                        Some(_) => {}
                    }
                    let position = element_position(records, next);
                    match value_end(&bytes[at..]) {
                        Some(length) => {
                            batch.records.push((at..at + length, position));
                            at += length;
                            self.layout = Layout::Elements { records, next: next + 1 };
                        }
                        None if self.eof => {
                            batch.broken.push((position, "the input ends inside this record (truncated)".into()));
                            self.layout = Layout::Done;
                            return bytes.len();
                        }
                        None => return at,
                    }
                }
                Layout::Lines => {
                    let Some(end) = memchr(b'\n', &bytes[at..]).map(|n| at + n).or(self.eof.then_some(bytes.len()))
                    else {
                        return at;
                    };
                    let line = trim(bytes, at..end);
                    if !line.is_empty() {
                        batch.records.push((line, Position::Line(self.line)));
                    }
                    self.line += 1;
                    at = (end + 1).min(bytes.len());
                    if at == bytes.len() && (self.eof || end == bytes.len()) {
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
                        let Some(end) = memchr(b'\n', &bytes[at..]).map(|n| at + n).or(self.eof.then_some(bytes.len()))
                        else {
                            return at;
                        };
                        let text = String::from_utf8_lossy(&bytes[at..end.min(at + 80)]).into_owned();
                        batch.broken.push((position, format!("not JSON: {text:?}")));
                        at = end;
                        continue;
                    }
                    match value_end(&bytes[at..]) {
                        Some(length) => {
                            batch.records.push((at..at + length, position));
                            self.line += count_lines(&bytes[at..at + length]);
                            at += length;
                        }
                        None if self.eof => {
                            batch.broken.push((position, "the input ends inside this record (truncated)".into()));
                            return bytes.len();
                        }
                        None => return at,
                    }
                }
            }
        }
    }
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

fn element_position(records: bool, index: u64) -> Position {
    if records {
        Position::Records(index)
    } else {
        Position::Element(index)
    }
}

/// What the input is, from its first bytes, and where its first record starts; None until
/// enough is read to tell.
fn detect(bytes: &[u8], eof: bool) -> Option<(Layout, usize)> {
    let start = skip_whitespace(bytes, bom_length(bytes));
    match bytes.get(start) {
        None if eof => Some((Layout::Lines, start)),
        None => None,
        Some(b'[') => Some((Layout::Elements { records: false, next: 0 }, start + 1)),
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
                        return Some((Layout::Elements { records: true, next: 0 }, open + 1));
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

    type Broken = Vec<(Position, String)>;

    /// Every record and break of `input`, read `chunk` bytes at a time.
    fn split(input: &str, chunk: usize) -> (Vec<(String, Position)>, Broken) {
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
        assert_eq!(broken, [(Position::Records(2), "the input ends inside this record (truncated)".to_owned())]);
        let (_, broken) = split(&format!("{{\"Records\":[{A},"), 64);
        assert_eq!(broken[0].0, Position::Records(1));
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
        assert_eq!(broken, [(Position::Line(3), "not JSON: \"not json\"".to_owned())]);
        assert!(split("", 4).0.is_empty());
    }
}
