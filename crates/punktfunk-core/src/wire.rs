//! The one registry of wire numbers: ports, packet tags, header layout, flags, close codes.
//!
//! Every number that crosses the wire is named here and nowhere else. Numbers are never reused:
//! a retired value stays listed with a note.

/// Default UDP/TCP ports.
pub mod ports {
    /// punktfunk/1: QUIC control plane and media datagrams share this UDP port.
    pub const NATIVE_UDP: u16 = 9777;
    /// Management REST API and web console (HTTPS).
    pub const MGMT_HTTPS: u16 = 47990;
    /// GameStream nvhttp, plain HTTP.
    pub const GAMESTREAM_HTTP: u16 = 47989;
    /// GameStream nvhttp, HTTPS with client certificates.
    pub const GAMESTREAM_HTTPS: u16 = 47984;
    /// GameStream RTSP (TCP).
    pub const GAMESTREAM_RTSP: u16 = 48010;
}

/// The media (data-plane) packet: layout constants. See `docs/protocol.md`.
pub mod media {
    /// Mask of the two top bits of the first byte. Media packets keep them clear; every QUIC
    /// packet has at least one of them set (RFC 9443 demultiplexing, greasing disabled).
    pub const QUIC_BITS_MASK: u8 = 0xC0;
    /// Bits 4..5 of the tag: header version. Version 0 is the layout below.
    pub const TAG_VERSION_MASK: u8 = 0x30;
    pub const TAG_VERSION_SHIFT: u8 = 4;
    pub const HEADER_VERSION: u8 = 0;
    /// Bits 0..3 of the tag: the media stream the packet belongs to.
    pub const TAG_STREAM_MASK: u8 = 0x0F;

    /// Clear prefix: tag (1) + low 32 bits of the packet number (4). It is the AEAD's
    /// associated data, so a tampered packet number fails the tag.
    pub const CLEAR_PREFIX_LEN: usize = 5;
    /// Full header: clear prefix + sealed part.
    pub const HEADER_LEN: usize = 34;
    /// AES-128-GCM tag.
    pub const AEAD_TAG_LEN: usize = 16;
    /// Bytes a packet adds to its shard.
    pub const OVERHEAD: usize = HEADER_LEN + AEAD_TAG_LEN;
    /// Largest datagram a receiver accepts (a 9216-byte jumbo payload).
    pub const MAX_DATAGRAM: usize = 9216;
    /// Largest shard that fits `MAX_DATAGRAM` (even, as the GF(2^16) code requires).
    pub const MAX_SHARD_BYTES: usize = (MAX_DATAGRAM - OVERHEAD) & !1;
    /// Smallest shard a receiver accepts by default; smaller frames are padded up to it.
    pub const MIN_SHARD_BYTES: usize = 64;
    /// Default shard: a 1500-byte-MTU IPv4 path (1408 + 50 + 28 = 1486 ≤ 1500).
    pub const DEFAULT_SHARD_BYTES: usize = 1408;

    /// Byte offsets of the header fields (all little-endian).
    pub mod offset {
        pub const TAG: usize = 0;
        pub const PACKET_NUMBER: usize = 1;
        pub const EPOCH: usize = 5;
        pub const FLAGS: usize = 6;
        pub const FRAME_INDEX: usize = 8;
        pub const PTS_US: usize = 12;
        pub const BLOCK_INDEX: usize = 20;
        pub const BLOCK_BASE: usize = 22;
        pub const SHARD_INDEX: usize = 26;
        pub const DATA_SHARDS: usize = 28;
        pub const RECOVERY_SHARDS: usize = 30;
        pub const PADDING: usize = 32;
    }

    /// Media streams (tag bits 0..3).
    pub mod stream {
        pub const VIDEO: u8 = 0;
        /// Reserved: link-probe filler, never decoded.
        pub const PROBE: u8 = 1;
        /// Host → client desktop audio: one Opus packet per frame (`frame_index` = sequence).
        pub const AUDIO: u8 = 2;
        /// Client → host microphone: one Opus packet per frame (`frame_index` = sequence).
        pub const MIC: u8 = 3;
        /// Streams a receiver accepts; each has its own packet-number space and keys.
        pub const KNOWN: [u8; 3] = [VIDEO, AUDIO, MIC];
    }

