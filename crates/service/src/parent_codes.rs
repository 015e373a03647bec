//! Parents' personal codes (家长上传码): minted, normalised, hashed and checked here and nowhere
//! else. A code is never stored: only HMAC-SHA256 under the deployment's secret, bound to the
//! student, so a leaked table cannot be turned back into codes without the secret, and a code
//! is worthless for any other student.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;

/// The same unambiguous alphabet as registration codes: no 0/O, 1/I/L.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// 10 characters of 31: ≈ 49.5 bits, far beyond what the login limits let anyone try.
pub const LEN: usize = 10;

/// A parent code in its canonical form (upper case, no dash).
#[derive(Clone, PartialEq, Eq)]
pub struct ParentCodeText(String);

impl ParentCodeText {
    pub fn mint() -> Self {
        Self((0..LEN).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect())
    }

    /// As a parent typed it from the slip: case, spaces and dashes ignored.
    pub fn from_typed(typed: &str) -> Self {
        Self(typed.chars().filter(|c| !c.is_whitespace() && *c != '-').take(64).flat_map(char::to_uppercase).collect())
    }

    /// As printed on the slip: two groups of five.
    pub fn display(&self) -> String {
        if self.0.len() == LEN { format!("{}-{}", &self.0[..5], &self.0[5..]) } else { self.0.clone() }
    }

    fn mac(&self, secret: &[u8], student_id: &str) -> Hmac<Sha256> {
        // Any key length is accepted by HMAC.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"gradphoto parent code\0");
        mac.update(student_id.as_bytes());
        mac.update(b"\0");
        mac.update(self.0.as_bytes());
        mac
    }

    /// The keyed hash stored for this code of this student (lower-case hex).
    pub fn keyed_hash(&self, secret: &[u8], student_id: &str) -> String {
        self.mac(secret, student_id).finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether this is the code whose hash is `stored`, compared in constant time.
    pub fn matches(&self, secret: &[u8], student_id: &str, stored: &str) -> bool {
        let Some(bytes) = from_hex(stored) else { return false };
        self.mac(secret, student_id).verify_slice(&bytes).is_ok()
    }
}

impl fmt::Debug for ParentCodeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ParentCodeText(***)")
    }
}

/// The login limiter's key for one scope of parents' attempts (a client and a student id, a
/// student id, a client): pseudonymous — HMAC under the deployment's secret, so the stored
/// counters name no address and no student in clear (they expire by TTL after a day on AWS;
/// a purge cannot enumerate them) — and prefixed `parent|`, which no username can contain.
pub fn limiter_key(secret: &[u8], scope: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"gradphoto parent login limit\0");
    mac.update(scope.as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("parent|{hex}")
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_only_its_student_and_survives_retyping() {
        let code = ParentCodeText::mint();
        assert_eq!(code.0.len(), LEN);
        assert!(code.0.bytes().all(|b| ALPHABET.contains(&b)));
        let stored = code.keyed_hash(b"secret", "J2026001");
        let typed = ParentCodeText::from_typed(&format!(" {} ", code.display().to_lowercase()));
        assert!(typed.matches(b"secret", "J2026001", &stored));
        assert!(!code.matches(b"secret", "J2026002", &stored), "bound to the student");
        assert!(!code.matches(b"other secret", "J2026001", &stored), "bound to the deployment's secret");
        assert!(!ParentCodeText::from_typed("ABCDE-FGHJK").matches(b"secret", "J2026001", &stored));
        assert!(!code.matches(b"secret", "J2026001", "not hex"));
        assert!(!format!("{code:?}").contains(&code.0), "never in logs");
    }

    #[test]
    fn limiter_keys_name_nobody_and_differ_per_scope() {
        let k = limiter_key(b"secret", "203.0.113.7|J2026001");
        assert!(k.starts_with("parent|") && k.len() == 7 + 32, "{k}");
        assert!(!k.contains("J2026001") && !k.contains("203.0.113.7"));
        assert_ne!(k, limiter_key(b"secret", "203.0.113.7|*"));
        assert_ne!(k, limiter_key(b"other", "203.0.113.7|J2026001"));
    }
}
