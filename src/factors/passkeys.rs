//! Passkeys (WebAuthn) through webauthn-rs, the library Kanidm is built on:
//! the options a browser needs to create or use a credential, and the
//! checks of what it sends back. The relying party is the issuer's host
//! (so `http://localhost` works in development); an issuer whose host is an
//! IP address cannot have passkeys, as WebAuthn names relying parties by
//! domain. Every ceremony requires user verification (a PIN or a
//! biometric), which makes a passkey two factors in one.
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;
use webauthn_rs::prelude::{
    AuthenticationResult, CredentialID, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Webauthn,
    WebauthnBuilder,
};

use crate::error::AppError;

/// The relying party every ceremony of this server runs for.
pub struct RelyingParty {
    webauthn: Webauthn,
    /// The RP ID: the issuer's host name.
    pub id: String,
}

/// What a browser gets to start a ceremony (JSON for
/// `navigator.credentials`), and what the server keeps to finish it.
pub struct Started {
    pub options: String,
    pub state: String,
}

/// A passkey that passed a ceremony: the stored credential with its
/// counter moved on, and whether it is synced between devices (backup
/// eligible), which `amr` tells as `swk` rather than `hwk`.
pub struct Used {
    pub passkey: Passkey,
    pub counter: u32,
    pub backup_eligible: bool,
}

fn refused(why: &str) -> AppError {
    AppError::bad_request(format!("the passkey was not accepted: {why}"))
}

fn internal(what: &str, error: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("{what}: {error}"))
}