    /// Header flags (u16).
    pub mod flags {
        /// The frame is a keyframe (IDR): decodable without earlier frames.
        pub const KEYFRAME: u16 = 0x0001;
        /// The block is the frame's last: the frame ends at `(base + k) * shard - padding`.
        pub const END_OF_FRAME: u16 = 0x8000;
        /// Flags the sender may set per frame; the rest are reserved and must be zero.
        pub const FRAME_FLAGS: u16 = KEYFRAME;
        /// Every defined flag.
        pub const KNOWN: u16 = KEYFRAME | END_OF_FRAME;
    }
}

/// Key schedule labels (HKDF-Expand info strings) of the media AEAD.
pub mod keys {
    /// Info prefix of a packet-key derivation; followed by the key index (u64 BE).
    pub const KEY_LABEL: &[u8] = b"punktfunk/1 media key";
    /// Info prefix of an IV derivation; followed by the key index (u64 BE).
    pub const IV_LABEL: &[u8] = b"punktfunk/1 media iv";
    /// A key encrypts at most 2^23 packets (RFC 9001 §6.6 confidentiality limit for
    /// AES-128-GCM); the key index is `packet_number >> KEY_INDEX_SHIFT`.
    pub const KEY_INDEX_SHIFT: u32 = 23;
    pub const PACKETS_PER_KEY: u64 = 1 << KEY_INDEX_SHIFT;
    /// Info prefix of a media stream's own secret, derived from the direction's secret; followed
    /// by the stream number (one byte). Video uses the direction's secret itself. Each stream
    /// counts packet numbers on its own, so each needs its own keys (a nonce is never reused).
    pub const STREAM_LABEL: &[u8] = b"punktfunk/1 media stream";
}

/// Audio on the native plane: desktop audio to the client, the microphone from it.
pub mod audio {
    /// Every Opus stream runs at this rate.
    pub const SAMPLE_RATE: u32 = 48_000;
    /// Desktop audio frame: 5 ms (240 samples per channel).
    pub const FRAME_MS: u8 = 5;
    /// Microphone frame: 10 ms, what voice apps expect.
    pub const MIC_FRAME_MS: u8 = 10;
    /// Channel counts the host sends: stereo, 5.1, 7.1.
    pub const CHANNEL_COUNTS: [u8; 3] = [2, 6, 8];
    /// Most microphone channels a client may send.
    pub const MAX_MIC_CHANNELS: u8 = 2;
    /// Largest Opus packet either side accepts (RFC 6716 caps one frame at 1275 bytes per
    /// stream; 8 streams of a 5 ms frame stay far below this).
    pub const MAX_PACKET_BYTES: usize = 4000;
    /// The multistream layout of a channel count: (streams, coupled streams). The mapping is the
    /// identity; channels are in WAVE order (FL FR FC LFE RL RR SL SR), coupled pairs first.
    pub fn layout(channels: u8) -> Option<(u8, u8)> {
        match channels {
            1 => Some((1, 0)),
            2 => Some((1, 1)),
            6 => Some((4, 2)),
            8 => Some((5, 3)),
            _ => None,
        }
    }
    /// Opus bit rate of a channel count at a quality tier, bit/s.
    pub fn bitrate_bps(channels: u8, tier: Tier) -> u32 {
        let per_pair = match tier {
            Tier::Low => 48_000,
            Tier::Standard => 96_000,
            Tier::High => 128_000,
        };
        per_pair * u32::from(channels.max(2)) / 2
    }
    /// Audio quality tiers (`serve --audio-quality`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum Tier {
        Low,
        #[default]
        Standard,
        High,
    }
}

