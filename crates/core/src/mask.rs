//! Display masking for personal data.
//!
//! These functions decide how much of an identifier, phone number, card number
//! or name may appear on screens, in exports and in logs. They accept any
//! string, never fail, and work on characters rather than bytes so that
//! Chinese names and stray non-ASCII input are masked correctly.

const STAR: char = '*';

/// Masks an identity document number.
///
/// An 18-character resident id keeps its first 6 (region) and last 4
/// characters: `500103********1234`. Shorter strings never reveal a larger
/// share than that pattern does (10 of 18): up to 10 characters only the last
/// 2 are kept (fewer for very short input); between 11 and 17 the last 4 are
/// kept and the head shrinks accordingly.
pub fn id_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let (head, tail) = id_number_visible(chars.len());
    keep_ends(&chars, head, tail)
}

/// How many leading and trailing characters [`id_number`] keeps for an input of
/// `len` characters.
fn id_number_visible(len: usize) -> (usize, usize) {
    // The 18-character pattern reveals 10 characters; keep shorter inputs at
    // or below that proportion so masking them is never weaker.
    let allowed = len * 10 / 18;
    if len <= 10 {
        (0, allowed.min(2))
    } else {
        let tail = 4;
        (allowed.saturating_sub(tail).min(6), tail)
    }
}

/// Masks a phone number.
///
/// An 11-character number keeps its first 3 and last 4: `138****5678`. Other
/// lengths keep at most the last 4 and at most the first 3 characters, while
/// at least half of the characters are starred.
pub fn phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let (head, tail) = phone_visible(chars.len());
    keep_ends(&chars, head, tail)
}

fn phone_visible(len: usize) -> (usize, usize) {
    if len == 11 {
        return (3, 4);
    }
    let allowed = len / 2;
    let tail = allowed.min(4);
    let head = (allowed - tail).min(3);
    (head, tail)
}

/// Masks a bank card or account number: `**** 1234`.
///
/// Only the last 4 characters are kept; inputs shorter than 8 characters keep
/// at most the last 2 (and never more than half of them), so very short
/// values are not disclosed almost entirely.
pub fn card(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let tail = card_visible(chars.len());
    let mut out = String::from("****");
    if tail > 0 {
        out.push(' ');
        out.extend(&chars[chars.len() - tail..]);
    }
    out
}

fn card_visible(len: usize) -> usize {
    if len >= 8 {
        4
    } else {
        (len / 2).min(2)
    }
}

/// Masks a person's name: the first character followed by one `*` for each
/// remaining character (`张三` → `张*`, `欧阳娜娜` → `欧***`). A single-character
/// name becomes `*`.
pub fn name(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let head = usize::from(chars.len() > 1);
    keep_ends(&chars, head, 0)
}

/// Keeps `head` leading and `tail` trailing characters and stars the rest.
/// Callers guarantee `head + tail <= chars.len()`.
fn keep_ends(chars: &[char], head: usize, tail: usize) -> String {
    let len = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < head || i + tail >= len { c } else { STAR })
        .collect()
}

/// Free text fit for a log line: every run of seven or more digits (a card, phone or ID
/// number hiding in a file or sheet name) keeps only its last four, e.g.
/// `张三_6222021234567890128.xlsx` → `张三_***************0128.xlsx`.
pub fn digits_in_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let n = run.chars().count();
        if n >= 7 {
            out.extend(std::iter::repeat_n('*', n - 4));
            out.extend(run.chars().skip(n - 4));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() || matches!(c, 'X' | 'x') && !run.is_empty() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unmasked(s: &str) -> usize {
        s.chars().filter(|&c| c != STAR && c != ' ').count()
    }

    #[test]
    fn id_number_examples() {
        assert_eq!(id_number("500103199001011234"), "500103********1234");
        assert_eq!(id_number("91350100M000100Y43"), "913501********0Y43");
        assert_eq!(id_number("110105491231002"), "1101*******1002");
        assert_eq!(id_number("E12345678"), "*******78");
        assert_eq!(id_number("AB"), "*B");
        assert_eq!(id_number("A"), "*");
        assert_eq!(id_number(""), "");
    }

    #[test]
    fn phone_examples() {
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(phone("1440123456789"), "14*******6789");
        assert_eq!(phone("+447911123456"), "+4*******3456");
        assert_eq!(phone("95588"), "***88");
        assert_eq!(phone("110"), "**0");
        assert_eq!(phone("1"), "*");
    }

    #[test]
    fn card_examples() {
        assert_eq!(card("6222021234567890128"), "**** 0128");
        assert_eq!(card("12345678"), "**** 5678");
        assert_eq!(card("1234567"), "**** 67");
        assert_eq!(card("12"), "**** 2");
        assert_eq!(card("1"), "****");
        assert_eq!(card(""), "****");
    }

    #[test]
    fn name_examples() {
        assert_eq!(name("张三"), "张*");
        assert_eq!(name("欧阳娜娜"), "欧***");
        assert_eq!(name("李"), "*");
        assert_eq!(name(""), "");
        assert_eq!(name("Zhang San"), "Z********");
    }

    proptest! {
        #[test]
        fn id_number_reveals_no_more_than_pattern(s in any::<String>()) {
            let out = id_number(&s);
            let len = s.chars().count();
            prop_assert_eq!(out.chars().count(), len);
            prop_assert!(unmasked(&out) <= len * 10 / 18);
            prop_assert!(unmasked(&out) <= 10);
        }

        #[test]
        fn phone_reveals_no_more_than_pattern(s in any::<String>()) {
            let out = phone(&s);
            let len = s.chars().count();
            prop_assert_eq!(out.chars().count(), len);
            let allowed = if len == 11 { 7 } else { len / 2 };
            prop_assert!(unmasked(&out) <= allowed.min(7));
        }

        #[test]
        fn card_reveals_at_most_last_four(s in any::<String>()) {
            let out = card(&s);
            prop_assert!(out.starts_with("****"));
            prop_assert!(unmasked(&out) <= 4);
            prop_assert!(unmasked(&out) <= s.chars().count() / 2);
        }

        #[test]
        fn name_reveals_at_most_first_char(s in any::<String>()) {
            let out = name(&s);
            let len = s.chars().count();
            prop_assert_eq!(out.chars().count(), len);
            prop_assert!(unmasked(&out) <= usize::from(len > 1));
        }

        #[test]
        fn kept_characters_are_the_original_ones(s in "[0-9A-Z\u{4e00}-\u{4e20}]{0,30}") {
            for out in [id_number(&s), phone(&s), name(&s)] {
                for (o, i) in out.chars().zip(s.chars()) {
                    prop_assert!(o == STAR || o == i);
                }
            }
        }
    }

    #[test]
    fn digits_in_text_hides_long_numbers_only() {
        assert_eq!(
            digits_in_text("张三_6222021234567890128.xlsx"),
            "张三_***************0128.xlsx"
        );
        assert_eq!(digits_in_text("Sheet1 2026-03"), "Sheet1 2026-03");
        assert_eq!(digits_in_text("11010519491231002X"), "**************002X");
        assert_eq!(digits_in_text("13812345678"), "*******5678");
    }
}
