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

fn text(s: &str) -> Vec<u8> {
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

#[test]
fn accept_key_rfc_example() {
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert_eq!(
        accept_key(b" dGhlIHNhbXBsZSBub25jZQ== "),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

// ---------------------------------------------------------------- decoding

#[test]
fn rfc_example_masked_hello() {
    // RFC 6455 §5.7: a single-frame masked text message containing "Hello".
    let bytes = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(decode(KIB16, &bytes).unwrap(), vec![t("Hello")]);
    assert_eq!(text("Hello"), bytes);
}

#[test]
fn single_text_frame() {
    assert_eq!(
        decode(KIB16, &text("{\"op\":\"heartbeat\"}")).unwrap(),
        vec![t("{\"op\":\"heartbeat\"}")]
    );
    assert_eq!(decode(KIB16, &text("")).unwrap(), vec![t("")]);
}

#[test]
fn unfragmented_message_is_one_exact_allocation() {
    let mut d = Decoder::new(KIB16);
    let mut out = Vec::new();
    d.feed(&frame(true, 2, &pattern(1000)), &mut out).unwrap();
    let Some(Message::Binary(data)) = out.pop() else {
        panic!("expected a binary message")
    };
    assert_eq!(data, pattern(1000));
    assert_eq!(data.capacity(), 1000);
    assert_eq!(d.buffered_capacity(), 0);
}

#[test]
fn binary_ping_pong() {
    let mut bytes = frame(true, 2, &[0, 1, 2, 255]);
    bytes.extend(frame(true, 9, b"ping!"));
    bytes.extend(frame(true, 0xA, b""));
    assert_eq!(
        decode(KIB16, &bytes).unwrap(),
        vec![
            Message::Binary(vec![0, 1, 2, 255]),
            Message::Ping(b"ping!".to_vec()),
            Message::Pong(vec![])
        ]
    );
}

/// A stream covering fragmentation, a UTF-8 char split across fragments, interleaved
/// control frames, several masks, extended lengths and a final close.
fn mixed_stream() -> (Vec<u8>, Vec<Message>) {
    let mut b = Vec::new();
    b.extend(text("héllo"));
    // "añb€" split inside 'ñ' (2 bytes) and inside '€' (3 bytes).
    let s = "añb€".as_bytes();
    b.extend(frame_m(false, 1, &s[..2], [1, 2, 3, 4]));
    b.extend(frame_m(true, 9, b"mid", [9, 8, 7, 6]));
    b.extend(frame_m(false, 0, &s[2..5], [0xff, 0, 0xff, 0]));
    b.extend(frame_m(false, 0, &[], [5, 5, 5, 5]));
    b.extend(frame_m(true, 0xA, b"", [1, 1, 1, 1]));
    b.extend(frame_m(true, 0, &s[5..], [0xde, 0xad, 0xbe, 0xef]));
    b.extend(raw_frame(
        0x82,
        &pattern(200),
        Some([3, 1, 4, 1]),
        Len::Minimal,
    ));
    b.extend(raw_frame(0x81, b"long form", Some(MASK), Len::Ext64));
    b.extend(frame(true, 8, &close_payload(1000, b"bye")));
    let expected = vec![
        t("héllo"),
        Message::Ping(b"mid".to_vec()),
        Message::Pong(vec![]),
        t("añb€"),
        Message::Binary(pattern(200)),
        t("long form"),
        Message::Close(Some(1000), "bye".to_owned()),
    ];
    (b, expected)
}

#[test]
fn several_frames_in_one_feed() {
    let (bytes, expected) = mixed_stream();
    assert_eq!(decode(KIB16, &bytes).unwrap(), expected);
}

#[test]
fn one_byte_at_a_time() {
    let (bytes, expected) = mixed_stream();
    assert_eq!(decode_bytewise(KIB16, &bytes).unwrap(), expected);
}

#[test]
fn every_split_point() {
    let (bytes, expected) = mixed_stream();
    for i in 0..=bytes.len() {
        assert_eq!(
            decode_split(KIB16, &bytes, &[i]).unwrap(),
            expected,
            "split at {i}"
        );
    }
}

#[test]
fn every_pair_of_split_points() {
    let mut bytes = frame_m(false, 1, "xé".as_bytes(), [1, 2, 3, 4]);
    bytes.extend(frame_m(true, 9, b"p", [5, 6, 7, 8]));
    bytes.extend(frame_m(true, 0, "€yz".as_bytes(), [9, 10, 11, 12]));
    bytes.extend(raw_frame(
        0x82,
        b"abcdefghij",
        Some([0x10, 0x20, 0x30, 0x40]),
        Len::Ext16,
    ));
    let expected = vec![
        Message::Ping(b"p".to_vec()),
        t("xé€yz"),
        Message::Binary(b"abcdefghij".to_vec()),
    ];
    for i in 0..=bytes.len() {
        for j in i..=bytes.len() {
            assert_eq!(
                decode_split(KIB16, &bytes, &[i, j]).unwrap(),
                expected,
                "splits at {i}, {j}"
            );
        }
    }
}

#[test]
fn random_chunks_large_and_fragmented() {
    let mut rng = Lcg(42);
    let mut bytes = Vec::new();
    let mut expected = Vec::new();
    for k in 0..40 {
        let mask = [
            rng.next() as u8,
            rng.next() as u8,
            rng.next() as u8,
            rng.next() as u8,
        ];
        let len = match k % 4 {
            0 => rng.below(126),
            1 => 126 + rng.below(1000),
            2 => 65_536 + rng.below(10_000),
            _ => rng.below(300),
        };
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if k % 3 == 0 && len > 3 {
            // Fragment in three, with a ping after the first fragment.
            let (a, b) = (len / 3, 2 * len / 3);
            bytes.extend(frame_m(false, 2, &data[..a], mask));
            bytes.extend(frame_m(true, 9, &data[..a.min(125)], mask));
            bytes.extend(frame_m(false, 0, &data[a..b], [mask[1], 0, 0, 1]));
            bytes.extend(frame_m(true, 0, &data[b..], [7, mask[2], 7, 7]));
            expected.push(Message::Ping(data[..a.min(125)].to_vec()));
        } else {
            bytes.extend(frame_m(true, 2, &data, mask));
        }
        expected.push(Message::Binary(data));
    }
    for seed in 0..20 {
        let mut rng = Lcg(seed);
        let mut cuts = Vec::new();
        let mut pos = 0;
        loop {
            pos += 1 + rng.below(if seed % 2 == 0 { 17 } else { 9000 });
            if pos >= bytes.len() {
                break;
            }
            cuts.push(pos);
        }
        assert_eq!(
            decode_split(100_000, &bytes, &cuts).unwrap(),
            expected,
            "seed {seed}"
        );
    }
}

#[test]
fn extended_lengths() {
    let p200 = pattern(200);
    let bytes = frame(true, 2, &p200);
    assert_eq!(bytes[1], 0x80 | 126);
    assert_eq!(
        decode(KIB16, &bytes).unwrap(),
        vec![Message::Binary(p200.clone())]
    );
    assert_eq!(
        decode_bytewise(KIB16, &bytes).unwrap(),
        vec![Message::Binary(p200)]
    );

    let p70k = pattern(70_000);
    let bytes = frame(true, 2, &p70k);
    assert_eq!(bytes[1], 0x80 | 127);
    assert_eq!(
        decode(70_000, &bytes).unwrap(),
        vec![Message::Binary(p70k.clone())]
    );
    assert_eq!(
        decode_split(70_000, &bytes, &[1, 5, 11, 13, 14, 15, 1000, 65_537]).unwrap(),
        vec![Message::Binary(p70k.clone())]
    );
    assert_eq!(decode(69_999, &bytes), Err(ProtocolError::TooLarge));

    let s: String = "€".repeat(30_000);
    assert_eq!(decode(90_000, &text(&s)).unwrap(), vec![t(&s)]);
}

#[test]
fn non_minimal_lengths_accepted() {
    for len in [Len::Ext16, Len::Ext64] {
        let bytes = raw_frame(0x81, b"hi", Some(MASK), len);
        assert_eq!(decode(KIB16, &bytes).unwrap(), vec![t("hi")]);
        assert_eq!(decode_bytewise(KIB16, &bytes).unwrap(), vec![t("hi")]);
        let bytes = raw_frame(0x89, b"", Some(MASK), Len::Minimal);
        assert_eq!(decode(KIB16, &bytes).unwrap(), vec![Message::Ping(vec![])]);
    }
}

#[test]
fn size_limit_exact() {
    let ok = pattern(KIB16);
    assert_eq!(
        decode(KIB16, &frame(true, 2, &ok)).unwrap(),
        vec![Message::Binary(ok)]
    );
    assert_eq!(
        decode(KIB16, &frame(true, 2, &pattern(KIB16 + 1))),
        Err(ProtocolError::TooLarge)
    );
    assert_eq!(
        decode(0, &frame(true, 2, b"x")),
        Err(ProtocolError::TooLarge)
    );
    assert_eq!(decode(0, &text("")).unwrap(), vec![t("")]);
    // Control frames are not subject to the message limit.
    assert_eq!(
        decode(0, &frame(true, 9, b"ping")).unwrap(),
        vec![Message::Ping(b"ping".to_vec())]
    );
}

#[test]
fn too_large_declared_length_rejected_before_buffering() {
    // Header only: 64-bit length of 1 TiB, then the mask key; no payload at all.
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 40).to_be_bytes());
    header.extend_from_slice(&MASK);
    let mut d = Decoder::new(KIB16);
    let mut out = Vec::new();
    assert_eq!(d.feed(&header, &mut out), Err(ProtocolError::TooLarge));
    assert_eq!(d.buffered_capacity(), 0);

    // Same, byte by byte: the error comes with the last mask byte, nothing buffered.
    let mut d = Decoder::new(KIB16);
    for &b in &header[..header.len() - 1] {
        d.feed(&[b], &mut out).unwrap();
        assert_eq!(d.buffered_capacity(), 0);
    }
    assert_eq!(
        d.feed(&header[header.len() - 1..], &mut out),
        Err(ProtocolError::TooLarge)
    );

    // 16-bit length just above the limit.
    let mut header = vec![0x81, 0x80 | 126];
    header.extend_from_slice(&(KIB16 as u16 + 1).to_be_bytes());
    header.extend_from_slice(&MASK);
    assert_eq!(decode(KIB16, &header), Err(ProtocolError::TooLarge));
    assert!(out.is_empty());
}

#[test]
fn top_bit_length_invalid() {
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 63 | 5).to_be_bytes());
    header.extend_from_slice(&MASK);
    header.extend_from_slice(b"hello");
    assert_eq!(
        decode(usize::MAX, &header),
        Err(ProtocolError::InvalidLength)
    );
}

