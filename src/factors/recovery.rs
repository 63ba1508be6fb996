//! Recovery codes: ten per enrolment, shown once, each good once. 80
//! random bits each, so a fast hash is enough to store them; the user id
//! is hashed in so equal codes of two users differ when stored.
use rand::RngCore;

pub const COUNT: usize = 10;
/// Base32 letters per code: 16 of 5 bits.
const LETTERS: usize = 16;
const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Ten new codes, as shown: `XXXX-XXXX-XXXX-XXXX`.
pub fn new_codes() -> Vec<String> {
    (0..COUNT).map(|_| new_code()).collect()
}

fn new_code() -> String {
    let mut bytes = [0u8; LETTERS];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let letters: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 0x1f)]))
        .collect();
    letters
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// What is stored for `code` of `user_id`: typed with or without dashes or
/// spaces, in either case, it hashes the same.
pub fn stored_form(user_id: &str, code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    crate::secrets::hash(&format!("{user_id}:{normal}"))
}

/// Whether `text` looks like a recovery code rather than a TOTP code.
pub fn looks_like_one(text: &str) -> bool {
    text.chars().filter(char::is_ascii_alphanumeric).count() == LETTERS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_read_alike_however_typed() {
        let codes = new_codes();
        assert_eq!(codes.len(), COUNT);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), COUNT);
        let code = &codes[0];
        assert_eq!(code.len(), 19);
        assert!(looks_like_one(code));
        let typed = code.replace('-', " ").to_lowercase();
        assert_eq!(stored_form("u1", code), stored_form("u1", &typed));
        assert_ne!(stored_form("u1", code), stored_form("u2", code));
        assert!(!looks_like_one("123456"));
    }
}
