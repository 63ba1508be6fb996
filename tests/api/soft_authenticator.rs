//! A software passkey authenticator for the HTTP tests, written from the
//! WebAuthn spec: P-256 keys, "none" attestation, user verification,
//! discoverable credentials that return their user handle, and a
//! signature counter the test controls. It answers the options idhub's
//! ceremony pages carry, as a browser would post them back.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// One credential the authenticator holds.
pub struct Credential {
    pub id: Vec<u8>,
    pub rp_id: String,
    pub user_handle: Vec<u8>,
    key: PKey<Private>,
    pub counter: u32,
}

#[derive(Default)]
pub struct SoftAuthenticator {
    pub credentials: Vec<Credential>,
}

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .expect("base64url")
}

/// CBOR's head of a major type with an argument (RFC 8949 §3).
fn head(major: u8, value: u64, out: &mut Vec<u8>) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend([major | 24, value as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((value as u16).to_be_bytes());
        }
        _ => {
            out.push(major | 26);
            out.extend((value as u32).to_be_bytes());
        }
    }
}

fn int(value: i64, out: &mut Vec<u8>) {
    match value {
        v if v >= 0 => head(0, v as u64, out),
        v => head(1, (-1 - v) as u64, out),
    }
}

fn bytes(data: &[u8], out: &mut Vec<u8>) {
    head(2, data.len() as u64, out);
    out.extend(data);
}

fn text(data: &str, out: &mut Vec<u8>) {
    head(3, data.len() as u64, out);
    out.extend(data.as_bytes());
}

/// The COSE form of a P-256 public key (ES256).
fn cose_key(key: &PKey<Private>) -> Vec<u8> {
    let ec = key.ec_key().unwrap();
    let group = ec.group();
    let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
    let mut context = BigNumContext::new().unwrap();
    ec.public_key()
        .affine_coordinates(group, &mut x, &mut y, &mut context)
        .unwrap();
    let mut out = Vec::new();
    head(5, 5, &mut out);
    int(1, &mut out); // kty: EC2
    int(2, &mut out);
    int(3, &mut out); // alg: ES256
    int(-7, &mut out);
    int(-1, &mut out); // crv: P-256
    int(1, &mut out);
    int(-2, &mut out);
    bytes(&x.to_vec_padded(32).unwrap(), &mut out);
    int(-3, &mut out);
    bytes(&y.to_vec_padded(32).unwrap(), &mut out);
    out
}

const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED_DATA: u8 = 0x40;

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
        .to_string()
        .into_bytes()
}

impl SoftAuthenticator {
    /// Answers `navigator.credentials.create` for `options` (the JSON a
    /// ceremony page holds) at `origin`: the credential as a browser posts it.
    pub fn create(&mut self, options: &Value, origin: &str) -> Value {
        let options = &options["publicKey"];
        let rp_id = options["rp"]["id"].as_str().expect("an RP id").to_owned();
        let excluded: Vec<Vec<u8>> = options["excludeCredentials"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|c| unb64(c["id"].as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            !self.credentials.iter().any(|c| excluded.contains(&c.id)),
            "the authenticator holds an excluded credential (InvalidStateError)"
        );
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let id: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(USER_PRESENT | USER_VERIFIED | ATTESTED_DATA);
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((id.len() as u16).to_be_bytes());
        auth_data.extend(&id);
        auth_data.extend(cose_key(&key));
        let mut attestation = Vec::new();
        head(5, 3, &mut attestation);
        text("fmt", &mut attestation);
        text("none", &mut attestation);
        text("attStmt", &mut attestation);
        head(5, 0, &mut attestation);
        text("authData", &mut attestation);
        bytes(&auth_data, &mut attestation);
        let challenge = options["challenge"].as_str().expect("a challenge");
        let client_data = client_data("webauthn.create", challenge, origin);
        self.credentials.push(Credential {
            id: id.clone(),
            rp_id,
            user_handle: unb64(options["user"]["id"].as_str().expect("a user handle")),
            key,
            counter: 0,
        });
        json!({
            "id": b64(&id), "rawId": b64(&id), "type": "public-key",
            "response": {"attestationObject": b64(&attestation), "clientDataJSON": b64(&client_data)},
            "extensions": {},
        })
    }

    /// Answers `navigator.credentials.get` for `options` at `origin` with
    /// the credential at `index` (among those allowed, or any held for the
    /// relying party when none are listed), counting one more use.
    pub fn get(&mut self, options: &Value, origin: &str, index: usize) -> Value {
        let options = &options["publicKey"];
        let rp_id = options["rpId"].as_str().expect("an RP id").to_owned();
        let allowed: Vec<Vec<u8>> = options["allowCredentials"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|c| unb64(c["id"].as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        let credential = self
            .credentials
            .iter_mut()
            .filter(|c| c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.id)))
            .nth(index)
            .expect("a credential for these options");
        credential.counter += 1;
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(USER_PRESENT | USER_VERIFIED);
        auth_data.extend(credential.counter.to_be_bytes());
        let challenge = options["challenge"].as_str().expect("a challenge");
        let client_data = client_data("webauthn.get", challenge, origin);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let mut signer = Signer::new(MessageDigest::sha256(), &credential.key).unwrap();
        let signature = signer.sign_oneshot_to_vec(&signed).unwrap();
        json!({
            "id": b64(&credential.id), "rawId": b64(&credential.id), "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": b64(&credential.user_handle),
            },
            "extensions": {},
        })
    }
}
