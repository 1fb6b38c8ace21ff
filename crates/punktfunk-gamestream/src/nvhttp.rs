//! The HTTP(S) plane of GameStream: query strings in, XML documents out.
//!
//! Every reply is `<root status_code="…">` with data as child elements; the HTTP status line is
//! always 200 (clients read only the XML). Everything written here is XML-escaped, so host
//! names and app titles may hold any text.

use std::net::IpAddr;

use crate::wire::pairing::{
    self as wire, launch_param, pair_field, status, MAX_QUERY_LEN, MAX_QUERY_PARAMS,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NvHttpError {
    #[error("query string longer than {MAX_QUERY_LEN} bytes")]
    QueryTooLong,
    #[error("more than {MAX_QUERY_PARAMS} query parameters")]
    TooManyParams,
    #[error("bad percent escape in the query string")]
    BadEscape,
    #[error("missing query parameter {0}")]
    Missing(String),
    #[error("query parameter {name} is invalid: {reason}")]
    Invalid { name: String, reason: &'static str },
}

impl NvHttpError {
    fn invalid(name: &str, reason: &'static str) -> Self {
        Self::Invalid {
            name: name.to_owned(),
            reason,
        }
    }
}

// --- Query strings ---

/// A decoded query string. Names compare ASCII-case-insensitively (as Sunshine does); when a
/// name repeats, the first value counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    params: Vec<(String, String)>,
}

/// Splits `a=1&b=%41` into decoded pairs (`+` is a space, a name without `=` has an empty
/// value, empty pieces are skipped). Bounded: at most [`MAX_QUERY_LEN`] bytes and
/// [`MAX_QUERY_PARAMS`] parameters.
pub fn parse_query(query: &str) -> Result<Query, NvHttpError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(NvHttpError::QueryTooLong);
    }
    let mut params = Vec::new();
    for piece in query.split('&').filter(|p| !p.is_empty()) {
        if params.len() == MAX_QUERY_PARAMS {
            return Err(NvHttpError::TooManyParams);
        }
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        params.push((percent_decode(name)?, percent_decode(value)?));
    }
    Ok(Query { params })
}

/// Form-style percent decoding; bytes that are not UTF-8 become U+FFFD (no parameter this
/// crate reads can hold them, and a stray one elsewhere must not fail the request).
fn percent_decode(s: &str) -> Result<String, NvHttpError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
                let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(NvHttpError::BadEscape);
                };
                out.push((hi << 4) | lo);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

impl Query {
    /// The first value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn required(&self, name: &str) -> Result<&str, NvHttpError> {
        self.get(name)
            .ok_or_else(|| NvHttpError::Missing(name.to_owned()))
    }

    /// A required hex parameter, decoded (bounded by the query's own bound).
    pub fn required_hex(&self, name: &str) -> Result<Vec<u8>, NvHttpError> {
        decode_hex(self.required(name)?).map_err(|_| NvHttpError::invalid(name, "not hex"))
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    fn parsed<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, NvHttpError> {
        self.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| NvHttpError::invalid(name, "not a number"))
            })
            .transpose()
    }

    /// `0`/`1` flags; like Sunshine, any non-zero number is true.
    fn flag(&self, name: &str) -> Result<Option<bool>, NvHttpError> {
        Ok(self.parsed::<i64>(name)?.map(|v| v != 0))
    }
}

// --- Hex ---

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid hex string")]
pub struct HexError;

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|d| d as u8)
}

/// Decodes hex digits of either case (clients differ); an odd length is an error.
pub fn decode_hex(s: &str) -> Result<Vec<u8>, HexError> {
    let digits = s.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(HexError);
    }
    digits
        .chunks_exact(2)
        .map(|pair| match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(hi), Some(lo)) => Ok((hi << 4) | lo),
            _ => Err(HexError),
        })
        .collect()
}

/// Upper-case hex, as Sunshine writes it.
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xF)]));
    }
    out
}

// --- XML writing ---

/// Appends `text` escaped for element content or a double-quoted attribute. Tabs and line
/// breaks become character references (XML readers would normalise them otherwise); characters
/// XML 1.0 cannot carry at all become U+FFFD.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push(char::REPLACEMENT_CHARACTER),
        }
    }
}

/// XML 1.0 `Char` production.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// One reply document under construction: `<root status_code=… [status_message=…]>`.
struct Doc {
    out: String,
}

impl Doc {
    fn new(status_code: u16, message: Option<&str>) -> Self {
        let mut out = String::with_capacity(256);
        out.push_str(wire::XML_DECLARATION);
        out.push_str("<root status_code=\"");
        out.push_str(&status_code.to_string());
        out.push('"');
        if let Some(message) = message {
            out.push_str(" status_message=\"");
            push_escaped(&mut out, message);
            out.push('"');
        }
        out.push('>');
        Self { out }
    }

