//! Incremental decoder of client→server frames.

use super::{MAX_CONTROL_PAYLOAD, Message, OpCode, ProtocolError, is_valid_close_code};

const FIN: u8 = 0x80;
const RSV: u8 = 0x70;
const OPCODE: u8 = 0x0F;
const MASKED: u8 = 0x80;
const LEN7: u8 = 0x7F;
/// Longest header of a masked frame: 2 + 8 (64-bit length) + 4 (mask key).
const MAX_MASKED_HEADER: usize = 14;

/// Where the decoder is in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames, or inside a header (the first `header_len` bytes are in `header`).
    Header,
    /// Inside the payload of the frame described by `opcode`/`fin`/`mask`/`remaining`.
    Payload,
    /// A Close frame was received; further input is ignored.
    Closed,
    /// A protocol error was found; every later call returns it.
    Failed(ProtocolError),
}

/// A parsed frame header.
struct Header {
    fin: bool,
    opcode: OpCode,
    len: u32,
    mask: [u8; 4],
}

/// Incremental decoder of client→server frames (masked, RFC 6455, no extensions).
///
/// Feed it bytes as they arrive, split at any point; it appends complete messages to the
/// caller's vector. Its only heap allocation is `buf`, which holds the already-unmasked part
/// of an incomplete frame and the fragments of an incomplete message; it is empty with no
/// capacity once a complete unfragmented message has been handed out, and [`Decoder::shrink`]
/// frees it in other idle cases.
#[derive(Debug)]
pub struct Decoder {
    /// Unmasked data: fragments of the message in progress, then (while in a frame) the
    /// current frame's payload received so far, starting at `frame_start`.
    buf: Vec<u8>,
    /// Payload bytes of the current frame not yet received.
    remaining: u32,
    /// Largest allowed message (reassembled) in bytes.
    max_message: u32,
    /// Offset in `buf` where the current frame's payload starts.
    frame_start: u32,
    /// Mask key of the current frame.
    mask: [u8; 4],
    /// A header received in pieces.
    header: [u8; MAX_MASKED_HEADER],
    /// Bytes used in `header`.
    header_len: u8,
    state: State,
    /// Opcode of the current frame.
    opcode: OpCode,
    /// FIN bit of the current frame.
    fin: bool,
    /// Opcode (Text or Binary) of the fragmented message in progress, if any.
    message: Option<OpCode>,
}

impl Decoder {
    /// A decoder accepting messages of at most `max_message` bytes after reassembly
    /// (e.g. 16 KiB). Values above `u32::MAX` are clamped.
    pub fn new(max_message: usize) -> Self {
        Self {
            buf: Vec::new(),
            remaining: 0,
            max_message: u32::try_from(max_message).unwrap_or(u32::MAX),
            frame_start: 0,
            mask: [0; 4],
            header: [0; MAX_MASKED_HEADER],
            header_len: 0,
            state: State::Header,
            opcode: OpCode::Continuation,
            fin: false,
            message: None,
        }
    }

