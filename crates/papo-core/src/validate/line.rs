//! The characters of text drawn on one line among other text: names (display names,
//! nicknames, server, channel and role names), pronouns, a custom status.
//!
//! Such text may be in any script and hold emoji, but not the characters that let it pass
//! for another text while drawn the same (`admin` and `admin` followed by a zero-width
//! space), draw as nothing (a name of Hangul fillers), or reorder the text drawn after it
//! (a right-to-left override in a name turns the rest of "alice is typing…" around).

use crate::error::{FieldCode, FieldError};

/// Combining marks in a row beyond which text is "zalgo" (drawn over the lines around it).
/// Vietnamese in decomposed form stacks two; four leaves room.
const MAX_MARKS_IN_A_ROW: usize = 4;

/// Checks one-line text: no control characters, no invisible or direction-changing format
/// characters, joiners and variation selectors only where they join or vary something, and
/// no more than four general combining marks on one character (`MAX_MARKS_IN_A_ROW`).
pub fn line_chars(text: &str) -> Result<(), FieldError> {
    let chars: Vec<char> = text.chars().collect();
    let mut marks = 0;
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let fits = if c.is_control() || invisible(c) {
            false
        } else if joiner(c) {
            // Between two drawn characters (emoji sequences, Indic and Persian scripts).
            before.is_some_and(|b| shows(b) || selector(b) || combining(b))
                && after.is_some_and(shows)
        } else if selector(c) {
            before.is_some_and(shows)
        } else {
            true
        };
        if !fits {
            return Err(refused());
        }
        marks = if combining(c) { marks + 1 } else { 0 };
        if marks > MAX_MARKS_IN_A_ROW {
            return Err(refused());
        }
    }
    Ok(())
}

/// Checks a name: [`line_chars`], and at least one character that is drawn as something.
pub fn name_chars(name: &str) -> Result<(), FieldError> {
    line_chars(name)?;
    if !name.chars().any(shows) {
        return Err(FieldError::new(
            FieldCode::InvalidCharacters,
            "A name needs a visible character.",
        ));
    }
    Ok(())
}

/// Whether `text` has a character drawn as something: a message of only blanks, fillers and
/// zero-width characters looks empty.
pub fn shows_something(text: &str) -> bool {
    text.chars().any(shows)
}

fn refused() -> FieldError {
    FieldError::new(
        FieldCode::InvalidCharacters,
        "Control, invisible and direction-changing characters are not allowed.",
    )
}

/// Format characters drawn as nothing (zero-width spaces, the word joiner, the byte order
/// mark, soft hyphens, tags), direction marks, embeddings, overrides and isolates, and the
/// fillers that look like a blank.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D159}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Zero-width non-joiner and joiner.
fn joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// Variation selectors (text or emoji style of the character before).
fn selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// The general-purpose combining marks (diacritics over any letter).
fn combining(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE20}'..='\u{FE2F}'
    )
}

/// Drawn as a character of its own (not a space, a blank, a mark or a modifier of another).
fn shows(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || c == '\u{2800}'
        || invisible(c)
        || joiner(c)
        || selector(c)
        || combining(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_any_script_and_with_emoji_pass() {
        for ok in [
            "Ana Lúcia",
            "José",
            // Decomposed: e + combining acute.
            "Jose\u{301}",
            // Vietnamese with two stacked marks.
            "e\u{302}\u{301}",
            "Μαρία",
            "محمد",
            "שלום",
            "小明",
            "मनोज",
            // Persian with a non-joiner inside a word.
            "می\u{200C}خواهم",
            // Family emoji (joiners), a red heart (emoji selector), a heart on fire.
            "👨\u{200D}👩\u{200D}👧",
            "❤\u{FE0F}",
            "❤\u{FE0F}\u{200D}🔥",
            "👋🏽 hi",
        ] {
            assert_eq!(name_chars(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused() {
        for bad in [
            "admin\u{200B}",
            "ad\u{00AD}min",
            "alice\u{202E}",
            "\u{2066}bob\u{2069}",
            "carol\u{200F}",
            "\u{FEFF}dave",
            "e\u{2060}ve",
            "tag\u{E0041}",
            "a\u{7}b",
            // Joiners and selectors with nothing to join or vary.
            "\u{200D}x",
            "x\u{200D}",
            "x \u{200C}y",
            "\u{FE0F}x",
            // Zalgo.
            "z\u{300}\u{301}\u{302}\u{303}\u{304}",
        ] {
            let e = name_chars(bad).unwrap_err();
            assert_eq!(e.code, FieldCode::InvalidCharacters, "{bad:?}");
        }
    }

    #[test]
    fn a_name_drawn_as_nothing_is_refused() {
        for blank in ["\u{2800}", "\u{2800} \u{2800}", "\u{300}"] {
            assert_eq!(
                name_chars(blank).unwrap_err().message,
                "A name needs a visible character.",
                "{blank:?}"
            );
        }
        // One-line text that is not a name may be blank.
        assert_eq!(line_chars("\u{2800}"), Ok(()));
        assert_eq!(line_chars(""), Ok(()));
        // A musical symbol drawn as nothing (a "null notehead") is no name either.
        assert!(name_chars("\u{1D159}").is_err());
    }

    #[test]
    fn text_of_blanks_fillers_and_zero_width_characters_shows_nothing() {
        for blank in [
            "",
            " \n\t",
            "\u{200B}\u{200B}",
            "\u{2800}",
            "\u{3164}",
            "\u{200D}\u{FE0F}",
        ] {
            assert!(!shows_something(blank), "{blank:?}");
        }
        for text in ["a", "\u{200B}a", "👍", "\u{2800}."] {
            assert!(shows_something(text), "{text:?}");
        }
    }
}
