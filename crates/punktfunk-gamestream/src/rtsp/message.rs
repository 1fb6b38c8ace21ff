//! Plain RTSP messages: request parsing (bounded, incremental) and response encoding in the
//! form moonlight-common-c's `parseRtspMessage` accepts.

use super::RtspError;
use crate::wire::rtsp::{
    CRLF, HEADER_CONTENT_LENGTH, HEADER_CSEQ, HEADER_END, MAX_BODY, MAX_HEADERS, MAX_HEADER_BLOCK,
    PROTOCOL, STATUS_BAD_REQUEST, STATUS_OK,
};

/// One client request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub cseq: u32,
    /// In arrival order, names as sent, values trimmed of surrounding blanks.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One host reply. `encode` writes `CSeq` first, then `headers` (which should not repeat it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: &'static str,
    pub cseq: u32,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A reply with no headers but `CSeq` and no body; `status` is a `wire::rtsp::STATUS_*`.
    pub fn new((status, reason): (u16, &'static str), cseq: u32) -> Self {
        Self {
            status,
            reason,
            cseq,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn ok(cseq: u32) -> Self {
        Self::new(STATUS_OK, cseq)
    }

    /// What to send (then close) when a request cannot be parsed; `cseq` 0 if unknown.
    pub fn bad_request(cseq: u32) -> Self {
        Self::new(STATUS_BAD_REQUEST, cseq)
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// `RTSP/1.0 <code> <reason>` CRLF, `Name: value` CRLF per header (`CSeq` always, first:
    /// the client needs at least one header to find the end of the block), CRLF, body. No
    /// `Content-Length`: the client reads the body to EOF, and Sunshine sends none either.
    /// CR, LF and NUL are dropped from names, values and the reason so no field can end the
    /// block early.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.body.len());
        let reason = clean_field(self.reason);
        let reason = if reason.is_empty() { "-" } else { &reason };
        out.extend_from_slice(format!("{PROTOCOL} {} {reason}", self.status).as_bytes());
        out.extend_from_slice(CRLF);
        push_header(&mut out, HEADER_CSEQ, &self.cseq.to_string());
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case(HEADER_CSEQ) {
                push_header(&mut out, name, value);
            }
        }
        out.extend_from_slice(CRLF);
        out.extend_from_slice(&self.body);
        out
    }
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    // The client takes the value from one byte after the colon: exactly one space.
    out.extend_from_slice(clean_field(name).as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(clean_field(value).as_bytes());
    out.extend_from_slice(CRLF);
}

fn clean_field(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\r' | '\n' | '\0'))
        .collect()
}

/// Parses one plain request from the start of `buf`.
///
/// `Ok(None)`: more bytes needed. `Ok(Some((request, consumed)))`: a full request occupies
/// `buf[..consumed]`. The body is `Content-length` bytes (the client sends it on ANNOUNCE, the
/// only request with a body); without that header the body is empty. Limits
/// ([`MAX_HEADER_BLOCK`], [`MAX_HEADERS`], [`MAX_BODY`]) are checked before buffering more.
pub fn parse_request(buf: &[u8]) -> Result<Option<(Request, usize)>, RtspError> {
    let Some(head_len) = header_block_len(buf)? else {
        return Ok(None);
    };
    let head = parse_head(&buf[..head_len - HEADER_END.len()])?;
    let body_len = content_length(&head.headers)?.unwrap_or(0);
    let Some(body) = buf.get(head_len..head_len + body_len) else {
        return Ok(None);
    };
    Ok(Some((
        head.into_request(body.to_vec()),
        head_len + body_len,
    )))
}

/// Parses the plaintext of one encrypted record, which holds exactly one whole request.
///
/// A `Content-length` must match the bytes after the header block; without one, those bytes
/// are the body (the record itself delimits the message).
pub fn parse_sealed_request(plaintext: &[u8]) -> Result<Request, RtspError> {
    let head_len = header_block_len(plaintext)?.ok_or(RtspError::Truncated)?;
    let head = parse_head(&plaintext[..head_len - HEADER_END.len()])?;
    let rest = &plaintext[head_len..];
    match content_length(&head.headers)? {
        Some(n) if n > rest.len() => return Err(RtspError::Truncated),
        Some(n) if n < rest.len() => return Err(RtspError::Malformed("bytes after the body")),
        _ if rest.len() > MAX_BODY => {
            return Err(RtspError::BodyTooLarge {
                length: rest.len() as u64,
                limit: MAX_BODY,
            })
        }
        _ => {}
    }
    Ok(head.into_request(rest.to_vec()))
}

/// Length of the header block including its blank line, once it is all in `buf`.
fn header_block_len(buf: &[u8]) -> Result<Option<usize>, RtspError> {
    let window = &buf[..buf.len().min(MAX_HEADER_BLOCK)];
    match window
        .windows(HEADER_END.len())
        .position(|w| w == HEADER_END)
    {
        Some(pos) => Ok(Some(pos + HEADER_END.len())),
        None if buf.len() >= MAX_HEADER_BLOCK => Err(RtspError::HeaderTooLarge {
            limit: MAX_HEADER_BLOCK,
        }),
        None => Ok(None),
    }
}

struct Head {
    method: String,
    target: String,
    cseq: u32,
    headers: Vec<(String, String)>,
}

impl Head {
    fn into_request(self, body: Vec<u8>) -> Request {
        Request {
            method: self.method,
            target: self.target,
            cseq: self.cseq,
            headers: self.headers,
            body,
        }
    }
}

/// Request line and header lines, without the final blank line.
fn parse_head(block: &[u8]) -> Result<Head, RtspError> {
    let text =
        std::str::from_utf8(block).map_err(|_| RtspError::Malformed("header is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let (method, target) = parse_request_line(lines.next().unwrap_or_default())?;
    let mut headers = Vec::new();
    for line in lines {
        if headers.len() == MAX_HEADERS {
            return Err(RtspError::TooManyHeaders { limit: MAX_HEADERS });
        }
        headers.push(parse_header_line(line)?);
    }
    let cseq = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(HEADER_CSEQ))
        .and_then(|(_, v)| parse_decimal(v))
        .and_then(|v| u32::try_from(v).ok())
        .ok_or(RtspError::InvalidCSeq)?;
    Ok(Head {
        method: method.to_owned(),
        target: target.to_owned(),
        cseq,
        headers,
    })
}

/// `METHOD SP target SP RTSP/1.0`.
fn parse_request_line(line: &str) -> Result<(&str, &str), RtspError> {
    if line.bytes().any(|b| b.is_ascii_control()) {
        return Err(RtspError::Malformed("control character in request line"));
    }
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target), Some(protocol), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(RtspError::Malformed(
            "request line is not METHOD TARGET RTSP/1.0",
        ));
    };
    if protocol != PROTOCOL {
        return Err(RtspError::Malformed("protocol is not RTSP/1.0"));
    }
    Ok((method, target))
}

/// `Name: value`; the name may not contain blanks, the value is trimmed.
fn parse_header_line(line: &str) -> Result<(String, String), RtspError> {
    if line.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Err(RtspError::Malformed("control character in header"));
    }
    let (name, value) = line
        .split_once(':')
        .ok_or(RtspError::Malformed("header line without ':'"))?;
    let name = name.trim_start_matches([' ', '\t']);
    if name.is_empty() || name.contains([' ', '\t']) {
        return Err(RtspError::Malformed("bad header name"));
    }
    Ok((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()))
}