    /// `<name>text</name>`; `name` is one of this crate's element names (never client data).
    fn element(&mut self, name: &str, text: &str) -> &mut Self {
        debug_assert!(is_element_name(name), "bad element name {name:?}");
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        push_escaped(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    fn finish(mut self) -> String {
        self.out.push_str("</root>");
        self.out
    }
}

/// The names this module writes: ASCII letters and digits, starting with a letter.
fn is_element_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

fn flag_text(on: bool) -> &'static str {
    if on {
        "1"
    } else {
        "0"
    }
}

// --- Replies ---

/// What `/serverinfo` reports. `state` is derived from `current_game` (BUSY iff non-zero), so
/// the two can never disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Display name (clients show "UNKNOWN" for an empty one).
    pub hostname: String,
    /// [`wire::pairing::APP_VERSION`](crate::wire::pairing::APP_VERSION).
    pub app_version: &'static str,
    /// [`wire::pairing::GFE_VERSION`](crate::wire::pairing::GFE_VERSION).
    pub gfe_version: &'static str,
    /// The host's persistent id (a UUID string).
    pub unique_id: String,
    pub https_port: u16,
    /// The HTTP port (Sunshine's extension for WAN port mapping).
    pub external_port: u16,
    /// `aa:bb:…`; [`wire::pairing::MAC_UNKNOWN`](crate::wire::pairing::MAC_UNKNOWN) over HTTP.
    pub mac: String,
    /// The local address the request came in on (IPv4 form; clients ignore `127.*`).
    pub local_ip: String,
    /// A public address, when configured.
    pub external_ip: Option<String>,
    /// `ServerCodecModeSupport` bits ([`crate::wire::codec_mode`]); must be non-zero.
    pub codec_mode_support: u32,
    /// [`wire::pairing::MAX_LUMA_PIXELS_HEVC`](crate::wire::pairing::MAX_LUMA_PIXELS_HEVC)
    /// when HEVC is offered, else 0.
    pub max_luma_pixels_hevc: u64,
    /// `PairStatus`: true only over HTTPS with a paired certificate.
    pub paired: bool,
    /// The running app's id, 0 when none runs.
    pub current_game: u32,
}

pub fn serverinfo_xml(info: &ServerInfo) -> String {
    let mut doc = Doc::new(status::OK, None);
    doc.element("hostname", &info.hostname)
        .element("appversion", info.app_version)
        .element("GfeVersion", info.gfe_version)
        .element("uniqueid", &info.unique_id)
        .element("HttpsPort", &info.https_port.to_string())
        .element("ExternalPort", &info.external_port.to_string())
        .element("MaxLumaPixelsHEVC", &info.max_luma_pixels_hevc.to_string())
        .element("mac", &info.mac)
        .element("LocalIP", &info.local_ip)
        .element(
            "ServerCodecModeSupport",
            &info.codec_mode_support.to_string(),
        );
    if let Some(ip) = &info.external_ip {
        doc.element("ExternalIP", ip);
    }
    let state = if info.current_game != 0 {
        wire::STATE_BUSY
    } else {
        wire::STATE_FREE
    };
    doc.element("PairStatus", flag_text(info.paired))
        .element("currentgame", &info.current_game.to_string())
        .element("state", state);
    doc.finish()
}

/// One launchable app. Clients need a non-zero id that fits an `i32` and stays stable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: u32,
    pub title: String,
    pub hdr_supported: bool,
}

pub fn applist_xml(apps: &[App]) -> String {
    let mut doc = Doc::new(status::OK, None);
    for app in apps {
        doc.open("App")
            .element("IsHdrSupported", flag_text(app.hdr_supported))
            .element("AppTitle", &app.title)
            .element("ID", &app.id.to_string())
            .close("App");
    }
    doc.finish()
}

/// `/launch` succeeded: where to send RTSP (see [`session_url`]).
pub fn launch_xml(session_url: &str) -> String {
    let mut doc = Doc::new(status::OK, None);
    doc.element("sessionUrl0", session_url)
        .element("gamesession", "1");
    doc.finish()
}

/// `/resume` succeeded.
pub fn resume_xml(session_url: &str) -> String {
    let mut doc = Doc::new(status::OK, None);
    doc.element("sessionUrl0", session_url)
        .element("resume", "1");
    doc.finish()
}

/// `/cancel` done (answer only once the app is gone).
pub fn cancel_xml() -> String {
    let mut doc = Doc::new(status::OK, None);
    doc.element("cancel", "1");
    doc.finish()
}

