//! The control messages of punktfunk/1 and their encoding.

use std::fmt;
use std::str::FromStr;

use super::codec::{BodyWriter, ControlError, Fields};
use crate::wire::control::{
    codec as codec_bit, msg, tag, MAX_DEVICE_NAME, MAX_DIMENSION, MAX_REFRESH_MILLIHZ,
    MAX_SPAKE_MESSAGE, MAX_TEXT_BYTES, RGB_LEN, TRIGGER_EFFECT_LEN,
};

/// A display mode: `width x height @ refresh`, the refresh in millihertz (59.94 Hz = 59940).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mode {
    pub width: u32,
    pub height: u32,
    pub refresh_millihz: u32,
}

impl Mode {
    pub fn new(width: u32, height: u32, hz: u32) -> Self {
        Self {
            width,
            height,
            refresh_millihz: hz * 1000,
        }
    }

    pub fn is_valid(&self) -> bool {
        (1..=MAX_DIMENSION).contains(&self.width)
            && (1..=MAX_DIMENSION).contains(&self.height)
            && (1000..=MAX_REFRESH_MILLIHZ).contains(&self.refresh_millihz)
    }

    pub fn refresh_hz(&self) -> f64 {
        f64::from(self.refresh_millihz) / 1000.0
    }

    fn to_uints(self) -> [u64; 3] {
        [
            self.width.into(),
            self.height.into(),
            self.refresh_millihz.into(),
        ]
    }

    fn from_uints([w, h, r]: [u64; 3]) -> Result<Self, ControlError> {
        let mode = Self {
            width: u32::try_from(w).map_err(|_| ControlError::BadValue("mode"))?,
            height: u32::try_from(h).map_err(|_| ControlError::BadValue("mode"))?,
            refresh_millihz: u32::try_from(r).map_err(|_| ControlError::BadValue("mode"))?,
        };
        if mode.is_valid() {
            Ok(mode)
        } else {
            Err(ControlError::BadValue("mode"))
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}@", self.width, self.height)?;
        if self.refresh_millihz.is_multiple_of(1000) {
            write!(f, "{}", self.refresh_millihz / 1000)
        } else {
            write!(f, "{}", self.refresh_hz())
        }
    }
}

/// Why a mode given as text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mode `{0}` is not WIDTHxHEIGHT@HZ within 1..={MAX_DIMENSION} pixels and 1..=1000 Hz (e.g. 1920x1080@60 or 1920x1080@59.94)")]
pub struct ModeParseError(String);

impl FromStr for Mode {
    type Err = ModeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ModeParseError(s.to_owned());
        let (size, hz) = s.trim().split_once('@').ok_or_else(err)?;
        let (w, h) = size.split_once(['x', 'X']).ok_or_else(err)?;
        let hz: f64 = hz.parse().map_err(|_| err())?;
        if !(1.0..=1000.0).contains(&hz) {
            return Err(err());
        }
        let mode = Mode {
            width: w.parse().map_err(|_| err())?,
            height: h.parse().map_err(|_| err())?,
            refresh_millihz: (hz * 1000.0).round() as u32,
        };
        mode.is_valid().then_some(mode).ok_or_else(err)
    }
}

/// Video codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    H264,
    Hevc,
    Av1,
}

impl Codec {
    pub const ALL: [Codec; 3] = [Codec::H264, Codec::Hevc, Codec::Av1];

    pub fn bit(self) -> u64 {
        match self {
            Codec::H264 => codec_bit::H264,
            Codec::Hevc => codec_bit::HEVC,
            Codec::Av1 => codec_bit::AV1,
        }
    }

    pub fn from_bit(bit: u64) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.bit() == bit)
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::Hevc => "hevc",
            Codec::Av1 => "av1",
        }
    }
}

impl FromStr for Codec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown codec `{s}`: use h264, hevc or av1"))
    }
}