#[test]
fn reassembled_size_limit() {
    let mut bytes = frame(false, 1, &[b'a'; 10_000]);
    assert_eq!(decode(KIB16, &bytes).unwrap(), vec![]);
    bytes.extend(frame(true, 0, &[b'b'; 6_384]));
    assert_eq!(decode(KIB16, &bytes).unwrap().len(), 1);
    let mut bytes = frame(false, 1, &[b'a'; 10_000]);
    bytes.extend(frame(true, 0, &[b'b'; 6_385]));
    assert_eq!(decode(KIB16, &bytes), Err(ProtocolError::TooLarge));
    // Many tiny fragments also count.
    let mut bytes = Vec::new();
    bytes.extend(frame(false, 2, b"0123456789"));
    for _ in 0..10 {
        bytes.extend(frame(false, 0, b"0123456789"));
    }
    assert_eq!(decode(105, &bytes), Err(ProtocolError::TooLarge));
    assert_eq!(decode(110, &bytes).unwrap(), vec![]);
}

#[test]
fn fragmented_text_reassembly() {
    // "€" (E2 82 AC) split across three fragments, one byte each.
    let e = "€".as_bytes();
    let mut bytes = frame(false, 1, &e[..1]);
    bytes.extend(frame(false, 0, &e[1..2]));
    bytes.extend(frame(true, 9, b"keepalive"));
    bytes.extend(frame(true, 0, &e[2..]));
    let expected = vec![Message::Ping(b"keepalive".to_vec()), t("€")];
    assert_eq!(decode(KIB16, &bytes).unwrap(), expected);
    assert_eq!(decode_bytewise(KIB16, &bytes).unwrap(), expected);

    // Fragmented binary, with a close in the middle: the partial message is dropped.
    let mut bytes = frame(false, 2, b"ab");
    bytes.extend(frame(true, 8, &close_payload(1001, b"")));
    bytes.extend(frame(true, 0, b"cd"));
    assert_eq!(
        decode(KIB16, &bytes).unwrap(),
        vec![Message::Close(Some(1001), String::new())]
    );
}

