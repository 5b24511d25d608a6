//! Decoding whole streams: splits, lengths, limits, handshake.

use super::*;

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
