//! Validated values, built once at the edge ("parse, don't validate").

use std::fmt;

use crate::common_passwords::is_common_password;
use crate::error::{FieldCode, FieldError};

mod line;

pub use line::{line_chars, name_chars, shows_something};

/// A username: 2–32 characters of `a-z 0-9 _ .`, stored lowercase (so uniqueness is
/// case-insensitive: `Alice` and `alice` are the same name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Shortest allowed username.
    pub const MIN: usize = 2;
    /// Longest allowed username.
    pub const MAX: usize = 32;

    /// Parses user input; upper-case ASCII letters are folded to lower case.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        if input.trim().is_empty() {
            return Err(required());
        }
        let name = input.to_ascii_lowercase();
        let ok_chars = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
        if !ok_chars || !(Self::MIN..=Self::MAX).contains(&name.len()) {
            return Err(FieldError::new(
                FieldCode::UsernameInvalid,
                "Usernames are 2 to 32 characters: letters a-z, digits, '_' and '.'.",
            ));
        }
        // `@everyone` and `@here` ping the whole channel: no one may be called that (as good
        // as taken, and a client says so in those words).
        if name == "everyone" || name == "here" {
            return Err(FieldError::new(
                FieldCode::UsernameTaken,
                "This username is reserved.",
            ));
        }
        Ok(Self(name))
    }

    /// The normalized name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, syntactically plausible. Compared case-insensitively via [`Email::key`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Longest allowed address (RFC 5321 path limit).
    pub const MAX: usize = 254;

    /// Parses user input (surrounding whitespace is ignored).
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let email = input.trim();
        if email.is_empty() {
            return Err(required());
        }
        let invalid = || FieldError::new(FieldCode::EmailInvalid, "Enter a valid email address.");
        if email.len() > Self::MAX {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let bad_char =
            |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"@".contains(c);
        if local.is_empty() || local.len() > 64 || local.chars().any(bad_char) {
            return Err(invalid());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address as given (domain lower-cased).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: the whole address lower-cased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A new password that meets the policy. Never logged or serialized.
pub struct NewPassword(String);

impl NewPassword {
    /// Minimum length in characters.
    pub const MIN: usize = 8;
    /// Maximum length in characters (bounds hashing work).
    pub const MAX: usize = 512;

    /// Checks the policy: 8–512 characters and not a well-known password.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let n = input.chars().count();
        if n == 0 {
            return Err(required());
        }
        if n < Self::MIN {
            return Err(FieldError::new(
                FieldCode::PasswordTooShort,
                "Passwords must be at least 8 characters long.",
            ));
        }
        if n > Self::MAX {
            return Err(FieldError {
                message: "Passwords must be at most 512 characters long.".into(),
                ..FieldError::at_most(Self::MAX as u32)
            });
        }
        if is_common_password(input) {
            return Err(FieldError::new(
                FieldCode::PasswordTooCommon,
                "This password is too common. Choose one that is harder to guess.",
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// The password text, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// A field left empty: said as such, not as too short or malformed.
pub fn required() -> FieldError {
    FieldError::new(FieldCode::Required, "This field is required.")
}

/// Validates optional free text: trims it, turns empty into `None`, bounds its length in
/// characters and rejects control characters other than newlines (when `multiline`); one
/// line (not `multiline`) is also held to [`line_chars`].
pub fn optional_text(
    input: Option<&str>,
    max_chars: usize,
    multiline: bool,
) -> Result<Option<String>, FieldError> {
    let Some(text) = input.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max_chars {
        return Err(FieldError::at_most(max_chars as u32));
    }
    if !multiline {
        line_chars(text)?;
    } else if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(FieldError::new(
            FieldCode::InvalidValue,
            "Control characters are not allowed.",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// An optional name (a display name): [`optional_text`] on one line, and [`name_chars`].
pub fn optional_name(input: Option<&str>, max_chars: usize) -> Result<Option<String>, FieldError> {
    let name = optional_text(input, max_chars, false)?;
    if let Some(n) = &name {
        name_chars(n)?;
    }
    Ok(name)
}

/// Profile field limits, in characters.
pub mod limits {
    /// Display name.
    pub const DISPLAY_NAME: usize = 32;
    /// Bio ("about me").
    pub const BIO: usize = 190;
    /// Pronouns.
    pub const PRONOUNS: usize = 40;
    /// Largest accent colour (24-bit RGB).
    pub const ACCENT_COLOR_MAX: u32 = 0xFF_FF_FF;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse("Alice_01.x").unwrap().as_str(),
            "alice_01.x"
        );
        assert_eq!(Username::parse(" ").unwrap_err().code, FieldCode::Required);
        assert_eq!(Email::parse("").unwrap_err().code, FieldCode::Required);
        assert_eq!(
            NewPassword::parse("").unwrap_err().code,
            FieldCode::Required
        );
        for bad in ["a", "has space", "ünï", "a-b", &"x".repeat(33)] {
            assert_eq!(
                Username::parse(bad).unwrap_err().code,
                FieldCode::UsernameInvalid,
                "{bad}"
            );
        }
        for reserved in ["everyone", "Here"] {
            assert_eq!(
                Username::parse(reserved).unwrap_err().code,
                FieldCode::UsernameTaken
            );
        }
        assert!(Username::parse(&"x".repeat(32)).is_ok());
        assert!(Username::parse("ab").is_ok());
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Bob@Example.COM ").unwrap().as_str(),
            "Bob@example.com"
        );
        assert_eq!(
            Email::parse("Bob@Example.COM").unwrap().key(),
            "bob@example.com"
        );
        for bad in [
            "",
            "bob",
            "bob@",
            "@x.com",
            "bob@localhost",
            "b ob@x.com",
            "bob@x..com",
            "a@-x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert_eq!(
            NewPassword::parse("short").unwrap_err().code,
            FieldCode::PasswordTooShort
        );
        assert_eq!(
            NewPassword::parse("password").unwrap_err().code,
            FieldCode::PasswordTooCommon
        );
        assert_eq!(
            NewPassword::parse("PassWord123").unwrap_err().code,
            FieldCode::PasswordTooCommon
        );
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert_eq!(
            format!("{:?}", NewPassword::parse("correct horse battery").unwrap()),
            "NewPassword(***)"
        );
    }

    #[test]
    fn optional_texts() {
        assert_eq!(optional_text(Some("  "), 5, false).unwrap(), None);
        assert_eq!(
            optional_text(Some(" hi "), 5, false).unwrap().as_deref(),
            Some("hi")
        );
        assert_eq!(
            optional_text(Some("toolong"), 5, false).unwrap_err().code,
            FieldCode::TooLong
        );
        assert!(optional_text(Some("a\nb"), 5, false).is_err());
        assert_eq!(
            optional_text(Some("a\u{202E}b"), 5, false)
                .unwrap_err()
                .code,
            FieldCode::InvalidCharacters
        );
        assert_eq!(
            optional_name(Some("\u{2800}"), 5).unwrap_err().code,
            FieldCode::InvalidCharacters
        );
        assert_eq!(
            optional_name(Some(" Zé "), 5).unwrap().as_deref(),
            Some("Zé")
        );
        assert!(optional_text(Some("a\nb"), 5, true).is_ok());
        assert_eq!(optional_text(None, 5, false).unwrap(), None);
    }
}