#[test]
fn invalid_utf8() {
    assert_eq!(
        decode(KIB16, &frame(true, 1, &[0xff, b'a'])),
        Err(ProtocolError::InvalidUtf8)
    );
    // Truncated sequence at the end of a fragmented message.
    let mut bytes = frame(false, 1, b"ok");
    bytes.extend(frame(true, 0, &"€".as_bytes()[..2]));
    assert_eq!(decode(KIB16, &bytes), Err(ProtocolError::InvalidUtf8));
    // Overlong encoding / surrogate.
    assert_eq!(
        decode(KIB16, &frame(true, 1, &[0xc0, 0xaf])),
        Err(ProtocolError::InvalidUtf8)
    );
    assert_eq!(
        decode(KIB16, &frame(true, 1, &[0xed, 0xa0, 0x80])),
        Err(ProtocolError::InvalidUtf8)
    );
    // Binary is not validated.
    assert_eq!(
        decode(KIB16, &frame(true, 2, &[0xff])).unwrap(),
        vec![Message::Binary(vec![0xff])]
    );
    assert_eq!(ProtocolError::InvalidUtf8.close_code(), 1007);
}

#[test]
fn unmasked_frame() {
    let bytes = raw_frame(0x81, b"hi", None, Len::Minimal);
    assert_eq!(decode(KIB16, &bytes), Err(ProtocolError::Unmasked));
    // Detected from the first two bytes.
    let mut d = Decoder::new(KIB16);
    let mut out = Vec::new();
    d.feed(&bytes[..1], &mut out).unwrap();
    assert_eq!(d.feed(&bytes[1..2], &mut out), Err(ProtocolError::Unmasked));
    let unmasked_ping = raw_frame(0x89, b"", None, Len::Minimal);
    assert_eq!(decode(KIB16, &unmasked_ping), Err(ProtocolError::Unmasked));
}

