//! Positions: from byte offsets in a rule file to the line and column an editor shows, and
//! from offsets inside a decoded TOML string (a CEL expression) back to the file.

use std::ops::Range;

/// A rule file's text with its line starts, for turning byte offsets into positions.
pub(crate) struct SourceText<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceText<'a> {
    pub fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, line_starts }
    }

    /// 1-based line and column of a byte offset; the column counts characters, as editors
    /// do, so a line with Chinese text before the error still points at the right place.
    pub fn line_col(&self, byte: usize) -> (u32, u32) {
        let byte = byte.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= byte).max(1) - 1;
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..byte)
            .map_or(0, |prefix| prefix.chars().count());
        (to_u32(line + 1), to_u32(col + 1))
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// For a TOML string value whose literal spans `span` in `file` and decodes to `decoded`,
/// the file byte offset of every byte offset of `decoded` (one entry more, for the end).
///
/// Escapes in basic strings (`\"`, `\u00e9`, a line-ending backslash) make decoded and raw
/// offsets drift apart, so the literal is decoded again here while recording where each
/// byte came from. `None` when the re-decoding does not reproduce `decoded` (a construct
/// this walker does not know); callers then point at the string's start.
pub(crate) fn string_offsets(file: &str, span: Range<usize>, decoded: &str) -> Option<Vec<usize>> {
    let raw = file.get(span.clone())?;
    let (delim, multiline, basic) = if raw.starts_with("\"\"\"") {
        (3, true, true)
    } else if raw.starts_with("'''") {
        (3, true, false)
    } else if raw.starts_with('"') {
        (1, false, true)
    } else if raw.starts_with('\'') {
        (1, false, false)
    } else {
        return None;
    };
    let body_end = raw.len().checked_sub(delim)?;
    let mut pos = delim;
    if multiline {
        // A newline right after the opening delimiter is not part of the value.
        if raw[pos..].starts_with("\r\n") {
            pos += 2;
        } else if raw[pos..].starts_with('\n') {
            pos += 1;
        }
    }
    let mut out = String::with_capacity(decoded.len());
    let mut map = Vec::with_capacity(decoded.len() + 1);
    let body = raw.get(..body_end)?;
    while pos < body_end {
        let rest = &body[pos..];
        let c = rest.chars().next()?;
        let from = span.start + pos;
        if basic && c == '\\' {
            let esc = rest[1..].chars().next()?;
            let (ch, len) = match esc {
                'b' => (Some('\u{8}'), 2),
                't' => (Some('\t'), 2),
                'n' => (Some('\n'), 2),
                'f' => (Some('\u{c}'), 2),
                'r' => (Some('\r'), 2),
                'e' => (Some('\u{1b}'), 2),
                '"' => (Some('"'), 2),
                '\\' => (Some('\\'), 2),
                'x' => (Some(hex_char(rest.get(2..4)?)?), 4),
                'u' => (Some(hex_char(rest.get(2..6)?)?), 6),
                'U' => (Some(hex_char(rest.get(2..10)?)?), 10),
                c if multiline && c.is_whitespace() => {
                    // Line-ending backslash: the newline and the whitespace after it vanish.
                    let skip = rest[1..]
                        .find(|c: char| !c.is_whitespace())
                        .unwrap_or(rest.len() - 1);
                    (None, 1 + skip)
                }
                _ => return None,
            };
            if let Some(ch) = ch {
                for _ in 0..ch.len_utf8() {
                    map.push(from);
                }
                out.push(ch);
            }
            pos += len;
        } else {
            for i in 0..c.len_utf8() {
                map.push(from + i);
            }
            out.push(c);
            pos += c.len_utf8();
        }
    }
    map.push(span.start + pos);
    (out == decoded).then_some(map)
}

fn hex_char(hex: &str) -> Option<char> {
    char::from_u32(u32::from_str_radix(hex, 16).ok()?)
}

/// Byte offset in `s` of character number `chars` (the end when past it).
pub(crate) fn char_to_byte(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(b, _)| b)
}

/// Character offset in `s` of the 1-based (line, column) that the CEL parser reports.
pub(crate) fn line_col_to_char(s: &str, line: isize, col: isize) -> usize {
    let line = usize::try_from(line).unwrap_or(1).max(1);
    let col = usize::try_from(col).unwrap_or(1).max(1);
    let before: usize = s
        .split_inclusive('\n')
        .take(line - 1)
        .map(|l| l.chars().count())
        .sum();
    before + col - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let t = SourceText::new("ab\n反诈x\n");
        assert_eq!(t.line_col(0), (1, 1));
        assert_eq!(t.line_col(3), (2, 1));
        assert_eq!(t.line_col(3 + 6), (2, 3));
        assert_eq!(t.line_col(100), (3, 1));
    }

    #[test]
    fn string_offsets_follow_escapes_and_delimiters() {
        let file = r#"x = "a\"b\u00e9c""#;
        let span = 4..file.len();
        let m = string_offsets(file, span, "a\"béc").unwrap();
        // a at 5, \" at 6, b at 8, é (two bytes) at 9, c at 15.
        assert_eq!(m, vec![5, 6, 8, 9, 9, 15, 16]);
        let file = "x = '''\nab'''";
        let m = string_offsets(file, 4..file.len(), "ab").unwrap();
        assert_eq!(m, vec![8, 9, 10]);
        let file = "x = \"\"\"a \\\n    b\"\"\"";
        let m = string_offsets(file, 4..file.len(), "a b").unwrap();
        assert_eq!(m[2], file.find('b').unwrap());
        assert!(string_offsets("x = 'ab'", 4..8, "zz").is_none());
    }

    #[test]
    fn parser_positions_become_char_offsets() {
        assert_eq!(line_col_to_char("a +", 1, 4), 3);
        assert_eq!(line_col_to_char("1 +\n 2 )", 2, 4), 7);
        assert_eq!(char_to_byte("é+", 1), 2);
    }
}
