//! The opening handshake's accept key (RFC 6455 §4.2.2).

use base64::Engine as _;
use sha1::{Digest as _, Sha1};

/// The GUID appended to the client's key before hashing (RFC 6455 §1.3).
pub const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Computes `Sec-WebSocket-Accept` from the client's `Sec-WebSocket-Key`:
/// base64(SHA-1(key + GUID)). Surrounding ASCII whitespace in `client_key` is ignored.
pub fn accept_key(client_key: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(client_key.trim_ascii());
    hasher.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
}
