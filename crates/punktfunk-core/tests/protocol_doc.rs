//! `docs/protocol.md` must describe the media header exactly as the code encodes it.

use punktfunk_core::wire::media::{self, flags, offset};

fn protocol_doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
    std::fs::read_to_string(path).expect("docs/protocol.md exists")
}

#[test]
fn the_documented_header_layout_matches_the_code() {
    let doc = protocol_doc();
    // Rows of the layout table whose first two cells are numbers: (offset, size).
    let rows: Vec<(usize, usize)> = doc
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", off, size, ..] => Some((off.parse().ok()?, size.parse().ok()?)),
                _ => None,
            }
        })
        .collect();
    let code = [
        (offset::TAG, 1),
        (offset::PACKET_NUMBER, 4),
        (offset::EPOCH, 1),
        (offset::FLAGS, 2),
        (offset::FRAME_INDEX, 4),
        (offset::PTS_US, 8),
        (offset::BLOCK_INDEX, 2),
        (offset::BLOCK_BASE, 4),
        (offset::SHARD_INDEX, 2),
        (offset::DATA_SHARDS, 2),
        (offset::RECOVERY_SHARDS, 2),
        (offset::PADDING, 2),
    ];
    assert_eq!(
        rows, code,
        "docs/protocol.md layout table vs wire::media::offset"
    );
    let (last_off, last_size) = code[code.len() - 1];
    assert_eq!(last_off + last_size, media::HEADER_LEN);
    assert!(doc.contains(&format!("| {} | S | shard", media::HEADER_LEN)));
    assert!(doc.contains(&format!("{}-byte header", media::HEADER_LEN)));
    assert!(doc.contains(&format!("Overhead: {} bytes", media::OVERHEAD)));
    assert!(doc.contains(&format!("`{:#06x}` keyframe", flags::KEYFRAME)));
    assert!(doc.contains(&format!("`{:#06x}` end of frame", flags::END_OF_FRAME)));
    assert!(doc.contains(&format!("over {} bytes", media::MAX_DATAGRAM)));
    assert!(
        doc.contains(&format!("at most\n{} bytes", media::MAX_SHARD_BYTES))
            || doc.contains(&format!("at most {} bytes", media::MAX_SHARD_BYTES))
    );
}

#[test]
fn the_documented_key_labels_match_the_code() {
    use punktfunk_core::wire::keys;
    let doc = protocol_doc();
    for label in [keys::KEY_LABEL, keys::IV_LABEL] {
        let label = std::str::from_utf8(label).unwrap();
        assert!(
            doc.contains(&format!("\"{label}\"")),
            "{label} not in the doc"
        );
    }
    assert!(doc.contains(&format!("pn >> {}", keys::KEY_INDEX_SHIFT)));
}

#[test]
fn the_documented_control_messages_match_the_code() {
    use punktfunk_core::wire::control::{self, msg};
    let doc = protocol_doc();
    for (kind, name) in [
        (msg::HELLO, "Hello"),
        (msg::WELCOME, "Welcome"),
        (msg::READY, "Ready"),
        (msg::RECONFIGURE, "Reconfigure"),
        (msg::RECONFIGURED, "Reconfigured"),
        (msg::SET_BITRATE, "SetBitrate"),
        (msg::BITRATE_CHANGED, "BitrateChanged"),
        (msg::CLOCK_PROBE, "ClockProbe"),
        (msg::CLOCK_ECHO, "ClockEcho"),
        (msg::KEYFRAME_REQUEST, "KeyframeRequest"),
        (msg::RFI_REQUEST, "RfiRequest"),
        (msg::FEEDBACK, "Feedback"),
        (msg::INPUT_EVENT, "InputEvent"),
        (msg::PAD_STATE, "PadState"),
        (msg::PAD_REMOVED, "PadRemoved"),
        (msg::RUMBLE, "Rumble"),
        (msg::PAD_TOUCH, "PadTouch"),
        (msg::PAD_MOTION, "PadMotion"),
        (msg::PAD_LIGHTS, "PadLights"),
        (msg::PAD_TRIGGERS, "PadTriggers"),
    ] {
        let row = format!("| {kind:#04X} | {name} |").replace("0X", "0x");
        assert!(doc.contains(&row), "{row} missing from docs/protocol.md");
    }
    for label in [
        control::EXPORTER_LABEL,
        control::MEDIA_INFO_H2C,
        control::MEDIA_INFO_C2H,
    ] {
        let label = std::str::from_utf8(label).unwrap();
        assert!(doc.contains(label), "{label} missing from docs/protocol.md");
    }
    assert!(doc.contains(&format!("trigger effect [{}]", control::TRIGGER_EFFECT_LEN)));
    assert!(doc.contains(&format!("blue [{}]", control::RGB_LEN)));
    assert!(doc.contains(&format!(
        "ALPN `{}`",
        std::str::from_utf8(control::ALPN).unwrap()
    )));
}

#[test]
fn the_documented_pairing_numbers_match_the_code() {
    use punktfunk_core::wire::{close, control::msg, pairing};
    let doc = protocol_doc();
    for (kind, name) in [
        (msg::PAIR_REQUEST, "PairRequest"),
        (msg::PAIR_CHALLENGE, "PairChallenge"),
        (msg::PAIR_PROOF, "PairProof"),
        (msg::PAIR_RESULT, "PairResult"),
    ] {
        assert!(doc.contains(&format!("| {kind:#04x} | {name} |")), "{name}");
    }
    for code in [
        close::PAIRING_NOT_ARMED,
        close::PAIRING_WRONG_DEVICE,
        close::PAIRING_RATE_LIMITED,
        close::NOT_PAIRED,
        close::PAIRING_DENIED,
    ] {
        assert!(
            doc.contains(&format!("`{code:#04x}`")),
            "close code {code:#x}"
        );
    }
    for label in [pairing::HOST_CONFIRM_LABEL, pairing::CLIENT_CONFIRM_LABEL] {
        assert!(doc.contains(&format!("`{}`", String::from_utf8_lossy(label))));
    }
    assert!(doc.contains(&format!("{} s cooldown", pairing::COOLDOWN_MS / 1000)));
    assert!(doc.contains(&format!("after {} of them", pairing::MAX_FAILED_CEREMONIES)));
    assert!(doc.contains(&format!("default {} s", pairing::DEFAULT_WINDOW_TTL_S)));
    assert!(doc.contains(&format!("{}-digit PIN", pairing::PIN_DIGITS)));
}