/// The WebAuthn user handle of a user: derived from the id, so the same
/// for every passkey of theirs, and nothing the authenticator keeps says
/// more than that.
pub fn user_handle(user_id: &str) -> Uuid {
    let digest = Sha256::digest(format!("idhub-webauthn-user:{user_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// How a credential id is stored and looked up.
pub fn credential_key(id: &[u8]) -> String {
    crate::secrets::base64url(id)
}

impl RelyingParty {
    /// The relying party of `issuer`, or None when its host is not a
    /// domain name (then passkeys are not offered).
    pub fn for_issuer(issuer: &str) -> Result<Option<Self>, String> {
        let origin = Url::parse(issuer).map_err(|e| format!("the issuer {issuer}: {e}"))?;
        let Some(host) = origin.domain().map(str::to_owned) else {
            return Ok(None);
        };
        let webauthn = WebauthnBuilder::new(&host, &origin)
            .and_then(|builder| builder.rp_name("idhub").build())
            .map_err(|e| format!("passkeys for the issuer {issuer}: {e}"))?;
        Ok(Some(Self { webauthn, id: host }))
    }

    /// Registration of a new passkey for a user who has `existing` ones
    /// (which the authenticator must not register twice). The credential
    /// must be discoverable, so it can sign in without a login typed.
    pub fn start_registration(
        &self,
        user_id: &str,
        login: &str,
        display_name: &str,
        existing: Vec<CredentialID>,
    ) -> Result<Started, AppError> {
        let exclude = (!existing.is_empty()).then_some(existing);
        let (options, state) = self
            .webauthn
            .start_passkey_registration(user_handle(user_id), login, display_name, exclude)
            .map_err(|e| internal("starting a passkey registration", e))?;
        // webauthn-rs leaves discoverability to the authenticator; the
        // sign-in page needs it. Only the browser reads this part.
        let mut options =
            serde_json::to_value(&options).map_err(|e| internal("passkey options", e))?;
        if let Some(selection) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(serde_json::Value::as_object_mut)
        {
            selection.insert("residentKey".into(), "required".into());
            selection.insert("requireResidentKey".into(), true.into());
        }
        started(&options, &state)
    }

    pub fn finish_registration(&self, state: &str, response: &str) -> Result<Passkey, AppError> {
        let state: PasskeyRegistration =
            serde_json::from_str(state).map_err(|e| internal("a stored registration", e))?;
        let response: RegisterPublicKeyCredential = serde_json::from_str(response)
            .map_err(|_| refused("the browser's answer is not one"))?;
        self.webauthn
            .finish_passkey_registration(&response, &state)
            .map_err(|e| refused(&e.to_string()))
    }

    /// Sign-in with any passkey of this relying party, no login typed (a
    /// modal request: the browser lists the passkeys it has).
    pub fn start_sign_in(&self) -> Result<Started, AppError> {
        let (mut options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| internal("starting a passkey sign-in", e))?;
        options.mediation = None;
        started(&options, &state)
    }

    /// The user handle and credential id a sign-in's answer names, to find
    /// the stored passkey with.
    pub fn identify(
        &self,
        response: &str,
    ) -> Result<(Uuid, String, PublicKeyCredential), AppError> {
        let response: PublicKeyCredential = serde_json::from_str(response)
            .map_err(|_| refused("the browser's answer is not one"))?;
        let (handle, id) = self
            .webauthn
            .identify_discoverable_authentication(&response)
            .map(|(handle, id)| (handle, credential_key(id)))
            .map_err(|e| refused(&e.to_string()))?;
        Ok((handle, id, response))
    }

    pub fn finish_sign_in(
        &self,
        state: &str,
        response: &PublicKeyCredential,
        stored: Passkey,
    ) -> Result<Used, AppError> {
        let state: DiscoverableAuthentication =
            serde_json::from_str(state).map_err(|e| internal("a stored sign-in", e))?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(response, state, &stored)
            .map_err(|e| refused(&e.to_string()))?;
        used(stored, &result)
    }

    /// A passkey as the second step after a password: one of `passkeys`.
    pub fn start_second_factor(&self, passkeys: &[Passkey]) -> Result<Started, AppError> {
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(passkeys)
            .map_err(|e| internal("starting a passkey check", e))?;
        started(&options, &state)
    }

    /// The credential id the answer names, and the check of it against the
    /// stored passkey it names (`find` looks it up among the user's).
    pub fn finish_second_factor(
        &self,
        state: &str,
        response: &str,
        find: impl FnOnce(&str) -> Result<Option<Passkey>, AppError>,
    ) -> Result<(String, Used), AppError> {
        let state: PasskeyAuthentication =
            serde_json::from_str(state).map_err(|e| internal("a stored passkey check", e))?;
        let response: PublicKeyCredential = serde_json::from_str(response)
            .map_err(|_| refused("the browser's answer is not one"))?;
        let result = self
            .webauthn
            .finish_passkey_authentication(&response, &state)
            .map_err(|e| refused(&e.to_string()))?;
        let id = credential_key(result.cred_id());
        let stored = find(&id)?.ok_or_else(|| refused("it is not one of this account's"))?;
        Ok((id, used(stored, &result)?))
    }
}

fn started(
    options: &impl serde::Serialize,
    state: &impl serde::Serialize,
) -> Result<Started, AppError> {
    Ok(Started {
        options: serde_json::to_string(options).map_err(|e| internal("passkey options", e))?,
        state: serde_json::to_string(state).map_err(|e| internal("a passkey ceremony", e))?,
    })
}

/// The passkey after `result`. (webauthn-rs has refused a signature
/// counter that did not move past the stored one, when the authenticator
/// counts at all: the key may have been copied.)
fn used(mut passkey: Passkey, result: &AuthenticationResult) -> Result<Used, AppError> {
    passkey.update_credential(result);
    Ok(Used {
        passkey,
        counter: result.counter(),
        backup_eligible: result.backup_eligible(),
    })
}

/// Whether a passkey is synced between devices (backup eligible), as its
/// registration said; false when the stored form does not say.
pub fn synced(passkey: &Passkey) -> bool {
    serde_json::to_value(passkey)
        .ok()
        .and_then(|stored| stored.pointer("/cred/backup_eligible")?.as_bool())
        .unwrap_or(false)
}

/// The stored form of a passkey, and back.
pub fn to_stored(passkey: &Passkey) -> Result<String, AppError> {
    serde_json::to_string(passkey).map_err(|e| internal("a passkey", e))
}

pub fn from_stored(stored: &str) -> Result<Passkey, AppError> {
    serde_json::from_str(stored).map_err(|e| internal("a stored passkey", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_issuers_host_name() {
        let party = RelyingParty::for_issuer("http://localhost:8080")
            .unwrap()
            .unwrap();
        assert_eq!(party.id, "localhost");
        let party = RelyingParty::for_issuer("https://id.example.com")
            .unwrap()
            .unwrap();
        assert_eq!(party.id, "id.example.com");
        assert!(RelyingParty::for_issuer("http://127.0.0.1:8080")
            .unwrap()
            .is_none());
        assert!(RelyingParty::for_issuer("http://[::1]:8080")
            .unwrap()
            .is_none());
    }

    #[test]
    fn registration_asks_for_a_discoverable_user_verified_credential() {
        let party = RelyingParty::for_issuer("http://localhost:8080")
            .unwrap()
            .unwrap();
        let started = party
            .start_registration("u1", "ada", "Ada", Vec::new())
            .unwrap();
        let options: serde_json::Value = serde_json::from_str(&started.options).unwrap();
        let selection = &options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    }

    #[test]
    fn a_user_handle_is_stable_and_differs_between_users() {
        assert_eq!(user_handle("u1"), user_handle("u1"));
        assert_ne!(user_handle("u1"), user_handle("u2"));
    }
}
