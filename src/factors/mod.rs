//! Second factors: TOTP (RFC 6238) with single-use recovery codes. The
//! pure parts (`totp`, `recovery`) check codes; `repo` keeps what a user
//! enrolled, the TOTP secret encrypted like the signing keys.
pub mod recovery;
pub mod repo;
pub mod totp;
pub use repo::FactorStatus;