#[test]
fn reserved_bits() {
    for rsv in [0x40, 0x20, 0x10] {
        let bytes = raw_frame(0x80 | rsv | 1, b"hi", Some(MASK), Len::Minimal);
        assert_eq!(decode(KIB16, &bytes), Err(ProtocolError::ReservedBits));
    }
}

#[test]
fn bad_opcodes() {
    for op in (3..=7).chain(0xB..=0xF) {
        let bytes = frame(true, op, b"");
        assert_eq!(
            decode(KIB16, &bytes),
            Err(ProtocolError::BadOpcode),
            "opcode {op}"
        );
    }
}

#[test]
fn control_frame_rules() {
    for op in [8, 9, 0xA] {
        let long = frame(true, op, &[b'a'; 126]);
        assert_eq!(decode(KIB16, &long), Err(ProtocolError::ControlTooLong));
        let long16 = raw_frame(0x80 | op, b"a", Some(MASK), Len::Ext16);
        assert_eq!(decode(KIB16, &long16), Err(ProtocolError::ControlTooLong));
        let fragmented = frame(false, op, b"");
        assert_eq!(
            decode(KIB16, &fragmented),
            Err(ProtocolError::FragmentedControl)
        );
    }
    let max = pattern(125);
    assert_eq!(
        decode(KIB16, &frame(true, 9, &max)).unwrap(),
        vec![Message::Ping(max.clone())]
    );
    assert_eq!(
        decode_bytewise(KIB16, &frame(true, 0xA, &max)).unwrap(),
        vec![Message::Pong(max)]
    );
}

