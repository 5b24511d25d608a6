//! Tests of the codec, with a small client-side (masking) encoder.

use super::*;

const KIB16: usize = 16 * 1024;
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// How the client encodes the payload length.
#[derive(Clone, Copy)]
enum Len {
    /// The shortest form.
    Minimal,
    /// Always the 16-bit extended form (126).
    Ext16,
    /// Always the 64-bit extended form (127).
    Ext64,
}

/// A client frame with a raw first byte (FIN/RSV/opcode), an optional mask and a length form.
fn raw_frame(b0: u8, payload: &[u8], mask: Option<[u8; 4]>, len: Len) -> Vec<u8> {
    let mut out = vec![b0];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let n = payload.len();
    match len {
        Len::Minimal if n < 126 => out.push(mask_bit | n as u8),
        Len::Minimal if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        Len::Ext16 => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        Len::Minimal | Len::Ext64 => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(m) => {
            out.extend_from_slice(&m);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A masked client frame with the shortest length form.
fn frame_m(fin: bool, opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    raw_frame(
        u8::from(fin) << 7 | opcode,
        payload,
        Some(mask),
        Len::Minimal,
    )
}

fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame_m(fin, opcode, payload, MASK)
}

/// A masked client text frame (also the driver's tests' client).
pub(crate) fn text(s: &str) -> Vec<u8> {
    frame(true, 1, s.as_bytes())
}

fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

fn decode(max: usize, bytes: &[u8]) -> Result<Vec<Message>, ProtocolError> {
    let mut d = Decoder::new(max);
    let mut out = Vec::new();
    d.feed(bytes, &mut out)?;
    Ok(out)
}

/// Feeds `bytes` cut at the given (increasing) offsets.
fn decode_split(max: usize, bytes: &[u8], cuts: &[usize]) -> Result<Vec<Message>, ProtocolError> {
    let mut d = Decoder::new(max);
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        d.feed(&bytes[start..cut], &mut out)?;
        start = cut;
    }
    assert!(d.is_idle(), "decoder not idle after a complete stream");
    Ok(out)
}

fn decode_bytewise(max: usize, bytes: &[u8]) -> Result<Vec<Message>, ProtocolError> {
    let cuts: Vec<usize> = (1..bytes.len()).collect();
    decode_split(max, bytes, &cuts)
}

fn t(s: &str) -> Message {
    Message::Text(s.to_owned())
}

/// Tiny deterministic PRNG for the fuzz-like tests.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

// ---------------------------------------------------------------- handshake

mod rules;
mod stream;
