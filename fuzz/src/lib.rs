//! What the fuzz targets share.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A JWT whose header, claims and signature are the input's first three
/// lines, each base64url-encoded, so the fuzzer writes the JSON and the
/// checks behind the encoding are reached.
pub fn jwt_of_lines(data: &[u8]) -> String {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let mut next = || URL_SAFE_NO_PAD.encode(parts.next().unwrap_or_default());
    let (header, claims, signature) = (next(), next(), next());
    format!("{header}.{claims}.{signature}")
}
