//! Registration codes and school ids: minted and normalised here and nowhere else.

use std::fmt;

/// Unambiguous characters only: no 0/O, 1/I/L, so a code read aloud or from paper is typed right.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 10;
const SCHOOL_ID_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

fn random_string(alphabet: &[u8], len: usize) -> String {
    (0..len).map(|_| alphabet[rand::random_range(0..alphabet.len())] as char).collect()
}

/// A school stage's single-use registration code, in its stored form (upper case, no spaces
/// or dashes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistrationCode(String);

impl RegistrationCode {
    /// A fresh random code: 10 characters of a 31-letter alphabet (≈ 49.5 bits).
    pub fn mint() -> Self {
        Self(random_string(CODE_ALPHABET, CODE_LEN))
    }

    /// A code as a teacher typed it from a paper notice: case, spaces and dashes are ignored.
    pub fn from_typed(typed: &str) -> Self {
        Self(typed.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for RegistrationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new school id: `s` and 9 random lower-case characters (safe in object keys and paths).
pub fn new_school_id() -> String {
    format!("s{}", random_string(SCHOOL_ID_ALPHABET, 9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_ignore_case_spaces_and_dashes() {
        assert_eq!(RegistrationCode::from_typed(" demo-2026 jr ").as_str(), "DEMO2026JR");
    }

    #[test]
    fn minted_codes_use_only_unambiguous_characters_and_survive_retyping() {
        for _ in 0..200 {
            let c = RegistrationCode::mint();
            assert_eq!(c.as_str().len(), CODE_LEN);
            assert!(c.as_str().bytes().all(|b| CODE_ALPHABET.contains(&b)), "{c}");
            assert_eq!(RegistrationCode::from_typed(&c.as_str().to_lowercase()), c);
        }
        let id = new_school_id();
        assert!(id.starts_with('s') && id.len() == 10, "{id}");
    }
}