/// QUIC application close codes of punktfunk/1. One registry; values never reused.
pub mod close {
    /// Normal end without a special meaning: the host shutting down, or a client's plain
    /// disconnect (which lets its display linger, unlike [`CLIENT_QUIT`]).
    pub const NO_ERROR: u32 = 0x00;
    /// Mode-conflict policy `reject`: another client holds the display.
    pub const BUSY: u32 = 0x42;
    /// The client quit deliberately: tear its display down at once, no linger.
    pub const CLIENT_QUIT: u32 = 0x51;
    /// Pairing asked for while no pairing window is armed (or it expired).
    pub const PAIRING_NOT_ARMED: u32 = 0x60;
    /// The armed pairing window is bound to another device's fingerprint.
    pub const PAIRING_WRONG_DEVICE: u32 = 0x61;
    /// Pairing asked for during the cooldown after a failed ceremony, or while another runs.
    pub const PAIRING_RATE_LIMITED: u32 = 0x62;
    /// The client's fingerprint is not paired (or was unpaired): pair first.
    pub const NOT_PAIRED: u32 = 0x63;
    /// Pairing refused: the PIN did not match (or a man in the middle split the certificates).
    pub const PAIRING_DENIED: u32 = 0x64;
    /// The peer speaks a protocol version this end does not.
    pub const WIRE_VERSION: u32 = 0x67;
    /// The host could not set the session up; the reason says why.
    pub const SETUP_FAILED: u32 = 0x68;
    /// Admission: the host already runs its maximum number of sessions.
    pub const TOO_MANY_SESSIONS: u32 = 0x6D;
    /// The peer broke the protocol (bad message, size over bound).
    pub const PROTOCOL_VIOLATION: u32 = 0x70;
}

/// Control-plane messages (QUIC stream frames): types, their body bounds and field tags.
/// A frame is `varint type ‖ varint length ‖ body`; a body is a run of `varint tag ‖ varint
/// length ‖ value` fields. Unknown types and tags are skipped, repeated tags refused.
pub mod control {
    /// ALPN of the protocol.
    pub const ALPN: &[u8] = b"punktfunk/1";
    /// TLS exporter label for the media secrets (context: the 16-byte session id).
    pub const EXPORTER_LABEL: &[u8] = b"EXPORTER-punktfunk/1 media";
    /// HKDF-Expand info of the host→client and client→host media secrets.
    pub const MEDIA_INFO_H2C: &[u8] = b"punktfunk/1 media h2c";
    pub const MEDIA_INFO_C2H: &[u8] = b"punktfunk/1 media c2h";
    /// No frame body is ever larger than this, whatever its type.
    pub const MAX_BODY: usize = 16 * 1024;

    /// Frame types.
    pub mod msg {
        pub const HELLO: u64 = 0x01;
        pub const WELCOME: u64 = 0x02;
        pub const READY: u64 = 0x03;
        /// Pairing ceremony (SPAKE2 PIN): request, challenge, proof, result.
        pub const PAIR_REQUEST: u64 = 0x10;
        pub const PAIR_CHALLENGE: u64 = 0x11;
        pub const PAIR_PROOF: u64 = 0x12;
        pub const PAIR_RESULT: u64 = 0x13;
        pub const RECONFIGURE: u64 = 0x20;
        pub const RECONFIGURED: u64 = 0x21;
        pub const SET_BITRATE: u64 = 0x24;
        pub const BITRATE_CHANGED: u64 = 0x25;
        pub const CLOCK_PROBE: u64 = 0x3A;
        pub const CLOCK_ECHO: u64 = 0x3B;
        pub const KEYFRAME_REQUEST: u64 = 0x40;
        pub const RFI_REQUEST: u64 = 0x41;
        pub const FEEDBACK: u64 = 0x42;
        pub const INPUT_EVENT: u64 = 0x50;
        /// Client → host: one pad's whole state (its first creates the pad).
        pub const PAD_STATE: u64 = 0x51;
        /// Client → host: a pad went away.
        pub const PAD_REMOVED: u64 = 0x52;
        /// Host → client: what a game asks of a pad's motors.
        pub const RUMBLE: u64 = 0x53;
        /// Client → host: a finger on a pad's touchpad (down, moved or lifted).
        pub const PAD_TOUCH: u64 = 0x54;
        /// Client → host: a pad's motion sensors (its own message: it runs at the sensor rate,
        /// independent of buttons).
        pub const PAD_MOTION: u64 = 0x55;
        /// Host → client: what a game sets on a pad's lightbar and player LEDs.
        pub const PAD_LIGHTS: u64 = 0x56;
        /// Host → client: DualSense adaptive-trigger effects a game sets.
        pub const PAD_TRIGGERS: u64 = 0x57;
        /// Client → host: text to type as it is (UTF-8, at most `MAX_TEXT_BYTES`).
        pub const TEXT_INPUT: u64 = 0x58;
    }

