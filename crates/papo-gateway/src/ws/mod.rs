//! A sans-IO WebSocket (RFC 6455) server-side codec with small, bounded buffers.
//!
//! Nothing here touches a socket. The driver reads bytes into whatever buffer it likes
//! (a stack or thread-local buffer), hands them to [`Decoder::feed`], and gets complete
//! [`Message`]s back. Outgoing frames are produced by the `encode_*` functions (or
//! [`frame_header`] + the payload), so one encoded frame can be shared by many connections.
//!
//! # Memory
//!
//! A [`Decoder`] is a few dozen bytes inline plus one `Vec<u8>` that only holds data while a
//! frame or a fragmented message is partially received. A complete unfragmented data frame
//! is unmasked straight into the buffer that becomes the [`Message`] (one copy, one
//! allocation), and that buffer is moved out, so the decoder is left with no heap allocation.
//! When [`Decoder::is_idle`] is true, [`Decoder::shrink`] releases whatever capacity remains.
//!
//! # Driver duties
//!
//! - Handshake: answer the HTTP upgrade with `Sec-WebSocket-Accept: accept_key(key)`; no
//!   extension (e.g. `permessage-deflate`) may be negotiated, since reserved bits are rejected.
//! - [`Message::Ping`]: reply with [`encode_pong`] carrying the same payload.
//! - [`Message::Pong`]: may be ignored (or used as a liveness signal).
//! - [`Message::Close`]: reply with a Close frame (echo the code, or 1000 when there was none)
//!   unless one was already sent, then close the TCP connection. The decoder ignores all
//!   input after a Close frame.
//! - `Err(e)` from [`Decoder::feed`]: send `encode_close(e.close_code(), "")` (or the
//!   application's own code) and close the connection. Messages pushed to `out` before the
//!   error were valid. The decoder stays failed: later calls return the same error.

mod decoder;
mod encoder;
mod handshake;
#[cfg(test)]
pub(crate) mod tests;

pub use decoder::Decoder;
pub use encoder::{
    MAX_HEADER_LEN, encode_binary, encode_close, encode_frame, encode_ping, encode_pong,
    encode_text, encoded_len, frame_header,
};
pub use handshake::{GUID, accept_key};

/// Largest payload of a control frame (Close, Ping, Pong), per RFC 6455 §5.5.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame opcode (RFC 6455 §5.2). Reserved opcodes are not representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// `0x0`: continuation of a fragmented data message.
    Continuation = 0x0,
    /// `0x1`: first frame of a text message.
    Text = 0x1,
    /// `0x2`: first frame of a binary message.
    Binary = 0x2,
    /// `0x8`: connection close.
    Close = 0x8,
    /// `0x9`: ping.
    Ping = 0x9,
    /// `0xA`: pong.
    Pong = 0xA,
}

impl OpCode {
    /// Parses the low 4 bits of a frame's first byte; `None` for reserved opcodes (3–7, 0xB–0xF).
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// The wire value of this opcode.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// True for Close, Ping and Pong.
    pub fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// A complete message received from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message, reassembled from its fragments and validated as UTF-8.
    Text(String),
    /// A binary message, reassembled from its fragments.
    Binary(Vec<u8>),
    /// A ping (payload ≤ 125 bytes); answer with [`encode_pong`] and the same payload.
    Ping(Vec<u8>),
    /// A pong (payload ≤ 125 bytes).
    Pong(Vec<u8>),
    /// A close frame: the status code (`None` if the payload was empty) and the UTF-8 reason.
    /// The code, when present, is valid per RFC 6455 §7.4.
    Close(Option<u16>, String),
}

/// A violation of RFC 6455 by the client. The connection must be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ProtocolError {
    /// A frame's declared length, or the reassembled message, exceeds the decoder's limit.
    #[error("message too large")]
    TooLarge,
    /// A client frame without the mask bit.
    #[error("unmasked client frame")]
    Unmasked,
    /// A reserved bit (RSV1–3) was set, but no extension was negotiated.
    #[error("reserved bits set")]
    ReservedBits,
    /// A reserved opcode (3–7 or 0xB–0xF).
    #[error("reserved opcode")]
    BadOpcode,
    /// A 64-bit payload length with the most significant bit set.
    #[error("invalid payload length")]
    InvalidLength,
    /// A control frame with a payload longer than 125 bytes.
    #[error("control frame payload longer than 125 bytes")]
    ControlTooLong,
    /// A control frame without the FIN bit.
    #[error("fragmented control frame")]
    FragmentedControl,
    /// A continuation frame while no fragmented message was in progress.
    #[error("continuation frame without a message in progress")]
    UnexpectedContinuation,
    /// A new Text or Binary frame while a fragmented message was still in progress.
    #[error("expected a continuation frame")]
    ExpectedContinuation,
    /// A text message or a close reason that is not valid UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// A Close frame with a 1-byte payload (a truncated status code).
    #[error("close frame payload of 1 byte")]
    BadClosePayload,
    /// A Close frame whose status code may not be sent on the wire (RFC 6455 §7.4).
    #[error("invalid close code")]
    BadCloseCode,
}

impl ProtocolError {
    /// The RFC 6455 close code to send for this error: 1009 for [`ProtocolError::TooLarge`],
    /// 1007 for [`ProtocolError::InvalidUtf8`], 1002 (protocol error) otherwise.
    pub fn close_code(&self) -> u16 {
        match self {
            Self::TooLarge => 1009,
            Self::InvalidUtf8 => 1007,
            _ => 1002,
        }
    }
}

/// True if `code` may appear in a Close frame on the wire (RFC 6455 §7.4):
/// 1000–1003, 1007–1011 and 3000–4999.
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999)
}
