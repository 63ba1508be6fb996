//! `query` of the audit list: `type: signin.failed`, `user: ID`,
//! `service: ID`, `actor: ID` (or `actor: cli`), `ip: ADDRESS`; free words
//! match part of the type or any of the ids. Terms are joined with and.
use super::event::Kind;
use crate::error::AppError;
use crate::query_terms::{terms, unknown_key, Term};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub kinds: Vec<Kind>,
    pub users: Vec<String>,
    pub services: Vec<String>,
    pub actors: Vec<String>,
    pub ips: Vec<String>,
    pub words: Vec<String>,
}

impl AuditQuery {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let mut query = Self::default();
        for term in terms(text)? {
            match term {
                Term::Word(word) => query.words.push(word),
                Term::Keyed(key, value) => query.add(&key, value)?,
            }
        }
        Ok(query)
    }

    fn add(&mut self, key: &str, value: String) -> Result<(), AppError> {
        match key.to_ascii_lowercase().as_str() {
            "type" => {
                let kind = Kind::from_name(&value).ok_or_else(|| {
                    AppError::bad_field("query", format!("unknown event type '{value}'"))
                })?;
                self.kinds.push(kind);
            }
            "user" => self.users.push(value),
            "service" => self.services.push(value),
            "actor" => self.actors.push(value),
            "ip" => self.ips.push(value),
            _ => return Err(unknown_key(key)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_words() {
        let query = AuditQuery::parse(
            "type: signin.failed and user:u1 service: s1 actor: cli ip: ::1 reset",
        )
        .unwrap();
        assert_eq!(
            query,
            AuditQuery {
                kinds: vec![Kind::SignInFailed],
                users: vec!["u1".into()],
                services: vec!["s1".into()],
                actors: vec!["cli".into()],
                ips: vec!["::1".into()],
                words: vec!["reset".into()],
            }
        );
    }

    #[test]
    fn unknown_types_and_keys_are_refused() {
        assert!(AuditQuery::parse("type: nothing").is_err());
        assert!(AuditQuery::parse("when: today").is_err());
        assert_eq!(AuditQuery::parse("").unwrap(), AuditQuery::default());
    }
}