    /// Largest body each type may have; unknown types get [`MAX_BODY`].
    pub fn body_bound(kind: u64) -> usize {
        match kind {
            msg::HELLO | msg::WELCOME => 4096,
            msg::READY
            | msg::SET_BITRATE
            | msg::BITRATE_CHANGED
            | msg::CLOCK_PROBE
            | msg::CLOCK_ECHO
            | msg::KEYFRAME_REQUEST
            | msg::RFI_REQUEST
            | msg::FEEDBACK
            | msg::RECONFIGURE
            | msg::RECONFIGURED
            | msg::INPUT_EVENT
            | msg::PAD_STATE
            | msg::PAD_REMOVED
            | msg::RUMBLE
            | msg::PAD_TOUCH
            | msg::PAD_MOTION
            | msg::PAD_LIGHTS
            | msg::PAD_TRIGGERS
            | msg::TEXT_INPUT
            | msg::PAIR_REQUEST
            | msg::PAIR_CHALLENGE
            | msg::PAIR_PROOF
            | msg::PAIR_RESULT => 256,
            _ => MAX_BODY,
        }
    }

    /// Field tags, per message.
    pub mod tag {
        pub mod hello {
            pub const RESUME_ID: u64 = 1;
            pub const MODE: u64 = 2;
            pub const CODEC_MASK: u64 = 3;
            pub const PREFERRED_CODEC: u64 = 4;
            pub const BITRATE_KBPS: u64 = 5;
            pub const AUDIO_CHANNELS: u64 = 6;
            pub const DEVICE_NAME: u64 = 7;
            pub const FEATURES: u64 = 8;
            pub const MAX_SHARD_BYTES: u64 = 9;
            /// Microphone channels the client will send (0 or absent: no microphone).
            pub const MIC_CHANNELS: u64 = 10;
        }
        pub mod welcome {
            pub const SESSION_ID: u64 = 1;
            pub const MODE: u64 = 2;
            pub const CODEC: u64 = 3;
            pub const FEC_PERCENT: u64 = 4;
            pub const SHARD_BYTES: u64 = 5;
            pub const BITRATE_KBPS: u64 = 6;
            pub const CLOCK_ORIGIN_UNIX_NS: u64 = 7;
            pub const FEATURES: u64 = 8;
            pub const EPOCH: u64 = 9;
            /// Desktop audio channels the host sends (0 or absent: no audio).
            pub const AUDIO_CHANNELS: u64 = 10;
            /// Whether the host takes the client's microphone (1) or not (0 or absent).
            pub const MIC: u64 = 11;
        }
        /// Tags shared by the small messages.
        pub mod small {
            pub const MODE: u64 = 1;
            pub const KBPS: u64 = 1;
            pub const EPOCH: u64 = 2;
            pub const ACCEPTED: u64 = 3;
            pub const FIRST_FRAME: u64 = 1;
            pub const LAST_FRAME: u64 = 2;
            pub const T1_NS: u64 = 1;
            pub const T2_NS: u64 = 2;
            pub const T3_NS: u64 = 3;
            pub const WINDOW: u64 = 1;
            pub const LOSS_PPM: u64 = 2;
            pub const PACKETS_RECEIVED: u64 = 3;
            pub const FRAMES_LOST: u64 = 4;
        }
        pub mod pair {
            pub const DEVICE_NAME: u64 = 1;
            /// The sender's SPAKE2 message.
            pub const SPAKE: u64 = 2;
            /// HMAC-SHA256 key confirmation (32 bytes).
            pub const CONFIRM: u64 = 3;
            pub const OK: u64 = 4;
        }
        pub mod pad {
            pub const INDEX: u64 = 1;
            /// One of [`super::super::pad_kind`].
            pub const KIND: u64 = 2;
            /// XInput button flags (Moonlight's and `punktfunk_input::gamepad::buttons`).
            pub const BUTTONS: u64 = 3;
            /// 0–255.
            pub const LEFT_TRIGGER: u64 = 4;
            pub const RIGHT_TRIGGER: u64 = 5;
            /// Sticks: i16, +y up, zigzag-encoded.
            pub const LEFT_X: u64 = 6;
            pub const LEFT_Y: u64 = 7;
            pub const RIGHT_X: u64 = 8;
            pub const RIGHT_Y: u64 = 9;
        }
        pub mod rumble {
            pub const INDEX: u64 = 1;
            /// Motor strengths, 0–65535.
            pub const LOW: u64 = 2;
            pub const HIGH: u64 = 3;
        }
        pub mod pad_touch {
            pub const INDEX: u64 = 1;
            /// The client's id of the finger (u32), stable while it stays down.
            pub const POINTER: u64 = 2;
            /// 1: down at x, y (new or moved); 0: lifted.
            pub const DOWN: u64 = 3;
            /// Position across the touchpad, 0–65535 from the left / top edge.
            pub const X: u64 = 4;
            pub const Y: u64 = 5;
        }
        pub mod pad_motion {
            pub const INDEX: u64 = 1;
            /// Pitch, yaw, roll rates: three zigzag varints, millidegrees per second.
            pub const GYRO: u64 = 2;
            /// x, y, z acceleration, gravity included: three zigzag varints, mm/s².
            pub const ACCEL: u64 = 3;
        }
        pub mod pad_lights {
            pub const INDEX: u64 = 1;
            /// Lightbar red, green, blue: 3 bytes.
            pub const RGB: u64 = 2;
            /// DualSense player LEDs: bits 0–4 the five lights (bit 5: change at once).
            pub const PLAYER_LEDS: u64 = 3;
        }
        pub mod pad_triggers {
            pub const INDEX: u64 = 1;
            /// An effect block ([`super::super::TRIGGER_EFFECT_LEN`] bytes: mode, 10
            /// parameters), as the game wrote it to the DualSense.
            pub const LEFT: u64 = 2;
            pub const RIGHT: u64 = 3;
        }
        pub mod text {
            /// The text, UTF-8.
            pub const TEXT: u64 = 1;
        }

