//! Student ids and object keys are path components (on disk and in S3), so every odd input
//! must be refused: property-style loops over hand-picked tricks and generated strings.

use gradphoto_core::{ObjectKey, StudentId, object_key};

/// The rule, restated independently: 1–32 ASCII letters or digits.
fn oracle_id(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The object-key school and ticket rule: 1–64 ASCII letters, digits or '-'.
fn oracle_part(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

const TRICKS: &[&str] = &[
    "", ".", "..", "../", "..\\", "/", "\\", "a/b", "a\\b", "../../etc/passwd", "..%2f..%2f", "%2e%2e",
    "a%00b", "a\0b", "\0", "a b", " a", "a ", "a\tb", "a\nb", "a\rb", "a\u{85}b", "a\u{2028}b",
    "a.jpg", "a.", ".a", "~", "~root", "$HOME", "${x}", "`id`", "a;b", "a|b", "a&b", "a'b", "a\"b",
    "<script>", "a*b", "a?b", "a:b", "C:", "CON", "nul", // reserved Windows names are alnum and fine
    "１２３", "Ａ１", "٣", "²", "ⅷ", "ß", "İ", "ǅ", "a\u{200B}b", "\u{FEFF}a", "a\u{202E}b", "a\u{0301}",
    "学号", "G31010１", "x\u{FF0F}y", "a\u{2215}b", "a\u{2044}b", "ａ",
];

#[test]
fn student_id_accepts_exactly_short_ascii_alnum() {
    for s in TRICKS {
        assert_eq!(StudentId::parse(s).is_ok(), oracle_id(s), "{s:?}");
    }
    for ok in ["G310101200901011234", "a", "Z9", &"9".repeat(32), "CON", "nul"] {
        let id = StudentId::parse(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        assert_eq!(id.as_str(), ok, "stored unchanged, not normalised");
    }
    assert!(StudentId::parse(&"9".repeat(33)).is_err());
    // 32 characters but more than 32 bytes, and 32 bytes of a multi-byte letter.
    assert!(StudentId::parse(&"é".repeat(16)).is_err());
    assert!(StudentId::parse(&"é".repeat(32)).is_err());
}

#[test]
fn student_id_error_message_is_bounded() {
    let long = "..".repeat(100_000);
    let err = StudentId::parse(&long).unwrap_err().to_string();
    assert!(err.chars().count() < 100, "message echoes at most 40 characters: {} chars", err.chars().count());
}

/// Deterministic generator over an alphabet rich in separators, dots, NULs and look-alikes.
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn string(&mut self, max_len: usize) -> String {
        const ALPHABET: &[char] = &[
            'a', 'Z', '0', '9', '-', '_', '.', '/', '\\', '\0', ' ', '%', '\n', '\u{FF0F}', '１', 'é', '学', '\u{200B}',
            ':', '~', '+', '=',
        ];
        let len = (self.next() as usize) % (max_len + 1);
        (0..len).map(|_| ALPHABET[(self.next() as usize) % ALPHABET.len()]).collect()
    }
    /// Mostly-valid strings, so the accepting side is exercised too.
    fn mostly_alnum(&mut self, max_len: usize) -> String {
        let len = (self.next() as usize) % (max_len + 1);
        (0..len)
            .map(|_| match self.next() % 20 {
                0 => ['.', '/', '-', '\0', '\u{FF10}'][(self.next() % 5) as usize],
                n => char::from(b"abcXYZ0123456789Qq9a"[n as usize]),
            })
            .collect()
    }
}

#[test]
fn generated_student_ids_match_the_rule() {
    let mut g = Gen(0x0123_4567_89AB_CDEF);
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..100_000 {
        let s = if i % 2 == 0 { g.string(40) } else { g.mostly_alnum(40) };
        let got = StudentId::parse(&s);
        assert_eq!(got.is_ok(), oracle_id(&s), "{s:?}");
        if let Ok(id) = got {
            accepted += 1;
            // Whatever is accepted is a single harmless path component.
            assert!(!id.as_str().contains(['/', '\\', '.', '\0']));
            assert_eq!(id.to_string(), s);
        } else {
            refused += 1;
        }
    }
    assert!(accepted > 1000 && refused > 1000, "generator covers both sides: {accepted} / {refused}");
}

#[test]
fn serde_refuses_what_parse_refuses() {
    for s in TRICKS {
        let json = serde_json::to_string(s).unwrap();
        let got: Result<StudentId, _> = serde_json::from_str(&json);
        assert_eq!(got.is_ok(), oracle_id(s), "{s:?}");
    }
}

#[test]
fn object_key_refuses_traversal_and_odd_parts() {
    let bad = [
        "uploads/../S1/t.jpg",
        "uploads/sch/../t.jpg",
        "uploads/sch/S1/...jpg",
        "uploads/sch/S1/..jpg",
        "uploads/sch/S1/.jpg",
        "uploads/sch/S1/t.jpg/",
        "uploads/sch/S1/t.jpg/x",
        "uploads//S1/t.jpg",
        "uploads/sch//t.jpg",
        "uploads/sch/S1/",
        "uploads/sch/S1",
        "uploads/sch/S1/t.JPG",
        "uploads/sch/S1/t.jpeg",
        "uploads/sch/S1/t.jpg\0",
        "uploads/sch/S1/t\0.jpg",
        "uploads/sch/S 1/t.jpg",
        "uploads/sch/S1/t t.jpg",
        "uploads/sch\\..\\x/S1/t.jpg",
        "uploads/sch/S1/..\\..\\t.jpg",
        "uploads/sch/S%2F1/t.jpg",
        "uploads/sch/S1/t%2e.jpg",
        "uploads/sch/S1/t.png",
        "Uploads/sch/S1/t.jpg",
        "/uploads/sch/S1/t.jpg",
        "./uploads/sch/S1/t.jpg",
        "uploads/sch/学号/t.jpg",
        "uploads/ｓｃｈ/S1/t.jpg",
        "uploads/sch/S1/t\u{FF0E}jpg",
        "uploads/sch/S1\u{FF0F}x/t.jpg",
        "uploads/sch/S1/t\n.jpg",
        "",
        "uploads/",
    ];
    for k in bad {
        assert!(ObjectKey::parse(k).is_none(), "{k:?} must be refused");
    }
    let long = format!("uploads/{}/S1/t.jpg", "a".repeat(65));
    assert!(ObjectKey::parse(&long).is_none());
    let long = format!("uploads/a/{}/t.jpg", "1".repeat(33));
    assert!(ObjectKey::parse(&long).is_none());
    let long = format!("uploads/a/S1/{}.jpg", "t".repeat(65));
    assert!(ObjectKey::parse(&long).is_none());
}

#[test]
fn generated_object_keys_round_trip_exactly_when_every_part_is_safe() {
    let mut g = Gen(0xFEED_F00D_1234_5678);
    let mut accepted = 0;
    for i in 0..100_000 {
        let gen_part = |g: &mut Gen, n| if i % 3 == 0 { g.string(n) } else { g.mostly_alnum(n) };
        let school = gen_part(&mut g, 10);
        let student = gen_part(&mut g, 10);
        let ticket = gen_part(&mut g, 10);
        let key = format!("uploads/{school}/{student}/{ticket}.jpg");
        let want = oracle_part(&school) && oracle_id(&student) && oracle_part(&ticket);
        match ObjectKey::parse(&key) {
            Some(k) => {
                assert!(want, "{key:?} accepted");
                accepted += 1;
                assert_eq!((k.school_id.as_str(), k.student_id.as_str(), k.ticket_id.as_str()), (&*school, &*student, &*ticket));
                assert_eq!(object_key(&k.school_id, &k.student_id, &k.ticket_id), key);
                // Safe as a relative path: exactly four components, none of them special.
                let parts: Vec<&str> = key.split('/').collect();
                assert_eq!(parts.len(), 4);
                assert!(parts.iter().all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains(['\\', '\0'])));
            }
            None => assert!(!want, "{key:?} refused"),
        }
        // Arbitrary text as a key is refused or round-trips; it never panics.
        let raw = g.string(60);
        if let Some(k) = ObjectKey::parse(&raw) {
            assert_eq!(object_key(&k.school_id, &k.student_id, &k.ticket_id), raw);
        }
    }
    assert!(accepted > 1000, "generator must produce valid keys too: {accepted}");
}
