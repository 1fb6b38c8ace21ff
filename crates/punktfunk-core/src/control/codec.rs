//! Framing of control messages: `varint type ‖ varint length ‖ body`, a body being a run of
//! `varint tag ‖ varint length ‖ value` fields. Sizes are checked before anything is buffered.

use super::varint;
use crate::wire::control::{body_bound, MAX_BODY};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("message ends in the middle of a field")]
    Truncated,
    #[error("message type {kind:#x} of {len} bytes exceeds its {bound}-byte bound")]
    TooLarge { kind: u64, len: u64, bound: usize },
    #[error("field {0} appears twice")]
    RepeatedTag(u64),
    #[error("{message} lacks its required field {tag}")]
    MissingField { message: &'static str, tag: u64 },
    #[error("field `{0}` has a value out of range or of the wrong shape")]
    BadValue(&'static str),
}

/// Builds a message body field by field.
#[derive(Debug, Default)]
pub struct BodyWriter {
    body: Vec<u8>,
}

impl BodyWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn uint(&mut self, tag: u64, v: u64) -> &mut Self {
        let mut value = Vec::with_capacity(8);
        varint::put(&mut value, v);
        self.bytes(tag, &value)
    }

    pub fn uints(&mut self, tag: u64, vs: &[u64]) -> &mut Self {
        let mut value = Vec::with_capacity(8 * vs.len());
        for v in vs {
            varint::put(&mut value, *v);
        }
        self.bytes(tag, &value)
    }

    pub fn bytes(&mut self, tag: u64, value: &[u8]) -> &mut Self {
        varint::put(&mut self.body, tag);
        varint::put(&mut self.body, value.len() as u64);
        self.body.extend_from_slice(value);
        self
    }

    /// The whole frame: type, length, body.
    pub fn frame(&self, kind: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 10);
        varint::put(&mut out, kind);
        varint::put(&mut out, self.body.len() as u64);
        out.extend_from_slice(&self.body);
        out
    }
}

/// The fields of a body, with unknown tags kept (and ignored by the decoders) and repeated tags
/// refused.
#[derive(Debug)]
pub struct Fields<'a> {
    fields: Vec<(u64, &'a [u8])>,
}

impl<'a> Fields<'a> {
    pub fn parse(mut body: &'a [u8]) -> Result<Self, ControlError> {
        let mut fields: Vec<(u64, &[u8])> = Vec::new();
        while !body.is_empty() {
            let (tag, a) = varint::get(body).ok_or(ControlError::Truncated)?;
            let (len, b) = varint::get(&body[a..]).ok_or(ControlError::Truncated)?;
            let start = a + b;
            let len = usize::try_from(len).map_err(|_| ControlError::Truncated)?;
            let value = body
                .get(start..start.checked_add(len).ok_or(ControlError::Truncated)?)
                .ok_or(ControlError::Truncated)?;
            if fields.iter().any(|(t, _)| *t == tag) {
                return Err(ControlError::RepeatedTag(tag));
            }
            fields.push((tag, value));
            body = &body[start + len..];
        }
        Ok(Self { fields })
    }

    pub fn get(&self, tag: u64) -> Option<&'a [u8]> {
        self.fields.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v)
    }

    /// An optional unsigned field: exactly one varint.
    pub fn uint(&self, tag: u64, name: &'static str) -> Result<Option<u64>, ControlError> {
        self.get(tag).map(|v| single_uint(v, name)).transpose()
    }

    /// A required unsigned field.
    pub fn required_uint(
        &self,
        message: &'static str,
        tag: u64,
        name: &'static str,
    ) -> Result<u64, ControlError> {
        self.uint(tag, name)?
            .ok_or(ControlError::MissingField { message, tag })
    }

    /// An optional field of `N` varints.
    pub fn uints<const N: usize>(
        &self,
        tag: u64,
        name: &'static str,
    ) -> Result<Option<[u64; N]>, ControlError> {
        let Some(mut v) = self.get(tag) else {
            return Ok(None);
        };
        let mut out = [0u64; N];
        for slot in &mut out {
            let (x, n) = varint::get(v).ok_or(ControlError::BadValue(name))?;
            *slot = x;
            v = &v[n..];
        }
        if !v.is_empty() {
            return Err(ControlError::BadValue(name));
        }
        Ok(Some(out))
    }
}

fn single_uint(v: &[u8], name: &'static str) -> Result<u64, ControlError> {
    match varint::get(v) {
        Some((x, n)) if n == v.len() => Ok(x),
        _ => Err(ControlError::BadValue(name)),
    }
}

/// Cuts a control stream into frames. Each frame's length is checked against its type's bound
/// as soon as the header is in, before its body is waited for.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame as (type, body), `None` if more bytes are needed. An error is final:
    /// the stream is broken and should be closed.
    pub fn next_frame(&mut self) -> Result<Option<(u64, Vec<u8>)>, ControlError> {
        let Some((kind, a)) = varint::get(&self.buf) else {
            return Ok(None);
        };
        let Some((len, b)) = varint::get(&self.buf[a..]) else {
            return Ok(None);
        };
        let bound = body_bound(kind).min(MAX_BODY);
        if len > bound as u64 {
            return Err(ControlError::TooLarge { kind, len, bound });
        }
        let end = a + b + len as usize;
        if self.buf.len() < end {
            return Ok(None);
        }
        let body = self.buf[a + b..end].to_vec();
        self.buf.drain(..end);
        Ok(Some((kind, body)))
    }

    /// Bytes held that do not yet form a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}
