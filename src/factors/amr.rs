//! The RFC 8176 authentication method values idhub records in sessions
//! and states in ID tokens (`amr`).
pub const PWD: &str = "pwd";
pub const OTP: &str = "otp";
/// More than one factor: a password and a second one, or a passkey with
/// user verification (something held and something known or been).
pub const MFA: &str = "mfa";
/// A key bound to hardware (a passkey not synced between devices).
pub const HWK: &str = "hwk";
/// A software-secured key (a passkey synced by a passkey manager).
pub const SWK: &str = "swk";

/// The authentication context class of the methods used (`amr`,
/// space-separated): `mfa` when two factors were, else `pwd`.
pub fn acr_of(amr: &str) -> &'static str {
    match amr.split_whitespace().any(|method| method == MFA) {
        true => MFA,
        false => PWD,
    }
}
