//! `docs/gateway.md` must name every op, event and close code the types define.

use papo_gateway::protocol::{CloseCode, EventKind};

fn doc() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/gateway.md"
    ))
    .expect("docs/gateway.md")
}

#[test]
fn every_event_and_close_code_is_documented() {
    let doc = doc();
    for kind in [
        EventKind::UserUpdated,
        EventKind::PresenceUpdated,
        EventKind::TypingStarted,
    ] {
        assert!(
            doc.contains(&format!("`{}`", kind.name())),
            "{} undocumented",
            kind.name()
        );
    }
    for code in [
        CloseCode::AuthenticationFailed,
        CloseCode::InvalidFrame,
        CloseCode::RateLimited,
        CloseCode::HeartbeatTimeout,
        CloseCode::SlowConsumer,
        CloseCode::TooManyConnections,
        CloseCode::SessionReplaced,
        CloseCode::GoingAway,
    ] {
        assert!(
            doc.contains(&format!("| {} |", code.code())),
            "close code {} undocumented",
            code.code()
        );
    }
}

#[test]
fn every_op_is_documented() {
    let doc = doc();
    for op in [
        "identify",
        "resume",
        "heartbeat",
        "presence_update",
        "typing_start",
        "message_create",
        "hello",
        "ready",
        "heartbeat_ack",
        "event",
        "resumed",
        "invalid_session",
        "message_ack",
        "error",
    ] {
        assert!(doc.contains(&format!("| `{op}` |")), "op {op} undocumented");
    }
}
