//! Second factors: TOTP (RFC 6238) with single-use recovery codes, and
//! passkeys (WebAuthn). The pure parts (`totp`, `recovery`, `passkeys`)
//! check codes and ceremonies; `repo` and `passkey_repo` keep what a user
//! enrolled, the TOTP secret encrypted like the signing keys.
pub mod amr;
pub mod passkey_repo;
pub mod passkeys;
pub mod recovery;
pub mod repo;
pub mod totp;
pub use repo::FactorStatus;