    /// Feeds bytes read from the socket and appends zero or more complete messages to `out`.
    ///
    /// `bytes` may end anywhere (inside a header, mask key or payload) and may hold several
    /// frames. On error, messages decoded before the faulty frame are left in `out`, the
    /// buffer is freed, and every later call returns the same error. After a
    /// [`Message::Close`], the rest of the input (and all later input) is ignored.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Message>) -> Result<(), ProtocolError> {
        match self.state {
            State::Failed(e) => return Err(e),
            State::Closed => return Ok(()),
            State::Header | State::Payload => {}
        }
        let result = self.feed_inner(bytes, out);
        if let Err(e) = result {
            self.state = State::Failed(e);
            self.buf = Vec::new();
            self.header_len = 0;
            self.message = None;
        }
        result
    }

    /// True if no partial frame or fragmented message is buffered (also true once closed
    /// or failed). Call [`Decoder::shrink`] then to free any remaining capacity.
    pub fn is_idle(&self) -> bool {
        match self.state {
            State::Header => self.header_len == 0 && self.buf.is_empty(),
            State::Payload => false,
            State::Closed | State::Failed(_) => true,
        }
    }

    /// Frees the buffer's capacity (all of it when idle; the unused part otherwise).
    pub fn shrink(&mut self) {
        if self.buf.is_empty() {
            self.buf = Vec::new();
        } else {
            self.buf.shrink_to_fit();
        }
    }

    /// Heap capacity currently held, in bytes (for memory accounting and tests).
    pub fn buffered_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// True once a Close frame has been decoded.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    fn feed_inner(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<Message>,
    ) -> Result<(), ProtocolError> {
        loop {
            match self.state {
                State::Header => {
                    if input.is_empty() {
                        return Ok(());
                    }
                    match self.read_header(&mut input)? {
                        Some(header) => self.start_frame(header, &mut input, out)?,
                        None => return Ok(()),
                    }
                }
                State::Payload => {
                    if input.is_empty() {
                        return Ok(());
                    }
                    self.read_payload(&mut input, out)?;
                }
                State::Closed => return Ok(()),
                State::Failed(e) => return Err(e),
            }
        }
    }

    /// Checks what the first two header bytes alone can tell.
    fn check_start(&self, b0: u8, b1: u8) -> Result<(), ProtocolError> {
        if b0 & RSV != 0 {
            return Err(ProtocolError::ReservedBits);
        }
        let opcode = OpCode::from_u8(b0 & OPCODE).ok_or(ProtocolError::BadOpcode)?;
        if b1 & MASKED == 0 {
            return Err(ProtocolError::Unmasked);
        }
        if opcode.is_control() {
            if b0 & FIN == 0 {
                return Err(ProtocolError::FragmentedControl);
            }
            if usize::from(b1 & LEN7) > MAX_CONTROL_PAYLOAD {
                return Err(ProtocolError::ControlTooLong);
            }
        } else {
            match (opcode, self.message) {
                (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
                (OpCode::Text | OpCode::Binary, Some(_)) => {
                    return Err(ProtocolError::ExpectedContinuation);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads a header from `input` (directly if it is all there, else via `self.header`).
    /// Returns `None` if more bytes are needed.
    fn read_header(&mut self, input: &mut &[u8]) -> Result<Option<Header>, ProtocolError> {
        if self.header_len == 0 && input.len() >= 2 {
            self.check_start(input[0], input[1])?;
            let need = header_size(input[1]);
            if input.len() >= need {
                let header = self.parse_header(&input[..need])?;
                *input = &input[need..];
                return Ok(Some(header));
            }
        }
        loop {
            let have = usize::from(self.header_len);
            let need = if have < 2 {
                2
            } else {
                header_size(self.header[1])
            };
            if have == need {
                let bytes = self.header;
                self.header_len = 0;
                return self.parse_header(&bytes[..need]).map(Some);
            }
            if input.is_empty() {
                return Ok(None);
            }
            let n = (need - have).min(input.len());
            self.header[have..have + n].copy_from_slice(&input[..n]);
            self.header_len += n as u8;
            *input = &input[n..];
            if have < 2 && self.header_len == 2 {
                self.check_start(self.header[0], self.header[1])?;
            }
        }
    }

    /// Parses a complete header whose first two bytes passed [`Self::check_start`].
    fn parse_header(&self, h: &[u8]) -> Result<Header, ProtocolError> {
        let opcode = OpCode::from_u8(h[0] & OPCODE).ok_or(ProtocolError::BadOpcode)?;
        let (len, offset) = match h[1] & LEN7 {
            126 => (u64::from(u16::from_be_bytes([h[2], h[3]])), 4),
            127 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&h[2..10]);
                (u64::from_be_bytes(b), 10)
            }
            n => (u64::from(n), 2),
        };
        if len >> 63 != 0 {
            return Err(ProtocolError::InvalidLength);
        }
        if !opcode.is_control() && self.buf.len() as u64 + len > u64::from(self.max_message) {
            return Err(ProtocolError::TooLarge);
        }
        let mut mask = [0u8; 4];
        mask.copy_from_slice(&h[offset..offset + 4]);
        Ok(Header {
            fin: h[0] & FIN != 0,
            opcode,
            // Control frames are ≤ 125 bytes; data frames ≤ max_message ≤ u32::MAX.
            len: len as u32,
            mask,
        })
    }

    fn start_frame(
        &mut self,
        header: Header,
        input: &mut &[u8],
        out: &mut Vec<Message>,
    ) -> Result<(), ProtocolError> {
        let len = header.len as usize;
        if header.opcode.is_control() && input.len() >= len {
            // Whole control frame present: never touch `buf` (it may hold fragments).
            let mut payload = input[..len].to_vec();
            unmask(&mut payload, header.mask, 0);
            *input = &input[len..];
            return self.finish_control(header.opcode, payload, out);
        }
        self.opcode = header.opcode;
        self.fin = header.fin;
        self.mask = header.mask;
        self.remaining = header.len;
        // `buf.len()` ≤ max_message (checked in parse_header) ≤ u32::MAX.
        self.frame_start = self.buf.len() as u32;
        // Bounded by max_message (data) or 125 (control). An unfragmented message gets
        // exactly one allocation of its size; fragments grow the buffer geometrically.
        if self.buf.is_empty() {
            self.buf.reserve_exact(len);
        } else {
            self.buf.reserve(len);
        }
        self.state = State::Payload;
        if len == 0 {
            self.state = State::Header;
            return self.finish_frame(out);
        }
        Ok(())
    }

    fn read_payload(
        &mut self,
        input: &mut &[u8],
        out: &mut Vec<Message>,
    ) -> Result<(), ProtocolError> {
        let n = (self.remaining as usize).min(input.len());
        let start = self.buf.len();
        let phase = (start - self.frame_start as usize) & 3;
        self.buf.extend_from_slice(&input[..n]);
        unmask(&mut self.buf[start..], self.mask, phase);
        *input = &input[n..];
        self.remaining -= n as u32;
        if self.remaining == 0 {
            self.state = State::Header;
            self.finish_frame(out)?;
        }
        Ok(())
    }

    /// The current frame's payload is complete in `buf[frame_start..]`.
    fn finish_frame(&mut self, out: &mut Vec<Message>) -> Result<(), ProtocolError> {
        if self.opcode.is_control() {
            let start = self.frame_start as usize;
            let payload = if start == 0 {
                std::mem::take(&mut self.buf)
            } else {
                let payload = self.buf[start..].to_vec();
                self.buf.truncate(start);
                payload
            };
            return self.finish_control(self.opcode, payload, out);
        }
        if !self.fin {
            if self.message.is_none() {
                self.message = Some(self.opcode);
            }
            return Ok(());
        }
        let kind = self.message.take().unwrap_or(self.opcode);
        let data = std::mem::take(&mut self.buf);
        out.push(match kind {
            OpCode::Text => {
                Message::Text(String::from_utf8(data).map_err(|_| ProtocolError::InvalidUtf8)?)
            }
            _ => Message::Binary(data),
        });
        Ok(())
    }

    fn finish_control(
        &mut self,
        opcode: OpCode,
        payload: Vec<u8>,
        out: &mut Vec<Message>,
    ) -> Result<(), ProtocolError> {
        match opcode {
            OpCode::Ping => out.push(Message::Ping(payload)),
            OpCode::Pong => out.push(Message::Pong(payload)),
            _ => {
                let (code, reason) = parse_close(payload)?;
                out.push(Message::Close(code, reason));
                self.state = State::Closed;
                self.buf = Vec::new();
                self.message = None;
            }
        }
        Ok(())
    }
}

/// Length of a masked header given its second byte.
fn header_size(b1: u8) -> usize {
    let ext = match b1 & LEN7 {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + 4
}

fn parse_close(mut payload: Vec<u8>) -> Result<(Option<u16>, String), ProtocolError> {
    match payload.len() {
        0 => Ok((None, String::new())),
        1 => Err(ProtocolError::BadClosePayload),
        _ => {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            if !is_valid_close_code(code) {
                return Err(ProtocolError::BadCloseCode);
            }
            payload.drain(..2);
            let reason = String::from_utf8(payload).map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok((Some(code), reason))
        }
    }
}

/// XORs `data` with `mask`, where `data[0]` is payload byte number `phase` (mod 4) of its frame.
fn unmask(data: &mut [u8], mask: [u8; 4], phase: usize) {
    let m = [
        mask[phase & 3],
        mask[(phase + 1) & 3],
        mask[(phase + 2) & 3],
        mask[(phase + 3) & 3],
    ];
    let wide = u64::from_ne_bytes([m[0], m[1], m[2], m[3], m[0], m[1], m[2], m[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    // The remainder starts at a multiple of 8, so its phase is unchanged.
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= m[i & 3];
    }
}