#[test]
fn continuation_rules() {
    assert_eq!(
        decode(KIB16, &frame(true, 0, b"x")),
        Err(ProtocolError::UnexpectedContinuation)
    );
    assert_eq!(
        decode(KIB16, &frame(false, 0, b"x")),
        Err(ProtocolError::UnexpectedContinuation)
    );
    // After a complete message, a continuation is unexpected again.
    let mut bytes = frame(false, 1, b"a");
    bytes.extend(frame(true, 0, b"b"));
    bytes.extend(frame(true, 0, b"c"));
    assert_eq!(
        decode(KIB16, &bytes),
        Err(ProtocolError::UnexpectedContinuation)
    );

    for op in [1, 2] {
        let mut bytes = frame(false, 1, b"a");
        bytes.extend(frame(true, op, b"b"));
        assert_eq!(
            decode(KIB16, &bytes),
            Err(ProtocolError::ExpectedContinuation)
        );
        assert_eq!(
            decode_bytewise(KIB16, &bytes),
            Err(ProtocolError::ExpectedContinuation)
        );
    }
}

#[test]
fn close_frames() {
    assert_eq!(
        decode(
            KIB16,
            &frame(true, 8, &close_payload(4000, "au revoir ✓".as_bytes()))
        )
        .unwrap(),
        vec![Message::Close(Some(4000), "au revoir ✓".to_owned())]
    );
    assert_eq!(
        decode(KIB16, &frame(true, 8, b"")).unwrap(),
        vec![Message::Close(None, String::new())]
    );
    assert_eq!(
        decode(KIB16, &frame(true, 8, &[0x03])),
        Err(ProtocolError::BadClosePayload)
    );
    assert_eq!(
        decode(KIB16, &frame(true, 8, &close_payload(1000, &[0xff]))),
        Err(ProtocolError::InvalidUtf8)
    );
    let valid = [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ];
    let invalid = [
        0, 999, 1004, 1005, 1006, 1012, 1015, 1016, 2000, 2999, 5000, 65535,
    ];
    for code in valid {
        assert_eq!(
            decode(KIB16, &frame(true, 8, &close_payload(code, b""))).unwrap(),
            vec![Message::Close(Some(code), String::new())]
        );
    }
    for code in invalid {
        assert_eq!(
            decode(KIB16, &frame(true, 8, &close_payload(code, b""))),
            Err(ProtocolError::BadCloseCode)
        );
    }
}

#[test]
fn input_after_close_is_ignored() {
    let mut bytes = frame(true, 8, &close_payload(1000, b""));
    bytes.extend(text("ignored"));
    bytes.extend([0xff, 0xff, 0xff]);
    let mut d = Decoder::new(KIB16);
    let mut out = Vec::new();
    d.feed(&bytes, &mut out).unwrap();
    d.feed(&text("also ignored"), &mut out).unwrap();
    assert_eq!(out, vec![Message::Close(Some(1000), String::new())]);
    assert!(d.is_closed());
    assert!(d.is_idle());
    assert_eq!(d.buffered_capacity(), 0);
}

#[test]
fn errors_are_sticky_and_keep_earlier_messages() {
    let mut bytes = text("first");
    bytes.extend(frame(true, 3, b""));
    let mut d = Decoder::new(KIB16);
    let mut out = Vec::new();
    assert_eq!(d.feed(&bytes, &mut out), Err(ProtocolError::BadOpcode));
    assert_eq!(out, vec![t("first")]);
    assert_eq!(
        d.feed(&text("later"), &mut out),
        Err(ProtocolError::BadOpcode)
    );
    assert_eq!(out.len(), 1);
    assert_eq!(d.buffered_capacity(), 0);
}