/// Client → host: what the client wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// A previous session's id, to take it over (reconnect).
    pub resume_id: Option<[u8; 16]>,
    pub mode: Mode,
    /// Codecs the client can decode.
    pub codec_mask: u64,
    pub preferred_codec: Option<Codec>,
    /// 0 lets the host choose.
    pub bitrate_kbps: u32,
    pub audio_channels: u8,
    pub device_name: String,
    pub features: u64,
    /// Largest shard the client's path carries, if it knows.
    pub max_shard_bytes: Option<u16>,
    /// Microphone channels the client will send; 0: none.
    pub mic_channels: u8,
}

/// Host → client: what the session will be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    pub session_id: [u8; 16],
    pub mode: Mode,
    pub codec: Codec,
    pub fec_percent: u8,
    pub shard_bytes: u16,
    pub bitrate_kbps: u32,
    /// Host wall-clock time (Unix ns) that media timestamp 0 stands for.
    pub clock_origin_unix_ns: u64,
    pub features: u64,
    pub epoch: u8,
    /// Desktop audio channels the host sends; 0: no audio this session.
    pub audio_channels: u8,
    /// Whether the host plays the client's microphone into its virtual source.
    pub mic: bool,
}

/// Client → host, each report window: what the link lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Feedback {
    pub window: u64,
    /// Share of media packets lost in the window, parts per million.
    pub loss_ppm: u32,
    pub packets_received: u64,
    pub frames_lost: u64,
}

/// Client → host: one input event (reliable, in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InputEvent {
    /// One of `wire::control::input_kind`.
    pub kind: u64,
    /// Key or button code.
    pub code: u32,
    pub x: i32,
    pub y: i32,
    pub flags: u32,
}

/// Client → host: one virtual pad's whole state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PadReport {
    /// Below `wire::control::MAX_PADS`.
    pub index: u8,
    /// One of `wire::control::pad_kind`.
    pub kind: u8,
    pub buttons: u32,
    pub left_trigger: u8,
    pub right_trigger: u8,
    /// (x, y), +y up.
    pub left_stick: (i16, i16),
    pub right_stick: (i16, i16),
}

/// Client → host: a finger on a pad's touchpad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PadTouch {
    pub index: u8,
    /// The client's id of the finger, stable while it stays down.
    pub pointer: u32,
    /// Down at (x, y), new or moved; `false`: lifted (x, y mean nothing).
    pub down: bool,
    /// 0–65535 across the touchpad, from the left / top edge.
    pub x: u16,
    pub y: u16,
}

/// Client → host: a pad's motion sensors, each `None` when this message leaves it as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PadMotion {
    pub index: u8,
    /// Pitch, yaw, roll rates in millidegrees per second.
    pub gyro: Option<[i32; 3]>,
    /// x, y, z acceleration in mm/s², gravity included.
    pub accel: Option<[i32; 3]>,
}

/// `text` as `TextInput` messages, each at most `MAX_TEXT_BYTES`, split between characters.
pub fn text_messages(text: &str) -> Vec<Message> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(MAX_TEXT_BYTES);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(Message::Text(rest[..cut].to_owned()));
        rest = &rest[cut..];
    }
    out
}

/// A pad index off the wire: below `MAX_PADS`.
fn pad_index(v: u64) -> Result<u8, ControlError> {
    u8::try_from(v)
        .ok()
        .filter(|i| *i < crate::wire::control::MAX_PADS)
        .ok_or(ControlError::BadValue("pad index"))
}

fn zigzag(v: i32) -> u64 {
    u64::from(((v << 1) ^ (v >> 31)) as u32)
}

