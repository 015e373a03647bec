//! Free-text notes people attach to a decision or an appeal: limited in length and refused,
//! never silently cut, when too long or carrying control characters (which would corrupt a CSV
//! export or a log line).

/// An appeal's note (contract v2: ≤ 200 characters).
pub const APPEAL_NOTE_MAX: usize = 200;
/// A reviewer's note on a decision (contract v2: ≤ 500 characters).
pub const REVIEW_NOTE_MAX: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("备注不能超过 {max} 个字（当前 {got} 个字）")]
    TooLong { max: usize, got: usize },
    #[error("备注中含有不可见的控制字符，请删除后重试")]
    ControlCharacters,
}

impl NoteError {
    /// The API's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            NoteError::TooLong { .. } => "note_too_long",
            NoteError::ControlCharacters => "bad_note",
        }
    }
}

/// The note to store: trimmed, `None` when empty. Line breaks from a text box are kept (a CRLF
/// becomes LF); every other control character is refused.
pub fn parse_note(raw: Option<&str>, max: usize) -> Result<Option<String>, NoteError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.replace("\r\n", "\n");
    let text = text.trim();
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::ControlCharacters);
    }
    let got = text.chars().count();
    if got > max {
        return Err(NoteError::TooLong { max, got });
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(parse_note(None, 5), Ok(None));
        assert_eq!(parse_note(Some("  "), 5), Ok(None));
        assert_eq!(parse_note(Some(" 头发\r\n遮眉 "), 5), Ok(Some("头发\n遮眉".into())));
        assert_eq!(parse_note(Some(&"字".repeat(5)), 5), Ok(Some("字".repeat(5))), "the limit counts characters, not bytes");
        assert_eq!(parse_note(Some(&"字".repeat(6)), 5), Err(NoteError::TooLong { max: 5, got: 6 }));
        for bad in ["a\u{7}b", "a\u{0}b", "a\tb", "a\u{1b}[31m", "a\u{85}b"] {
            assert_eq!(parse_note(Some(bad), 50), Err(NoteError::ControlCharacters), "{bad:?}");
        }
    }
}