        pub mod input {
            pub const KIND: u64 = 1;
            pub const CODE: u64 = 2;
            /// Signed: zigzag-encoded varint.
            pub const X: u64 = 3;
            /// Signed: zigzag-encoded varint.
            pub const Y: u64 = 4;
            pub const FLAGS: u64 = 5;
        }
    }

    /// Codec bits (a mask in Hello, a single bit where one codec is named).
    pub mod codec {
        pub const H264: u64 = 0x01;
        pub const HEVC: u64 = 0x02;
        pub const AV1: u64 = 0x04;
    }

    /// Input event kinds (InputEvent field 1). The input issue extends this list.
    pub mod input_kind {
        pub const KEY_DOWN: u64 = 0;
        pub const KEY_UP: u64 = 1;
        /// Relative pointer motion: x, y deltas.
        pub const MOUSE_MOVE: u64 = 2;
        /// Absolute pointer position: x, y in the stream's mode.
        pub const MOUSE_MOVE_ABS: u64 = 3;
        pub const BUTTON_DOWN: u64 = 4;
        pub const BUTTON_UP: u64 = 5;
        /// Scroll: y in 1/120 of a detent, positive away from the user.
        pub const SCROLL: u64 = 6;
        /// Horizontal scroll: x in 1/120 of a detent, positive to the right.
        pub const SCROLL_HORIZONTAL: u64 = 7;
        /// A finger touches the picture: code = finger id, x, y in the stream's mode.
        pub const TOUCH_DOWN: u64 = 8;
        /// A finger that is down moves: code = finger id, x, y in the stream's mode.
        pub const TOUCH_MOVE: u64 = 9;
        /// A finger lifts: code = finger id.
        pub const TOUCH_UP: u64 = 10;
    }