/// A `/pair` answer: `paired` always comes first, then `fields` (element name, text; the names
/// are [`wire::pairing::pair_field`](crate::wire::pairing::pair_field) constants, the text is
/// hex). `paired` is a separate argument so that no reply can lack it.
pub fn pair_xml(paired: bool, fields: &[(&str, String)]) -> String {
    let mut doc = Doc::new(status::OK, None);
    doc.element(pair_field::PAIRED, flag_text(paired));
    for (name, text) in fields {
        doc.element(name, text);
    }
    doc.finish()
}

/// A failed `/pair` step: status 400, the message, `paired=0` (the client starts over).
pub fn pair_fail_xml(message: &str) -> String {
    let mut doc = Doc::new(status::BAD_REQUEST, Some(message));
    doc.element(pair_field::PAIRED, "0");
    doc.finish()
}

/// Any error: `<root status_code="…" status_message="…"></root>`.
pub fn error_xml(status_code: u16, message: &str) -> String {
    Doc::new(status_code, Some(message)).finish()
}

/// A failed `/launch` (adds `gamesession=0`, which moonlight-android looks for).
pub fn launch_error_xml(status_code: u16, message: &str) -> String {
    let mut doc = Doc::new(status_code, Some(message));
    doc.element("gamesession", "0");
    doc.finish()
}

/// A failed `/resume` (adds `resume=0`).
pub fn resume_error_xml(status_code: u16, message: &str) -> String {
    let mut doc = Doc::new(status_code, Some(message));
    doc.element("resume", "0");
    doc.finish()
}

/// A bare success, e.g. for `/unpair`.
pub fn ok_xml() -> String {
    Doc::new(status::OK, None).finish()
}

/// `sessionUrl0`: `rtspenc://` when the client can encrypt RTSP, else `rtsp://`, then the
/// local address of the HTTPS connection (IPv4-mapped addresses unmapped, IPv6 in brackets)
/// and the RTSP port. Clients take the scheme and the port from it.
pub fn session_url(local_ip: IpAddr, rtsp_port: u16, encrypted_rtsp: bool) -> String {
    let scheme = if encrypted_rtsp {
        "rtspenc://"
    } else {
        "rtsp://"
    };
    match local_ip.to_canonical() {
        IpAddr::V4(v4) => format!("{scheme}{v4}:{rtsp_port}"),
        IpAddr::V6(v6) => format!("{scheme}[{v6}]:{rtsp_port}"),
    }
}

// --- /launch and /resume ---

/// The parameters of `/launch` or `/resume`.
///
/// `/resume` may come without `appid`, `mode` and `localAudioPlayMode` (older clients and
/// moonlight-python send only the key, its id and the audio layout): then `app_id` is 0 (never
/// a real app id: the host resumes the running app and does not compare it), `width`, `height`
/// and `fps` are 0 (keep the running stream's mode), and `local_audio` is false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchRequest {
    /// The app to start; non-zero on `/launch`, 0 when a `/resume` omits it.
    pub app_id: u32,
    /// From `mode=WxHxFPS`; 0 when absent. FPS is 0 from clients that think the host is GFE.
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// The AES-128 session key (RTSP, control, video, audio, input).
    pub rikey: [u8; 16],
    /// Big-endian, it is the first 4 bytes of the IVs derived from the key.
    pub rikeyid: i32,
    /// "Optimise game settings": may change the host display mode.
    pub sops: bool,
    /// Keep playing audio on the host too.
    pub local_audio: bool,
    /// Channel mask ≪ 16 | channel count ([`wire::pairing::DEFAULT_SURROUND_AUDIO_INFO`](crate::wire::pairing::DEFAULT_SURROUND_AUDIO_INFO) when absent).
    pub surround_audio_info: u32,
    /// The client wants 10-bit / HDR.
    pub hdr_mode: bool,
    /// `corever`: 0 when absent; ≥ 1 means the client can do encrypted RTSP.
    pub core_version: u32,
    /// Bit n = gamepad n is present.
    pub gcmap: u32,
}