fn unzigzag(v: u64, name: &'static str) -> Result<i32, ControlError> {
    let v = u32::try_from(v).map_err(|_| ControlError::BadValue(name))?;
    Ok(((v >> 1) as i32) ^ -((v & 1) as i32))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Hello(Hello),
    Welcome(Welcome),
    /// The client built its decoder: start sending.
    Ready,
    Reconfigure {
        mode: Mode,
    },
    Reconfigured {
        mode: Mode,
        epoch: u8,
        accepted: bool,
    },
    SetBitrate {
        kbps: u32,
    },
    BitrateChanged {
        kbps: u32,
    },
    ClockProbe {
        t1_ns: u64,
    },
    ClockEcho {
        t1_ns: u64,
        t2_ns: u64,
        t3_ns: u64,
    },
    KeyframeRequest,
    /// Frames `first..=last` are broken: re-reference older ones (or send a keyframe).
    RfiRequest {
        first: u32,
        last: u32,
    },
    Feedback(Feedback),
    Input(InputEvent),
    /// Client → host: text to type as it is (at most `MAX_TEXT_BYTES` of UTF-8).
    Text(String),
    Pad(PadReport),
    PadRemoved {
        index: u8,
    },
    /// Host → client: drive pad `index`'s motors (0 stops them).
    Rumble {
        index: u8,
        low: u16,
        high: u16,
    },
    PadTouch(PadTouch),
    PadMotion(PadMotion),
    /// Host → client: pad `index`'s lightbar colour and player LEDs, each `None` when the game
    /// left it alone.
    PadLights {
        index: u8,
        rgb: Option<[u8; RGB_LEN]>,
        player_leds: Option<u8>,
    },
    /// Host → client: pad `index`'s adaptive-trigger effect blocks as the game wrote them to
    /// the DualSense, each `None` when the game left that trigger alone.
    PadTriggers {
        index: u8,
        left: Option<[u8; TRIGGER_EFFECT_LEN]>,
        right: Option<[u8; TRIGGER_EFFECT_LEN]>,
    },
    /// Client → host, instead of Hello: start a PIN pairing ceremony.
    PairRequest {
        device_name: String,
        spake: Vec<u8>,
    },
    /// Host → client: the host's SPAKE2 message and its key confirmation.
    PairChallenge {
        spake: Vec<u8>,
        confirm: [u8; 32],
    },
    /// Client → host: the client's key confirmation.
    PairProof {
        confirm: [u8; 32],
    },
    /// Host → client: the client's fingerprint is stored (the host closes on failure instead).
    PairResult {
        ok: bool,
    },
    /// A type this end does not know; skipped.
    Unknown {
        kind: u64,
    },
}

fn narrow<T: TryFrom<u64>>(v: u64, name: &'static str) -> Result<T, ControlError> {
    T::try_from(v).map_err(|_| ControlError::BadValue(name))
}

/// An optional field of exactly `N` bytes.
fn fixed<const N: usize>(
    f: &Fields<'_>,
    tag: u64,
    name: &'static str,
) -> Result<Option<[u8; N]>, ControlError> {
    f.get(tag)
        .map(|v| v.try_into().map_err(|_| ControlError::BadValue(name)))
        .transpose()
}

/// An optional field of three zigzag-signed varints.
fn signed3(f: &Fields<'_>, tag: u64, name: &'static str) -> Result<Option<[i32; 3]>, ControlError> {
    let Some([a, b, c]) = f.uints::<3>(tag, name)? else {
        return Ok(None);
    };
    Ok(Some([
        unzigzag(a, name)?,
        unzigzag(b, name)?,
        unzigzag(c, name)?,
    ]))
}

fn id16(v: &[u8], name: &'static str) -> Result<[u8; 16], ControlError> {
    v.try_into().map_err(|_| ControlError::BadValue(name))
}

fn spake_field(f: &Fields<'_>, message: &'static str) -> Result<Vec<u8>, ControlError> {
    let v = f.get(tag::pair::SPAKE).ok_or(ControlError::MissingField {
        message,
        tag: tag::pair::SPAKE,
    })?;
    if v.is_empty() || v.len() > MAX_SPAKE_MESSAGE {
        return Err(ControlError::BadValue("spake"));
    }
    Ok(v.to_vec())
}

fn confirm_field(f: &Fields<'_>, message: &'static str) -> Result<[u8; 32], ControlError> {
    let v = f
        .get(tag::pair::CONFIRM)
        .ok_or(ControlError::MissingField {
            message,
            tag: tag::pair::CONFIRM,
        })?;
    v.try_into().map_err(|_| ControlError::BadValue("confirm"))
}