    /// Virtual pad models (PadState field 2).
    pub mod pad_kind {
        pub const XBOX: u8 = 0;
        pub const DUALSENSE: u8 = 1;
        pub const DUALSHOCK4: u8 = 2;
    }

    /// Pads per session: indices 0..MAX_PADS.
    pub const MAX_PADS: u8 = 16;
    /// A DualSense adaptive-trigger effect block: mode byte and 10 parameters.
    pub const TRIGGER_EFFECT_LEN: usize = 11;
    /// A lightbar colour: red, green, blue.
    pub const RGB_LEN: usize = 3;

    /// Feature bits (Hello: what the client can do; Welcome: what the session does).
    pub mod feature {
        /// The media stream carries synthetic access units (`punktfunk_core::synthetic`), not a
        /// codec bitstream: check the bytes, do not decode. Virtual source without an encoder.
        pub const SYNTHETIC_MEDIA: u64 = 1 << 0;
        /// The video is the test picture (frame number and capture time drawn into it as a
        /// block code): the client may read them back. Absent for real desktop capture.
        pub const TEST_PICTURE: u64 = 1 << 1;
    }

    /// Bounds of values inside messages.
    pub const MAX_SPAKE_MESSAGE: usize = 64;
    pub const MAX_DEVICE_NAME: usize = 64;
    /// Longest text one `TextInput` carries (a paste is split across several).
    pub const MAX_TEXT_BYTES: usize = 200;
    pub const MAX_DIMENSION: u32 = 16_384;
    pub const MAX_REFRESH_MILLIHZ: u32 = 1_000_000;
}

/// PIN pairing (SPAKE2 over Ed25519): key-confirmation labels and the window's rules.
pub mod pairing {
    /// HMAC-SHA256 labels of the two key confirmations; each MAC covers
    /// `label ‖ client fingerprint ‖ host fingerprint`.
    pub const HOST_CONFIRM_LABEL: &[u8] = b"punktfunk-pair-host";
    pub const CLIENT_CONFIRM_LABEL: &[u8] = b"punktfunk-pair-client";
    /// Digits of a PIN the host shows.
    pub const PIN_DIGITS: usize = 4;
    /// A pairing window stays armed this long unless told otherwise, seconds.
    pub const DEFAULT_WINDOW_TTL_S: u64 = 120;
    /// Longest window an operator may arm, seconds.
    pub const MAX_WINDOW_TTL_S: u64 = 3600;
    /// After a failed ceremony no new one starts for this long, milliseconds.
    pub const COOLDOWN_MS: u64 = 2000;
    /// A window closes after this many failed ceremonies (each is one online PIN guess).
    pub const MAX_FAILED_CEREMONIES: u32 = 5;
}

/// mDNS (DNS-SD) discovery: service types and TXT keys.
pub mod discovery {
    /// The native plane, always advertised (unless `--no-mdns`).
    pub const NATIVE_SERVICE: &str = "_punktfunk._udp.local.";
    /// GameStream, advertised while that plane is on.
    pub const GAMESTREAM_SERVICE: &str = "_nvstream._tcp.local.";
    pub mod txt {
        /// Short stable host id (the fingerprint's first 16 hex digits).
        pub const ID: &str = "id";
        /// The host certificate's SHA-256 fingerprint, hex.
        pub const FINGERPRINT: &str = "fp";
        /// `required` (PIN pairing) or `optional` (`serve --open`: trust on first use).
        pub const PAIRING: &str = "pair";
        /// Management API port.
        pub const MGMT_PORT: &str = "mgmt";
        /// Protocol name: [`super::super::control::ALPN`] as text.
        pub const PROTOCOL: &str = "proto";
        /// Wire versions spoken, comma-separated.
        pub const WIRE: &str = "wire";
    }
    pub const PAIRING_REQUIRED: &str = "required";
    pub const PAIRING_OPTIONAL: &str = "optional";
    pub const WIRE_VERSIONS: &str = "1";
}