impl LaunchRequest {
    /// Reads `/launch` (`resume == false`: `appid`, `rikey`, `rikeyid` and
    /// `localAudioPlayMode` required, `appid` non-zero) or `/resume` (only `rikey` and
    /// `rikeyid` required). Optional numbers that are present must parse.
    pub fn from_query(query: &Query, resume: bool) -> Result<Self, NvHttpError> {
        let app_id = match (query.parsed::<u32>(launch_param::APP_ID)?, resume) {
            (Some(0), false) => return Err(NvHttpError::invalid(launch_param::APP_ID, "zero")),
            (Some(id), _) => id,
            (None, true) => 0,
            (None, false) => return Err(NvHttpError::Missing(launch_param::APP_ID.to_owned())),
        };
        let local_audio = match (query.flag(launch_param::LOCAL_AUDIO_PLAY_MODE)?, resume) {
            (Some(on), _) => on,
            (None, true) => false,
            (None, false) => {
                return Err(NvHttpError::Missing(
                    launch_param::LOCAL_AUDIO_PLAY_MODE.to_owned(),
                ))
            }
        };
        let (width, height, fps) = match query.get(launch_param::MODE) {
            Some(mode) => parse_mode(mode)?,
            None => (0, 0, 0),
        };
        Ok(Self {
            app_id,
            width,
            height,
            fps,
            rikey: parse_rikey(query.required(launch_param::RI_KEY)?)?,
            rikeyid: parse_rikeyid(query.required(launch_param::RI_KEY_ID)?)?,
            sops: query.flag(launch_param::SOPS)?.unwrap_or(false),
            local_audio,
            surround_audio_info: query
                .parsed(launch_param::SURROUND_AUDIO_INFO)?
                .unwrap_or(wire::DEFAULT_SURROUND_AUDIO_INFO),
            hdr_mode: query.flag(launch_param::HDR_MODE)?.unwrap_or(false),
            core_version: query.parsed(launch_param::CORE_VERSION)?.unwrap_or(0),
            gcmap: query.parsed(launch_param::GAMEPAD_MAP)?.unwrap_or(0),
        })
    }

    /// Whether to answer `rtspenc://` (and expect encrypted RTSP).
    pub fn encrypted_rtsp(&self) -> bool {
        self.core_version >= wire::CORE_VERSION_ENCRYPTED_RTSP
    }
}

/// `WIDTHxHEIGHTxFPS`, three decimal numbers.
fn parse_mode(mode: &str) -> Result<(u32, u32, u32), NvHttpError> {
    let bad = || NvHttpError::invalid(launch_param::MODE, "not WIDTHxHEIGHTxFPS");
    let mut parts = mode.split(wire::MODE_SEPARATOR);
    let mut next =
        || -> Result<u32, NvHttpError> { parts.next().ok_or_else(bad)?.parse().map_err(|_| bad()) };
    let dims = (next()?, next()?, next()?);
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(dims)
}

fn parse_rikey(hex: &str) -> Result<[u8; 16], NvHttpError> {
    let bad = || NvHttpError::invalid(launch_param::RI_KEY, "not 32 hex digits");
    decode_hex(hex)
        .map_err(|_| bad())?
        .try_into()
        .map_err(|_| bad())
}