#[test]
fn close_codes_of_errors() {
    assert_eq!(ProtocolError::TooLarge.close_code(), 1009);
    assert_eq!(ProtocolError::InvalidUtf8.close_code(), 1007);
    for e in [
        ProtocolError::Unmasked,
        ProtocolError::ReservedBits,
        ProtocolError::BadOpcode,
        ProtocolError::InvalidLength,
        ProtocolError::ControlTooLong,
        ProtocolError::FragmentedControl,
        ProtocolError::UnexpectedContinuation,
        ProtocolError::ExpectedContinuation,
        ProtocolError::BadClosePayload,
        ProtocolError::BadCloseCode,
    ] {
        assert_eq!(e.close_code(), 1002);
    }
}

#[test]
fn decoder_is_small() {
    let size = std::mem::size_of::<Decoder>();
    assert!(size <= 64, "Decoder is {size} bytes");
}

#[test]
fn idle_and_shrink() {
    let mut d = Decoder::new(KIB16);
    let mut out = Vec::new();
    assert!(d.is_idle());
    assert_eq!(d.buffered_capacity(), 0);

    // A whole unfragmented message leaves no allocation behind.
    d.feed(&text("hello"), &mut out).unwrap();
    assert!(d.is_idle());
    assert_eq!(d.buffered_capacity(), 0);

    // A partial header is kept inline.
    let bytes = frame(
        true,
        1,
        &pattern(300)
            .iter()
            .map(|b| b'a' + b % 26)
            .collect::<Vec<_>>(),
    );
    d.feed(&bytes[..3], &mut out).unwrap();
    assert!(!d.is_idle());
    assert_eq!(d.buffered_capacity(), 0);
    // A partial payload is buffered.
    d.feed(&bytes[3..100], &mut out).unwrap();
    assert!(!d.is_idle());
    assert!(d.buffered_capacity() > 0);
    d.feed(&bytes[100..], &mut out).unwrap();
    assert!(d.is_idle());
    assert_eq!(d.buffered_capacity(), 0);
    assert_eq!(out.len(), 2);

    // A fragmented message in progress is not idle, even between frames.
    d.feed(&frame(false, 1, b"part"), &mut out).unwrap();
    assert!(!d.is_idle());
    d.feed(&frame(true, 0, b"s"), &mut out).unwrap();
    assert_eq!(out.last(), Some(&t("parts")));
    assert!(d.is_idle());

    let mut pieces = frame(false, 2, b"abc");
    pieces.extend(frame(true, 9, b"ping"));
    let cut = pieces.len() - 2;
    d.feed(&pieces[..cut], &mut out).unwrap();
    d.feed(&pieces[cut..], &mut out).unwrap();
    assert!(!d.is_idle());
    d.shrink();
    assert!(d.buffered_capacity() >= 3);
    d.feed(&frame(true, 0, b""), &mut out).unwrap();
    assert_eq!(out.last(), Some(&Message::Binary(b"abc".to_vec())));
    assert!(d.is_idle());
    d.shrink();
    assert_eq!(d.buffered_capacity(), 0);
}

// ---------------------------------------------------------------- encoding

