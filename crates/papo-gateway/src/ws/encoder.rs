//! Server→client frame encoding: never masked, FIN always set, no fragmentation.

use super::{MAX_CONTROL_PAYLOAD, OpCode};

/// Longest header of an unmasked frame: 2 bytes + a 64-bit extended length.
pub const MAX_HEADER_LEN: usize = 10;

/// Writes the header of an unmasked, final frame into `out` and returns its length
/// (2 for payloads < 126 bytes, 4 for < 65,536 bytes, 10 otherwise).
pub fn frame_header(opcode: OpCode, payload_len: usize, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
    out[0] = 0x80 | opcode.as_u8();
    if payload_len < 126 {
        out[1] = payload_len as u8;
        2
    } else if let Ok(len) = u16::try_from(payload_len) {
        out[1] = 126;
        out[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        out[1] = 127;
        out[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
        10
    }
}

/// Total encoded size (header + payload) of a server frame with `payload_len` payload bytes.
pub fn encoded_len(payload_len: usize) -> usize {
    let header = if payload_len < 126 {
        2
    } else if payload_len <= 0xFFFF {
        4
    } else {
        10
    };
    header + payload_len
}

/// Appends a complete frame (header + payload) to `out`.
///
/// For control opcodes the payload must be at most 125 bytes (checked in debug builds).
pub fn encode_frame(opcode: OpCode, payload: &[u8], out: &mut Vec<u8>) {
    debug_assert!(!opcode.is_control() || payload.len() <= MAX_CONTROL_PAYLOAD);
    let mut header = [0u8; MAX_HEADER_LEN];
    let n = frame_header(opcode, payload.len(), &mut header);
    out.reserve(n + payload.len());
    out.extend_from_slice(&header[..n]);
    out.extend_from_slice(payload);
}

/// Appends a Text frame to `out`. The payload must be valid UTF-8 (not checked).
pub fn encode_text(payload: &[u8], out: &mut Vec<u8>) {
    encode_frame(OpCode::Text, payload, out);
}

/// Appends a Binary frame to `out`.
pub fn encode_binary(payload: &[u8], out: &mut Vec<u8>) {
    encode_frame(OpCode::Binary, payload, out);
}

/// Appends a Ping frame to `out` (payload at most 125 bytes).
pub fn encode_ping(payload: &[u8], out: &mut Vec<u8>) {
    encode_frame(OpCode::Ping, payload, out);
}

/// Appends a Pong frame to `out` (payload at most 125 bytes; echo the Ping's payload).
pub fn encode_pong(payload: &[u8], out: &mut Vec<u8>) {
    encode_frame(OpCode::Pong, payload, out);
}

/// Appends a Close frame with `code` and `reason` to `out`. The reason is truncated on a
/// char boundary so that the payload fits in 125 bytes (at most 123 bytes of reason).
///
/// `code` should be valid per RFC 6455 §7.4 (see [`super::is_valid_close_code`]); the
/// application range 4000–4999 is used for Papo's own codes.
pub fn encode_close(code: u16, reason: &str, out: &mut Vec<u8>) {
    let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = &reason.as_bytes()[..end];
    let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
    payload[..2].copy_from_slice(&code.to_be_bytes());
    payload[2..2 + reason.len()].copy_from_slice(reason);
    encode_frame(OpCode::Close, &payload[..2 + reason.len()], out);
}