/// The body length, checked against [`MAX_BODY`]; duplicates must agree.
fn content_length(headers: &[(String, String)]) -> Result<Option<usize>, RtspError> {
    let mut found: Option<u64> = None;
    for (_, value) in headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(HEADER_CONTENT_LENGTH))
    {
        let length = parse_decimal(value).ok_or(RtspError::InvalidContentLength)?;
        if found.is_some_and(|f| f != length) {
            return Err(RtspError::InvalidContentLength);
        }
        found = Some(length);
    }
    match found {
        Some(length) if length > MAX_BODY as u64 => Err(RtspError::BodyTooLarge {
            length,
            limit: MAX_BODY,
        }),
        // Bounded by MAX_BODY just above, so it fits.
        Some(length) => Ok(Some(length as usize)),
        None => Ok(None),
    }
}

/// Plain decimal digits only (what the client's `%d` prints); saturates at `u64::MAX` so an
/// absurdly long number still reads as "too large" rather than "invalid".
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A request serialized the way moonlight-common-c's `serializeRtspMessage` does.
    pub(crate) fn client_request(
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Vec<u8> {
        let mut out = format!("{method} {target} RTSP/1.0\r\n").into_bytes();
        for (n, v) in headers {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn parses_the_clients_options_request() {
        let bytes = b"OPTIONS rtspenc://192.168.1.10:48010 RTSP/1.0\r\nCSeq: 1\r\n\
X-GS-ClientVersion: 14\r\nHost: 192.168.1.10\r\n\r\n";
        let (req, used) = parse_request(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(req.method, "OPTIONS");
        assert_eq!(req.target, "rtspenc://192.168.1.10:48010");
        assert_eq!(req.cseq, 1);
        assert_eq!(req.header("host"), Some("192.168.1.10"));
        assert_eq!(req.header("X-GS-CLIENTVERSION"), Some("14"));
        assert!(req.body.is_empty());
    }

    #[test]
    fn announce_body_follows_lowercase_content_length_and_may_arrive_in_pieces() {
        let body = b"v=0\r\na=x-nv-video[0].maxFPS:60 \r\n";
        let len = body.len().to_string();
        let bytes = client_request(
            "ANNOUNCE",
            "streamid=control/13/0",
            &[
                ("CSeq", "6"),
                ("Session", "DEADBEEFCAFE"),
                ("Content-type", "application/sdp"),
                ("Content-length", &len),
            ],
            body,
        );
        for cut in 0..bytes.len() {
            assert_eq!(parse_request(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
        let mut more = bytes.clone();
        more.extend_from_slice(b"OPTIONS x RTSP/1.0\r\n");
        let (req, used) = parse_request(&more).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(req.body, body);
    }

    #[test]
    fn limits_are_enforced_before_the_bytes_arrive() {
        let big = format!(
            "ANNOUNCE x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert_eq!(
            parse_request(big.as_bytes()),
            Err(RtspError::BodyTooLarge {
                length: MAX_BODY as u64 + 1,
                limit: MAX_BODY
            })
        );
        let huge =
            "ANNOUNCE x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999999999999999999999\r\n\r\n";
        assert!(matches!(
            parse_request(huge.as_bytes()),
            Err(RtspError::BodyTooLarge { .. })
        ));
        let endless = vec![b'a'; MAX_HEADER_BLOCK];
        assert_eq!(
            parse_request(&endless),
            Err(RtspError::HeaderTooLarge {
                limit: MAX_HEADER_BLOCK
            })
        );
        assert_eq!(parse_request(&endless[..MAX_HEADER_BLOCK - 1]), Ok(None));
        let mut many = b"OPTIONS x RTSP/1.0\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_request(&many),
            Err(RtspError::TooManyHeaders { limit: MAX_HEADERS })
        );
    }

    #[test]
    fn malformed_requests_are_errors() {
        for bad in [
            &b"OPTIONS x HTTP/1.1\r\nCSeq: 1\r\n\r\n"[..],
            b"OPTIONS RTSP/1.0\r\nCSeq: 1\r\n\r\n",
            b"OPTIONS x RTSP/1.0\r\nCSeq 1\r\n\r\n",
            b"OPTIONS x RTSP/1.0\r\nCSeq: 1\nX: y\r\n\r\n",
            b"OPTIONS x RTSP/1.0\r\nC Seq: 1\r\n\r\n",
            b"OPTIONS x RTSP/1.0\r\n\xff: 1\r\n\r\n",
        ] {
            assert!(
                matches!(parse_request(bad), Err(RtspError::Malformed(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_request(b"OPTIONS x RTSP/1.0\r\nHost: a\r\n\r\n"),
            Err(RtspError::InvalidCSeq)
        );
        assert_eq!(
            parse_request(b"OPTIONS x RTSP/1.0\r\nCSeq: -1\r\n\r\n"),
            Err(RtspError::InvalidCSeq)
        );
        assert_eq!(
            parse_request(
                b"A x RTSP/1.0\r\nCSeq: 1\r\nContent-length: 1\r\ncontent-length: 2\r\n\r\n"
            ),
            Err(RtspError::InvalidContentLength)
        );
        assert_eq!(
            parse_request(b"A x RTSP/1.0\r\nCSeq: 1\r\nContent-length: +1\r\n\r\n"),
            Err(RtspError::InvalidContentLength)
        );
    }

    #[test]
    fn sealed_plaintext_is_exactly_one_request() {
        let with_len = client_request(
            "ANNOUNCE",
            "x",
            &[("CSeq", "6"), ("Content-length", "3")],
            b"abc",
        );
        assert_eq!(parse_sealed_request(&with_len).unwrap().body, b"abc");
        assert_eq!(
            parse_sealed_request(&with_len[..with_len.len() - 1]),
            Err(RtspError::Truncated)
        );
        let mut extra = with_len.clone();
        extra.push(b'd');
        assert!(matches!(
            parse_sealed_request(&extra),
            Err(RtspError::Malformed(_))
        ));
        // Without Content-length the record's end delimits the body.
        let without = client_request("ANNOUNCE", "x", &[("CSeq", "6")], b"abc");
        assert_eq!(parse_sealed_request(&without).unwrap().body, b"abc");
        assert_eq!(
            parse_sealed_request(b"OPTIONS x RTSP/1.0\r\nCSeq: 1\r\n"),
            Err(RtspError::Truncated)
        );
    }

    #[test]
    fn response_encoding_matches_what_the_client_parses() {
        let setup = Response::ok(3)
            .with_header("Session", "DEADBEEFCAFE;timeout = 90")
            .with_header("Transport", "server_port=48000")
            .with_header("X-SS-Ping-Payload", "3F1A9C0D22B47E51");
        assert_eq!(
            setup.encode(),
            b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: DEADBEEFCAFE;timeout = 90\r\n\
Transport: server_port=48000\r\nX-SS-Ping-Payload: 3F1A9C0D22B47E51\r\n\r\n"
        );
        let describe = Response::ok(2).with_body(b"a=x:1\n".to_vec());
        assert_eq!(
            describe.encode(),
            b"RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\na=x:1\n"
        );
        assert_eq!(
            Response::bad_request(0).encode(),
            b"RTSP/1.0 400 BAD REQUEST\r\nCSeq: 0\r\n\r\n"
        );
    }

    #[test]
    fn response_fields_cannot_inject_lines() {
        let r = Response::ok(1)
            .with_header("CSeq", "9")
            .with_header("X\r\nEvil", "a\r\n\r\nb");
        assert_eq!(
            r.encode(),
            b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nXEvil: ab\r\n\r\n"
        );
    }

    fn token() -> impl Strategy<Value = String> {
        "[A-Za-z][A-Za-z0-9_.=/:-]{0,20}"
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_respect_bounds(buf in proptest::collection::vec(any::<u8>(), 0..12_000)) {
            if let Ok(Some((req, used))) = parse_request(&buf) {
                prop_assert!(used <= buf.len());
                prop_assert!(used <= MAX_HEADER_BLOCK + MAX_BODY);
                prop_assert!(req.headers.len() <= MAX_HEADERS);
                prop_assert!(req.body.len() <= MAX_BODY);
            }
            if let Ok(req) = parse_sealed_request(&buf) {
                prop_assert!(req.body.len() <= MAX_BODY);
            }
        }

        #[test]
        fn client_serialized_requests_round_trip(
            method in "[A-Z]{1,10}",
            target in token(),
            cseq in any::<u32>(),
            extra in proptest::collection::vec((token().prop_filter("no colon", |t| !t.contains(':')), "[ -~]{0,30}"), 0..8),
            body in proptest::collection::vec(any::<u8>(), 0..300),
            split in any::<prop::sample::Index>(),
        ) {
            let cseq_text = cseq.to_string();
            let len = body.len().to_string();
            let mut headers = vec![("CSeq", cseq_text.as_str())];
            headers.extend(extra.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("cseq") && !n.eq_ignore_ascii_case("content-length")).map(|(n, v)| (n.as_str(), v.as_str())));
            headers.push(("Content-length", &len));
            let bytes = client_request(&method, &target, &headers, &body);
            let cut = split.index(bytes.len());
            prop_assert_eq!(parse_request(&bytes[..cut]), Ok(None));
            let (req, used) = parse_request(&bytes).unwrap().unwrap();
            prop_assert_eq!(used, bytes.len());
            prop_assert_eq!(&req.method, &method);
            prop_assert_eq!(&req.target, &target);
            prop_assert_eq!(req.cseq, cseq);
            prop_assert_eq!(&req.body, &body);
            for (n, _) in &headers {
                let first = headers.iter().find(|(m, _)| m.eq_ignore_ascii_case(n)).unwrap().1;
                prop_assert_eq!(req.header(n), Some(first.trim_matches([' ', '\t'])));
            }
        }
    }
}