/// Parses a server (unmasked) frame header: (fin, opcode, payload length, header length).
fn parse_server_header(b: &[u8]) -> (bool, u8, usize, usize) {
    assert_eq!(b[1] & 0x80, 0, "server frames are not masked");
    assert_eq!(b[0] & 0x70, 0);
    let (len, hlen) = match b[1] & 0x7f {
        126 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
        127 => (
            u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    (b[0] & 0x80 != 0, b[0] & 0x0f, len, hlen)
}

/// Turns a server frame into the equivalent masked client frame.
fn remask(server: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let (fin, op, len, hlen) = parse_server_header(server);
    assert_eq!(server.len(), hlen + len);
    frame_m(fin, op, &server[hlen..], mask)
}

#[test]
fn encode_text_header_sizes() {
    for (n, expected_header) in [
        (0, 2),
        (125, 2),
        (126, 4),
        (65_535, 4),
        (65_536, 10),
        (70_000, 10),
    ] {
        let payload = vec![b'x'; n];
        let mut out = Vec::new();
        encode_text(&payload, &mut out);
        let (fin, op, len, hlen) = parse_server_header(&out);
        assert!(fin);
        assert_eq!(op, 1);
        assert_eq!(len, n);
        assert_eq!(hlen, expected_header, "payload {n}");
        assert_eq!(out.len(), hlen + n);
        assert_eq!(encoded_len(n), out.len());
        assert_eq!(&out[hlen..], &payload[..]);

        let mut h = [0u8; MAX_HEADER_LEN];
        assert_eq!(frame_header(OpCode::Binary, n, &mut h), expected_header);
        assert_eq!(h[0], 0x82);
        assert_eq!(&h[1..expected_header], &out[1..hlen]);
    }
    // Appends, does not overwrite.
    let mut out = b"prefix".to_vec();
    encode_text(b"hi", &mut out);
    assert_eq!(out, b"prefix\x81\x02hi");
}

#[test]
fn encode_control_frames() {
    let mut out = Vec::new();
    encode_pong(b"abc", &mut out);
    assert_eq!(out, [0x8a, 3, b'a', b'b', b'c']);
    out.clear();
    encode_ping(b"", &mut out);
    assert_eq!(out, [0x89, 0]);
    out.clear();
    encode_binary(&[1, 2], &mut out);
    assert_eq!(out, [0x82, 2, 1, 2]);
    out.clear();
    encode_close(4009, "heartbeat timeout", &mut out);
    assert_eq!(&out[..4], &[0x88, 19, 0x0f, 0xa9]);
    assert_eq!(&out[4..], b"heartbeat timeout");
    assert_eq!(
        decode(KIB16, &remask(&out, MASK)).unwrap(),
        vec![Message::Close(Some(4009), "heartbeat timeout".to_owned())]
    );
}

#[test]
fn encode_close_truncation() {
    let mut out = Vec::new();
    encode_close(1000, &"a".repeat(200), &mut out);
    assert_eq!(out.len(), 2 + 125);
    assert_eq!(out[1], 125);
    assert_eq!(
        decode(KIB16, &remask(&out, MASK)).unwrap(),
        vec![Message::Close(Some(1000), "a".repeat(123))]
    );

    // 2-byte chars: 123 bytes would split one, so 61 chars (122 bytes) are kept.
    out.clear();
    encode_close(4002, &"é".repeat(100), &mut out);
    assert_eq!(out[1], 124);
    assert_eq!(
        decode(KIB16, &remask(&out, MASK)).unwrap(),
        vec![Message::Close(Some(4002), "é".repeat(61))]
    );

    // 3- and 4-byte chars.
    for (s, keep) in [("€", 41), ("😀", 30)] {
        out.clear();
        encode_close(1001, &s.repeat(100), &mut out);
        assert_eq!(
            decode(KIB16, &remask(&out, MASK)).unwrap(),
            vec![Message::Close(Some(1001), s.repeat(keep))]
        );
    }

    out.clear();
    encode_close(1000, "", &mut out);
    assert_eq!(out, [0x88, 2, 0x03, 0xe8]);
}

#[test]
fn round_trip_server_frames_through_decoder() {
    for n in [0, 1, 7, 8, 9, 125, 126, 127, 1000, 65_535, 65_536] {
        let payload: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let mut out = Vec::new();
        encode_text(payload.as_bytes(), &mut out);
        assert_eq!(
            decode(100_000, &remask(&out, [0xa5, 0x5a, 0x0f, 0xf0])).unwrap(),
            vec![t(&payload)]
        );
    }
}

#[test]
fn opcode_helpers() {
    for op in [
        OpCode::Continuation,
        OpCode::Text,
        OpCode::Binary,
        OpCode::Close,
        OpCode::Ping,
        OpCode::Pong,
    ] {
        assert_eq!(OpCode::from_u8(op.as_u8()), Some(op));
        assert_eq!(op.is_control(), op.as_u8() >= 8);
    }
    assert_eq!(OpCode::from_u8(3), None);
    assert!(is_valid_close_code(1000));
    assert!(!is_valid_close_code(1006));
}
