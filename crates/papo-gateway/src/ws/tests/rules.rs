//! RFC 6455 rules: fragmentation, UTF-8, masking, opcodes, control and close frames, encoders.

use super::*;

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