impl Message {
    /// The whole frame, ready for the stream.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = BodyWriter::new();
        let kind = match self {
            Message::Hello(h) => {
                use tag::hello as t;
                if let Some(id) = &h.resume_id {
                    w.bytes(t::RESUME_ID, id);
                }
                w.uints(t::MODE, &h.mode.to_uints())
                    .uint(t::CODEC_MASK, h.codec_mask)
                    .uint(t::BITRATE_KBPS, h.bitrate_kbps.into())
                    .uint(t::AUDIO_CHANNELS, h.audio_channels.into())
                    .bytes(t::DEVICE_NAME, h.device_name.as_bytes())
                    .uint(t::FEATURES, h.features);
                if let Some(c) = h.preferred_codec {
                    w.uint(t::PREFERRED_CODEC, c.bit());
                }
                if let Some(s) = h.max_shard_bytes {
                    w.uint(t::MAX_SHARD_BYTES, s.into());
                }
                if h.mic_channels > 0 {
                    w.uint(t::MIC_CHANNELS, h.mic_channels.into());
                }
                msg::HELLO
            }
            Message::Welcome(m) => {
                use tag::welcome as t;
                w.bytes(t::SESSION_ID, &m.session_id)
                    .uints(t::MODE, &m.mode.to_uints())
                    .uint(t::CODEC, m.codec.bit())
                    .uint(t::FEC_PERCENT, m.fec_percent.into())
                    .uint(t::SHARD_BYTES, m.shard_bytes.into())
                    .uint(t::BITRATE_KBPS, m.bitrate_kbps.into())
                    .uint(t::CLOCK_ORIGIN_UNIX_NS, m.clock_origin_unix_ns)
                    .uint(t::FEATURES, m.features)
                    .uint(t::EPOCH, m.epoch.into())
                    .uint(t::AUDIO_CHANNELS, m.audio_channels.into())
                    .uint(t::MIC, m.mic.into());
                msg::WELCOME
            }
            Message::Ready => msg::READY,
            Message::Reconfigure { mode } => {
                w.uints(tag::small::MODE, &mode.to_uints());
                msg::RECONFIGURE
            }
            Message::Reconfigured {
                mode,
                epoch,
                accepted,
            } => {
                w.uints(tag::small::MODE, &mode.to_uints())
                    .uint(tag::small::EPOCH, (*epoch).into())
                    .uint(tag::small::ACCEPTED, (*accepted).into());
                msg::RECONFIGURED
            }
            Message::SetBitrate { kbps } => {
                w.uint(tag::small::KBPS, (*kbps).into());
                msg::SET_BITRATE
            }
            Message::BitrateChanged { kbps } => {
                w.uint(tag::small::KBPS, (*kbps).into());
                msg::BITRATE_CHANGED
            }
            Message::ClockProbe { t1_ns } => {
                w.uint(tag::small::T1_NS, *t1_ns);
                msg::CLOCK_PROBE
            }
            Message::ClockEcho {
                t1_ns,
                t2_ns,
                t3_ns,
            } => {
                w.uint(tag::small::T1_NS, *t1_ns)
                    .uint(tag::small::T2_NS, *t2_ns)
                    .uint(tag::small::T3_NS, *t3_ns);
                msg::CLOCK_ECHO
            }
            Message::KeyframeRequest => msg::KEYFRAME_REQUEST,
            Message::RfiRequest { first, last } => {
                w.uint(tag::small::FIRST_FRAME, (*first).into())
                    .uint(tag::small::LAST_FRAME, (*last).into());
                msg::RFI_REQUEST
            }
            Message::Feedback(f) => {
                w.uint(tag::small::WINDOW, f.window)
                    .uint(tag::small::LOSS_PPM, f.loss_ppm.into())
                    .uint(tag::small::PACKETS_RECEIVED, f.packets_received)
                    .uint(tag::small::FRAMES_LOST, f.frames_lost);
                msg::FEEDBACK
            }
            Message::Input(e) => {
                use tag::input as t;
                w.uint(t::KIND, e.kind)
                    .uint(t::CODE, e.code.into())
                    .uint(t::X, zigzag(e.x))
                    .uint(t::Y, zigzag(e.y))
                    .uint(t::FLAGS, e.flags.into());
                msg::INPUT_EVENT
            }
            Message::Pad(p) => {
                use tag::pad as t;
                w.uint(t::INDEX, p.index.into())
                    .uint(t::KIND, p.kind.into())
                    .uint(t::BUTTONS, p.buttons.into())
                    .uint(t::LEFT_TRIGGER, p.left_trigger.into())
                    .uint(t::RIGHT_TRIGGER, p.right_trigger.into())
                    .uint(t::LEFT_X, zigzag(p.left_stick.0.into()))
                    .uint(t::LEFT_Y, zigzag(p.left_stick.1.into()))
                    .uint(t::RIGHT_X, zigzag(p.right_stick.0.into()))
                    .uint(t::RIGHT_Y, zigzag(p.right_stick.1.into()));
                msg::PAD_STATE
            }
            Message::PadRemoved { index } => {
                w.uint(tag::pad::INDEX, (*index).into());
                msg::PAD_REMOVED
            }
            Message::Text(text) => {
                w.bytes(tag::text::TEXT, text.as_bytes());
                msg::TEXT_INPUT
            }
            Message::Rumble { index, low, high } => {
                use tag::rumble as t;
                w.uint(t::INDEX, (*index).into())
                    .uint(t::LOW, (*low).into())
                    .uint(t::HIGH, (*high).into());
                msg::RUMBLE
            }
            Message::PadTouch(t) => {
                use tag::pad_touch as tg;
                w.uint(tg::INDEX, t.index.into())
                    .uint(tg::POINTER, t.pointer.into())
                    .uint(tg::DOWN, t.down.into())
                    .uint(tg::X, t.x.into())
                    .uint(tg::Y, t.y.into());
                msg::PAD_TOUCH
            }
            Message::PadMotion(m) => {
                use tag::pad_motion as tg;
                w.uint(tg::INDEX, m.index.into());
                if let Some(g) = m.gyro {
                    w.uints(tg::GYRO, &g.map(zigzag));
                }
                if let Some(a) = m.accel {
                    w.uints(tg::ACCEL, &a.map(zigzag));
                }
                msg::PAD_MOTION
            }
            Message::PadLights {
                index,
                rgb,
                player_leds,
            } => {
                use tag::pad_lights as tg;
                w.uint(tg::INDEX, (*index).into());
                if let Some(rgb) = rgb {
                    w.bytes(tg::RGB, rgb);
                }
                if let Some(leds) = player_leds {
                    w.uint(tg::PLAYER_LEDS, (*leds).into());
                }
                msg::PAD_LIGHTS
            }
            Message::PadTriggers { index, left, right } => {
                use tag::pad_triggers as tg;
                w.uint(tg::INDEX, (*index).into());
                if let Some(left) = left {
                    w.bytes(tg::LEFT, left);
                }
                if let Some(right) = right {
                    w.bytes(tg::RIGHT, right);
                }
                msg::PAD_TRIGGERS
            }
            Message::PairRequest { device_name, spake } => {
                w.bytes(tag::pair::DEVICE_NAME, device_name.as_bytes())
                    .bytes(tag::pair::SPAKE, spake);
                msg::PAIR_REQUEST
            }
            Message::PairChallenge { spake, confirm } => {
                w.bytes(tag::pair::SPAKE, spake)
                    .bytes(tag::pair::CONFIRM, confirm);
                msg::PAIR_CHALLENGE
            }
            Message::PairProof { confirm } => {
                w.bytes(tag::pair::CONFIRM, confirm);
                msg::PAIR_PROOF
            }
            Message::PairResult { ok } => {
                w.uint(tag::pair::OK, (*ok).into());
                msg::PAIR_RESULT
            }
            Message::Unknown { kind } => *kind,
        };
        w.frame(kind)
    }

    /// Decodes one frame's body. Unknown types give [`Message::Unknown`]; unknown fields are
    /// skipped; a missing required field or a value out of range is an error.
    pub fn decode(kind: u64, body: &[u8]) -> Result<Self, ControlError> {
        let f = Fields::parse(body)?;
        let small = |t: u64, name| f.required_uint(name, t, name);
        Ok(match kind {
            msg::HELLO => {
                use tag::hello as t;
                let mode = f
                    .uints::<3>(t::MODE, "mode")?
                    .ok_or(ControlError::MissingField {
                        message: "Hello",
                        tag: t::MODE,
                    })?;
                let name = f.get(t::DEVICE_NAME).unwrap_or_default();
                if name.len() > MAX_DEVICE_NAME {
                    return Err(ControlError::BadValue("device_name"));
                }
                Message::Hello(Hello {
                    resume_id: f
                        .get(t::RESUME_ID)
                        .map(|v| id16(v, "resume_id"))
                        .transpose()?,
                    mode: Mode::from_uints(mode)?,
                    codec_mask: f.required_uint("Hello", t::CODEC_MASK, "codec_mask")?,
                    preferred_codec: f
                        .uint(t::PREFERRED_CODEC, "preferred_codec")?
                        .map(|b| {
                            Codec::from_bit(b).ok_or(ControlError::BadValue("preferred_codec"))
                        })
                        .transpose()?,
                    bitrate_kbps: narrow(
                        f.uint(t::BITRATE_KBPS, "bitrate")?.unwrap_or(0),
                        "bitrate",
                    )?,
                    audio_channels: narrow(
                        f.uint(t::AUDIO_CHANNELS, "audio_channels")?.unwrap_or(2),
                        "audio_channels",
                    )?,
                    device_name: std::str::from_utf8(name)
                        .map_err(|_| ControlError::BadValue("device_name"))?
                        .to_owned(),
                    features: f.uint(t::FEATURES, "features")?.unwrap_or(0),
                    max_shard_bytes: f
                        .uint(t::MAX_SHARD_BYTES, "max_shard_bytes")?
                        .map(|v| narrow(v, "max_shard_bytes"))
                        .transpose()?,
                    mic_channels: narrow(
                        f.uint(t::MIC_CHANNELS, "mic_channels")?.unwrap_or(0),
                        "mic_channels",
                    )?,
                })
            }
            msg::WELCOME => {
                use tag::welcome as t;
                let need = |tag, name| f.required_uint("Welcome", tag, name);
                let mode = f
                    .uints::<3>(t::MODE, "mode")?
                    .ok_or(ControlError::MissingField {
                        message: "Welcome",
                        tag: t::MODE,
                    })?;
                let session = f.get(t::SESSION_ID).ok_or(ControlError::MissingField {
                    message: "Welcome",
                    tag: t::SESSION_ID,
                })?;
                Message::Welcome(Welcome {
                    session_id: id16(session, "session_id")?,
                    mode: Mode::from_uints(mode)?,
                    codec: Codec::from_bit(need(t::CODEC, "codec")?)
                        .ok_or(ControlError::BadValue("codec"))?,
                    fec_percent: narrow(need(t::FEC_PERCENT, "fec_percent")?, "fec_percent")?,
                    shard_bytes: narrow(need(t::SHARD_BYTES, "shard_bytes")?, "shard_bytes")?,
                    bitrate_kbps: narrow(need(t::BITRATE_KBPS, "bitrate")?, "bitrate")?,
                    clock_origin_unix_ns: need(t::CLOCK_ORIGIN_UNIX_NS, "clock_origin")?,
                    features: f.uint(t::FEATURES, "features")?.unwrap_or(0),
                    epoch: narrow(f.uint(t::EPOCH, "epoch")?.unwrap_or(0), "epoch")?,
                    audio_channels: narrow(
                        f.uint(t::AUDIO_CHANNELS, "audio_channels")?.unwrap_or(0),
                        "audio_channels",
                    )?,
                    mic: f.uint(t::MIC, "mic")?.unwrap_or(0) != 0,
                })
            }
            msg::READY => Message::Ready,
            msg::RECONFIGURE | msg::RECONFIGURED => {
                let mode =
                    f.uints::<3>(tag::small::MODE, "mode")?
                        .ok_or(ControlError::MissingField {
                            message: "Reconfigure",
                            tag: tag::small::MODE,
                        })?;
                let mode = Mode::from_uints(mode)?;
                if kind == msg::RECONFIGURE {
                    Message::Reconfigure { mode }
                } else {
                    Message::Reconfigured {
                        mode,
                        epoch: narrow(small(tag::small::EPOCH, "epoch")?, "epoch")?,
                        accepted: small(tag::small::ACCEPTED, "accepted")? != 0,
                    }
                }
            }
            msg::SET_BITRATE => Message::SetBitrate {
                kbps: narrow(small(tag::small::KBPS, "kbps")?, "kbps")?,
            },
            msg::BITRATE_CHANGED => Message::BitrateChanged {
                kbps: narrow(small(tag::small::KBPS, "kbps")?, "kbps")?,
            },
            msg::CLOCK_PROBE => Message::ClockProbe {
                t1_ns: small(tag::small::T1_NS, "t1")?,
            },
            msg::CLOCK_ECHO => Message::ClockEcho {
                t1_ns: small(tag::small::T1_NS, "t1")?,
                t2_ns: small(tag::small::T2_NS, "t2")?,
                t3_ns: small(tag::small::T3_NS, "t3")?,
            },
            msg::KEYFRAME_REQUEST => Message::KeyframeRequest,
            msg::RFI_REQUEST => {
                let first = narrow(small(tag::small::FIRST_FRAME, "first")?, "first")?;
                let last = narrow(small(tag::small::LAST_FRAME, "last")?, "last")?;
                Message::RfiRequest { first, last }
            }
            msg::FEEDBACK => Message::Feedback(Feedback {
                window: small(tag::small::WINDOW, "window")?,
                loss_ppm: narrow(small(tag::small::LOSS_PPM, "loss_ppm")?, "loss_ppm")?,
                packets_received: f
                    .uint(tag::small::PACKETS_RECEIVED, "packets")?
                    .unwrap_or(0),
                frames_lost: f.uint(tag::small::FRAMES_LOST, "frames_lost")?.unwrap_or(0),
            }),
            msg::PAIR_REQUEST => {
                let name = f.get(tag::pair::DEVICE_NAME).unwrap_or_default();
                if name.len() > MAX_DEVICE_NAME {
                    return Err(ControlError::BadValue("device_name"));
                }
                Message::PairRequest {
                    device_name: std::str::from_utf8(name)
                        .map_err(|_| ControlError::BadValue("device_name"))?
                        .to_owned(),
                    spake: spake_field(&f, "PairRequest")?,
                }
            }
            msg::PAIR_CHALLENGE => Message::PairChallenge {
                spake: spake_field(&f, "PairChallenge")?,
                confirm: confirm_field(&f, "PairChallenge")?,
            },
            msg::PAIR_PROOF => Message::PairProof {
                confirm: confirm_field(&f, "PairProof")?,
            },
            msg::PAIR_RESULT => Message::PairResult {
                ok: f.required_uint("PairResult", tag::pair::OK, "ok")? != 0,
            },
            msg::INPUT_EVENT => {
                use tag::input as t;
                Message::Input(InputEvent {
                    kind: small(t::KIND, "kind")?,
                    code: narrow(f.uint(t::CODE, "code")?.unwrap_or(0), "code")?,
                    x: unzigzag(f.uint(t::X, "x")?.unwrap_or(0), "x")?,
                    y: unzigzag(f.uint(t::Y, "y")?.unwrap_or(0), "y")?,
                    flags: narrow(f.uint(t::FLAGS, "flags")?.unwrap_or(0), "flags")?,
                })
            }
            msg::PAD_STATE => {
                use tag::pad as t;
                let stick = |tag, name| -> Result<i16, ControlError> {
                    i16::try_from(unzigzag(f.uint(tag, name)?.unwrap_or(0), name)?)
                        .map_err(|_| ControlError::BadValue(name))
                };
                Message::Pad(PadReport {
                    index: pad_index(small(t::INDEX, "index")?)?,
                    kind: narrow(f.uint(t::KIND, "kind")?.unwrap_or(0), "kind")?,
                    buttons: narrow(f.uint(t::BUTTONS, "buttons")?.unwrap_or(0), "buttons")?,
                    left_trigger: narrow(
                        f.uint(t::LEFT_TRIGGER, "trigger")?.unwrap_or(0),
                        "trigger",
                    )?,
                    right_trigger: narrow(
                        f.uint(t::RIGHT_TRIGGER, "trigger")?.unwrap_or(0),
                        "trigger",
                    )?,
                    left_stick: (stick(t::LEFT_X, "stick")?, stick(t::LEFT_Y, "stick")?),
                    right_stick: (stick(t::RIGHT_X, "stick")?, stick(t::RIGHT_Y, "stick")?),
                })
            }
            msg::PAD_REMOVED => Message::PadRemoved {
                index: pad_index(small(tag::pad::INDEX, "index")?)?,
            },
            msg::TEXT_INPUT => {
                let text = f.get(tag::text::TEXT).unwrap_or_default();
                if text.len() > MAX_TEXT_BYTES {
                    return Err(ControlError::BadValue("text"));
                }
                Message::Text(
                    std::str::from_utf8(text)
                        .map_err(|_| ControlError::BadValue("text"))?
                        .to_owned(),
                )
            }
            msg::RUMBLE => {
                use tag::rumble as t;
                Message::Rumble {
                    index: pad_index(small(t::INDEX, "index")?)?,
                    low: narrow(f.uint(t::LOW, "low")?.unwrap_or(0), "low")?,
                    high: narrow(f.uint(t::HIGH, "high")?.unwrap_or(0), "high")?,
                }
            }
            msg::PAD_TOUCH => {
                use tag::pad_touch as tg;
                Message::PadTouch(PadTouch {
                    index: pad_index(small(tg::INDEX, "index")?)?,
                    pointer: narrow(f.uint(tg::POINTER, "pointer")?.unwrap_or(0), "pointer")?,
                    down: match small(tg::DOWN, "down")? {
                        0 => false,
                        1 => true,
                        _ => return Err(ControlError::BadValue("down")),
                    },
                    x: narrow(f.uint(tg::X, "x")?.unwrap_or(0), "x")?,
                    y: narrow(f.uint(tg::Y, "y")?.unwrap_or(0), "y")?,
                })
            }
            msg::PAD_MOTION => {
                use tag::pad_motion as tg;
                Message::PadMotion(PadMotion {
                    index: pad_index(small(tg::INDEX, "index")?)?,
                    gyro: signed3(&f, tg::GYRO, "gyro")?,
                    accel: signed3(&f, tg::ACCEL, "accel")?,
                })
            }
            msg::PAD_LIGHTS => {
                use tag::pad_lights as tg;
                Message::PadLights {
                    index: pad_index(small(tg::INDEX, "index")?)?,
                    rgb: fixed(&f, tg::RGB, "rgb")?,
                    player_leds: f
                        .uint(tg::PLAYER_LEDS, "player_leds")?
                        .map(|v| narrow(v, "player_leds"))
                        .transpose()?,
                }
            }
            msg::PAD_TRIGGERS => {
                use tag::pad_triggers as tg;
                Message::PadTriggers {
                    index: pad_index(small(tg::INDEX, "index")?)?,
                    left: fixed(&f, tg::LEFT, "trigger effect")?,
                    right: fixed(&f, tg::RIGHT, "trigger effect")?,
                }
            }
            kind => Message::Unknown { kind },
        })
    }
}