/// A signed 32-bit number; an unsigned one above `i32::MAX` (the same four bytes) is taken too.
fn parse_rikeyid(text: &str) -> Result<i32, NvHttpError> {
    text.parse::<i32>()
        .or_else(|_| text.parse::<u32>().map(|v| v as i32))
        .map_err(|_| NvHttpError::invalid(launch_param::RI_KEY_ID, "not a 32-bit number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use quick_xml::events::Event;

    /// (name, text) pairs: attributes of `<root>` or elements by their path.
    type Pairs = Vec<(String, String)>;

    /// Parses `xml` strictly and returns (root attributes, [(element path, text)]).
    fn parse_strict(xml: &str) -> (Pairs, Pairs) {
        let mut reader = quick_xml::Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut path: Vec<String> = Vec::new();
        let mut root_attrs = Vec::new();
        let mut texts = Vec::new();
        let mut text = String::new();
        let mut roots = 0;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Decl(_) => {}
                Event::Start(e) => {
                    let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                    if path.is_empty() {
                        roots += 1;
                        assert_eq!(name, "root");
                        for a in e.attributes() {
                            let a = a.expect("attribute");
                            root_attrs.push((
                                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                    .expect("escaped value")
                                    .into_owned(),
                            ));
                        }
                    }
                    path.push(name);
                    text.clear();
                }
                Event::Text(t) => text.push_str(&t.xml10_content().expect("text")),
                Event::GeneralRef(r) => {
                    let name = r.decode().unwrap();
                    if let Some(c) = r.resolve_char_ref().expect("char ref") {
                        text.push(c);
                    } else {
                        text.push_str(
                            quick_xml::escape::resolve_predefined_entity(&name)
                                .expect("known entity"),
                        );
                    }
                }
                Event::End(_) => {
                    let full = path.join("/");
                    path.pop();
                    if !path.is_empty() {
                        texts.push((full, std::mem::take(&mut text)));
                    }
                }
                Event::Eof => break,
                other => panic!("unexpected XML event {other:?}"),
            }
        }
        assert_eq!(roots, 1);
        assert!(path.is_empty());
        (root_attrs, texts)
    }

    fn field<'a>(texts: &'a [(String, String)], path: &str) -> Option<&'a str> {
        texts
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
    }

    fn status_of(attrs: &[(String, String)]) -> (&str, Option<&str>) {
        let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        (get("status_code").unwrap(), get("status_message"))
    }

    fn sample_info() -> ServerInfo {
        ServerInfo {
            hostname: "den <pc> & \"co\"".into(),
            app_version: wire::APP_VERSION,
            gfe_version: wire::GFE_VERSION,
            unique_id: "3F2504E0-4F89-11D3-9A0C-0305E82C3301".into(),
            https_port: 47984,
            external_port: 47989,
            mac: wire::MAC_UNKNOWN.into(),
            local_ip: "192.168.1.10".into(),
            external_ip: None,
            codec_mode_support: crate::wire::codec_mode::H264 | crate::wire::codec_mode::HEVC,
            max_luma_pixels_hevc: wire::MAX_LUMA_PIXELS_HEVC,
            paired: false,
            current_game: 0,
        }
    }

    #[test]
    fn serverinfo_has_every_field_moonlight_reads() {
        let xml = serverinfo_xml(&sample_info());
        assert!(xml.starts_with(wire::XML_DECLARATION));
        let (attrs, texts) = parse_strict(&xml);
        assert_eq!(status_of(&attrs), ("200", None));
        for (path, want) in [
            ("root/hostname", "den <pc> & \"co\""),
            ("root/appversion", "7.1.431.-1"),
            ("root/GfeVersion", "3.23.0.74"),
            ("root/uniqueid", "3F2504E0-4F89-11D3-9A0C-0305E82C3301"),
            ("root/HttpsPort", "47984"),
            ("root/ExternalPort", "47989"),
            ("root/MaxLumaPixelsHEVC", "1869449984"),
            ("root/mac", "00:00:00:00:00:00"),
            ("root/LocalIP", "192.168.1.10"),
            ("root/ServerCodecModeSupport", "257"),
            ("root/PairStatus", "0"),
            ("root/currentgame", "0"),
            ("root/state", "SUNSHINE_SERVER_FREE"),
        ] {
            assert_eq!(field(&texts, path), Some(want), "{path}");
        }
        assert_eq!(field(&texts, "root/ExternalIP"), None);
    }

    #[test]
    fn serverinfo_busy_follows_current_game() {
        let info = ServerInfo {
            current_game: 881448767,
            paired: true,
            external_ip: Some("203.0.113.7".into()),
            ..sample_info()
        };
        let (_, texts) = parse_strict(&serverinfo_xml(&info));
        assert_eq!(field(&texts, "root/state"), Some("SUNSHINE_SERVER_BUSY"));
        assert_eq!(field(&texts, "root/currentgame"), Some("881448767"));
        assert_eq!(field(&texts, "root/PairStatus"), Some("1"));
        assert_eq!(field(&texts, "root/ExternalIP"), Some("203.0.113.7"));
    }

    #[test]
    fn applist_lists_apps_in_order() {
        let apps = [
            App {
                id: 881448767,
                title: "Desktop".into(),
                hdr_supported: true,
            },
            App {
                id: 7,
                title: "Tom & Jerry's <Game>".into(),
                hdr_supported: false,
            },
        ];
        let (attrs, texts) = parse_strict(&applist_xml(&apps));
        assert_eq!(status_of(&attrs), ("200", None));
        let got: Vec<_> = texts
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("root/App/IsHdrSupported", "1"),
                ("root/App/AppTitle", "Desktop"),
                ("root/App/ID", "881448767"),
                ("root/App", ""),
                ("root/App/IsHdrSupported", "0"),
                ("root/App/AppTitle", "Tom & Jerry's <Game>"),
                ("root/App/ID", "7"),
                ("root/App", ""),
            ]
        );
    }

    #[test]
    fn launch_resume_cancel_replies() {
        let url = "rtspenc://192.168.1.10:48010";
        let (a, t) = parse_strict(&launch_xml(url));
        assert_eq!(status_of(&a), ("200", None));
        assert_eq!(field(&t, "root/sessionUrl0"), Some(url));
        assert_eq!(field(&t, "root/gamesession"), Some("1"));
        let (_, t) = parse_strict(&resume_xml(url));
        assert_eq!(field(&t, "root/sessionUrl0"), Some(url));
        assert_eq!(field(&t, "root/resume"), Some("1"));
        let (_, t) = parse_strict(&cancel_xml());
        assert_eq!(field(&t, "root/cancel"), Some("1"));
        let (a, t) = parse_strict(&ok_xml());
        assert_eq!(status_of(&a), ("200", None));
        assert!(t.is_empty());
    }

    #[test]
    fn error_replies_carry_code_and_message() {
        let (a, t) = parse_strict(&error_xml(401, "The client is not \"authorized\"."));
        assert_eq!(
            status_of(&a),
            ("401", Some("The client is not \"authorized\"."))
        );
        assert!(t.is_empty());
        let (a, t) = parse_strict(&launch_error_xml(
            400,
            "An app is already running on this host",
        ));
        assert_eq!(
            status_of(&a),
            ("400", Some("An app is already running on this host"))
        );
        assert_eq!(field(&t, "root/gamesession"), Some("0"));
        let (a, t) = parse_strict(&resume_error_xml(503, "No running app to resume"));
        assert_eq!(status_of(&a).0, "503");
        assert_eq!(field(&t, "root/resume"), Some("0"));
    }

    #[test]
    fn pair_replies_always_say_paired() {
        let xml = pair_xml(true, &[(pair_field::PLAIN_CERT, encode_hex(b"-----BEGIN"))]);
        let (a, t) = parse_strict(&xml);
        assert_eq!(status_of(&a), ("200", None));
        assert_eq!(field(&t, "root/paired"), Some("1"));
        assert_eq!(field(&t, "root/plaincert"), Some("2D2D2D2D2D424547494E"));
        let (_, t) = parse_strict(&pair_xml(false, &[]));
        assert_eq!(field(&t, "root/paired"), Some("0"));
        let (a, t) = parse_strict(&pair_fail_xml("Out of order call to clientchallenge"));
        assert_eq!(
            status_of(&a),
            ("400", Some("Out of order call to clientchallenge"))
        );
        assert_eq!(field(&t, "root/paired"), Some("0"));
    }

    #[test]
    fn session_urls() {
        let v4: IpAddr = "192.168.1.10".parse().unwrap();
        assert_eq!(session_url(v4, 48010, true), "rtspenc://192.168.1.10:48010");
        assert_eq!(session_url(v4, 48010, false), "rtsp://192.168.1.10:48010");
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert_eq!(session_url(mapped, 48010, false), "rtsp://10.0.0.2:48010");
        let v6: IpAddr = "fd00::5".parse().unwrap();
        assert_eq!(session_url(v6, 48010, true), "rtspenc://[fd00::5]:48010");
    }

    #[test]
    fn query_decoding() {
        let q = parse_query("uniqueid=0123456789ABCDEF&uuid=a%2Db&name=a+b&flag&&x=%41%62&x=2")
            .unwrap();
        assert_eq!(q.len(), 6);
        assert_eq!(q.get("UNIQUEID"), Some("0123456789ABCDEF"));
        assert_eq!(q.get("uuid"), Some("a-b"));
        assert_eq!(q.get("name"), Some("a b"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("x"), Some("Ab"), "the first of repeated names");
        assert_eq!(q.get("nope"), None);
        assert_eq!(q.required("nope"), Err(NvHttpError::Missing("nope".into())));
        assert!(parse_query("").unwrap().is_empty());
        assert_eq!(parse_query("a=%4"), Err(NvHttpError::BadEscape));
        assert_eq!(parse_query("a=%zz"), Err(NvHttpError::BadEscape));
        assert_eq!(parse_query("a=%FF").unwrap().get("a"), Some("\u{FFFD}"));
    }

    #[test]
    fn query_bounds() {
        let many = vec!["a=1"; MAX_QUERY_PARAMS].join("&");
        assert_eq!(parse_query(&many).unwrap().len(), MAX_QUERY_PARAMS);
        let too_many = format!("{many}&b=2");
        assert_eq!(parse_query(&too_many), Err(NvHttpError::TooManyParams));
        let long = format!("a={}", "0".repeat(MAX_QUERY_LEN - 2));
        assert!(parse_query(&long).is_ok());
        let too_long = format!("a={}", "0".repeat(MAX_QUERY_LEN - 1));
        assert_eq!(parse_query(&too_long), Err(NvHttpError::QueryTooLong));
    }

    #[test]
    fn hex_round_trip_and_errors() {
        assert_eq!(encode_hex(&[0x00, 0xAB, 0x7f]), "00AB7F");
        assert_eq!(decode_hex("00ab7F").unwrap(), [0x00, 0xAB, 0x7F]);
        assert_eq!(decode_hex("").unwrap(), Vec::<u8>::new());
        assert_eq!(decode_hex("abc"), Err(HexError));
        assert_eq!(decode_hex("zz"), Err(HexError));
        assert_eq!(decode_hex("+1"), Err(HexError));
        let q = parse_query("k=0A0b&bad=xyz").unwrap();
        assert_eq!(q.required_hex("k").unwrap(), [0x0A, 0x0B]);
        assert!(matches!(
            q.required_hex("bad"),
            Err(NvHttpError::Invalid { .. })
        ));
    }

    /// What moonlight-qt sends (`NvHTTP::startApp`) for an HDR-capable client, with
    /// moonlight-common-c's `LiGetLaunchUrlQueryParameters()` (`&corever=1`) at the end.
    const MOONLIGHT_QT_LAUNCH: &str =
        "uniqueid=0123456789ABCDEF&uuid=8f3c6a0e2b1d4c5e9a7b6c5d4e3f2a1b\
        &appid=881448767&mode=2560x1440x120&additionalStates=1&sops=1\
        &rikey=00112233445566778899aabbccddeeff&rikeyid=-1207416530\
        &hdrMode=1&clientHdrCapVersion=0&clientHdrCapSupportedFlagsInUint32=0\
        &clientHdrCapMetaDataId=NV_STATIC_METADATA_TYPE_1\
        &clientHdrCapDisplayData=0x0x0x0x0x0x0x0x0x0x0\
        &localAudioPlayMode=0&surroundAudioInfo=4128774&remoteControllersBitmap=3\
        &gcmap=3&gcpersist=0&corever=1";

    #[test]
    fn launch_from_moonlight_qt() {
        let q = parse_query(MOONLIGHT_QT_LAUNCH).unwrap();
        let r = LaunchRequest::from_query(&q, false).unwrap();
        assert_eq!(
            r,
            LaunchRequest {
                app_id: 881448767,
                width: 2560,
                height: 1440,
                fps: 120,
                rikey: [
                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
                    0xdd, 0xee, 0xff
                ],
                rikeyid: -1207416530,
                sops: true,
                local_audio: false,
                surround_audio_info: 0x3F0006,
                hdr_mode: true,
                core_version: 1,
                gcmap: 3,
            }
        );
        assert!(r.encrypted_rtsp());
        // moonlight-qt sends the same set to /resume.
        assert_eq!(LaunchRequest::from_query(&q, true).unwrap(), r);
    }

    /// moonlight-python's `launch_app` / `resume_app` (http_client.py) with `&corever=1`.
    #[test]
    fn launch_and_resume_from_moonlight_python() {
        let launch = "uniqueid=0123456789ABCDEF&uuid=0f1e2d3c4b5a69788796a5b4c3d2e1f0\
            &appid=1093255277&mode=1920x1080x60&additionalStates=1&sops=1\
            &rikey=0f0e0d0c0b0a09080706050403020100&rikeyid=16909060\
            &localAudioPlayMode=1&surroundAudioInfo=196610&remoteControllersBitmap=0\
            &gcmap=0&gcpersist=0&corever=1";
        let r = LaunchRequest::from_query(&parse_query(launch).unwrap(), false).unwrap();
        assert_eq!(
            (r.app_id, r.width, r.height, r.fps),
            (1093255277, 1920, 1080, 60)
        );
        assert_eq!(r.rikey[0], 0x0f);
        assert_eq!(r.rikeyid, 0x01020304);
        assert!(r.sops && r.local_audio && !r.hdr_mode);
        assert_eq!(r.surround_audio_info, wire::DEFAULT_SURROUND_AUDIO_INFO);
        assert_eq!(r.core_version, 1);

        let resume = "uniqueid=0123456789ABCDEF&uuid=00&rikey=0F0E0D0C0B0A09080706050403020100\
            &rikeyid=-1&surroundAudioInfo=104792072&corever=1";
        let q = parse_query(resume).unwrap();
        let r = LaunchRequest::from_query(&q, true).unwrap();
        assert_eq!((r.app_id, r.width, r.height, r.fps), (0, 0, 0, 0));
        assert_eq!(r.rikeyid, -1);
        assert!(!r.local_audio && !r.sops);
        assert_eq!(r.surround_audio_info, 0x63F0008);
        // The same query is no /launch.
        assert_eq!(
            LaunchRequest::from_query(&q, false),
            Err(NvHttpError::Missing("appid".into()))
        );
    }

    #[test]
    fn launch_rejects_bad_parameters() {
        let base = "appid=5&mode=1920x1080x60&rikey=00112233445566778899aabbccddeeff\
            &rikeyid=7&localAudioPlayMode=0";
        assert!(LaunchRequest::from_query(&parse_query(base).unwrap(), false).is_ok());
        let without = |name: &str| {
            base.split('&')
                .filter(|p| !p.starts_with(&format!("{name}=")))
                .collect::<Vec<_>>()
                .join("&")
        };
        for name in ["appid", "rikey", "rikeyid", "localAudioPlayMode"] {
            let q = parse_query(&without(name)).unwrap();
            assert_eq!(
                LaunchRequest::from_query(&q, false),
                Err(NvHttpError::Missing(name.into())),
                "{name}"
            );
        }
        assert!(LaunchRequest::from_query(&parse_query(&without("mode")).unwrap(), false).is_ok());
        for bad in [
            "appid=0",
            "appid=-3",
            "mode=1920x1080",
            "mode=1920x1080x60x1",
            "mode=axbxc",
            "rikey=0011",
            "rikey=zz112233445566778899aabbccddeeff",
            "rikeyid=4294967296",
            "rikeyid=",
            "sops=yes",
            "surroundAudioInfo=-1",
            "corever=x",
            "gcmap=1.5",
            "hdrMode=",
        ] {
            // The bad value comes first, so it is the one read.
            let q = parse_query(&format!("{bad}&{base}")).unwrap();
            assert!(
                matches!(
                    LaunchRequest::from_query(&q, false),
                    Err(NvHttpError::Invalid { .. })
                ),
                "{bad}"
            );
        }
        let q = parse_query(&format!("rikeyid=4294967295&{base}")).unwrap();
        assert_eq!(LaunchRequest::from_query(&q, false).unwrap().rikeyid, -1);
    }

    proptest! {
        #[test]
        fn arbitrary_queries_never_panic(s in "\\PC{0,300}") {
            if let Ok(q) = parse_query(&s) {
                prop_assert!(q.len() <= MAX_QUERY_PARAMS);
                let _ = LaunchRequest::from_query(&q, false);
                let _ = LaunchRequest::from_query(&q, true);
            }
        }

        #[test]
        fn query_shaped_strings_never_panic(
            pieces in proptest::collection::vec(
                ("[a-zA-Z%+]{0,8}", "[0-9a-fA-Fx%+-]{0,40}"), 0..80)
        ) {
            let s: Vec<String> = pieces.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if let Ok(q) = parse_query(&s.join("&")) {
                let _ = LaunchRequest::from_query(&q, false);
                let _ = LaunchRequest::from_query(&q, true);
            }
        }

        #[test]
        fn encoded_values_decode_back(name in "[a-z]{1,10}", value in "\\PC{0,50}") {
            let encoded: String = value
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect();
            let q = parse_query(&format!("{name}={encoded}")).unwrap();
            prop_assert_eq!(q.get(&name), Some(value.as_str()));
        }

        #[test]
        fn launch_fields_round_trip(
            app_id in 1u32.., w in any::<u32>(), h in any::<u32>(), fps in any::<u32>(),
            rikey in any::<[u8; 16]>(), rikeyid in any::<i32>(), sops in any::<bool>(),
            local_audio in any::<bool>(), surround in any::<u32>(), hdr in any::<bool>(),
            corever in any::<u32>(), gcmap in any::<u32>(),
        ) {
            let query = format!(
                "appid={app_id}&mode={w}x{h}x{fps}&rikey={}&rikeyid={rikeyid}&sops={}\
                 &localAudioPlayMode={}&surroundAudioInfo={surround}&hdrMode={}\
                 &corever={corever}&gcmap={gcmap}",
                encode_hex(&rikey), u8::from(sops), u8::from(local_audio), u8::from(hdr)
            );
            let r = LaunchRequest::from_query(&parse_query(&query).unwrap(), false).unwrap();
            prop_assert_eq!(r, LaunchRequest {
                app_id, width: w, height: h, fps, rikey, rikeyid, sops, local_audio,
                surround_audio_info: surround, hdr_mode: hdr, core_version: corever, gcmap,
            });
        }

        #[test]
        fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let hex = encode_hex(&bytes);
            prop_assert_eq!(decode_hex(&hex).unwrap(), bytes.clone());
            prop_assert_eq!(decode_hex(&hex.to_lowercase()).unwrap(), bytes);
        }

        #[test]
        fn any_text_survives_the_xml(title in "\\PC{0,40}|[\\x00-\\x20&<>\"']{0,20}", id in 1u32..) {
            let xml = applist_xml(&[App { id, title: title.clone(), hdr_supported: true }]);
            let (_, texts) = parse_strict(&xml);
            let want: String = title
                .chars()
                .map(|c| if is_xml_char(c) { c } else { char::REPLACEMENT_CHARACTER })
                .collect();
            prop_assert_eq!(field(&texts, "root/App/AppTitle"), Some(want.as_str()));
            let (attrs, _) = parse_strict(&error_xml(400, &title));
            prop_assert_eq!(status_of(&attrs).1, Some(want.as_str()));
        }
    }
}
