//! Control messages over a QUIC stream, and the media secrets from the connection's exporter.

use punktfunk_core::control::keys::{media_secrets, MediaSecrets, EXPORTER_LABEL};
use punktfunk_core::control::{ControlError, FrameReader, Message};

#[derive(Debug, thiserror::Error)]
pub enum ControlIoError {
    #[error("control stream: {0}")]
    Protocol(#[from] ControlError),
    #[error("control stream read: {0}")]
    Read(#[from] quinn::ReadError),
    #[error("control stream write: {0}")]
    Write(#[from] quinn::WriteError),
}

/// Largest chunk read from the stream at once.
const READ_CHUNK: usize = 4096;

/// Reads control messages from a stream, bounded by the frame reader.
pub struct ControlReader {
    stream: quinn::RecvStream,
    frames: FrameReader,
}

impl ControlReader {
    pub fn new(stream: quinn::RecvStream) -> Self {
        Self {
            stream,
            frames: FrameReader::new(),
        }
    }

    /// The next message, or `None` when the peer finished the stream.
    pub async fn next(&mut self) -> Result<Option<Message>, ControlIoError> {
        loop {
            if let Some((kind, body)) = self.frames.next_frame()? {
                return Ok(Some(Message::decode(kind, &body)?));
            }
            match self.stream.read_chunk(READ_CHUNK, true).await? {
                Some(chunk) => self.frames.push(&chunk.bytes),
                None => return Ok(None),
            }
        }
    }
}

pub async fn send(stream: &mut quinn::SendStream, message: &Message) -> Result<(), ControlIoError> {
    stream.write_all(&message.encode()).await?;
    Ok(())
}

/// Both directions' media secrets of a session, from the TLS exporter with the session id as
/// context: the same on both ends, never on the wire.
pub fn session_media_secrets(
    conn: &quinn::Connection,
    session_id: &[u8; 16],
) -> anyhow::Result<MediaSecrets> {
    let mut exporter = [0u8; 32];
    conn.export_keying_material(&mut exporter, EXPORTER_LABEL, session_id)
        .map_err(|_| anyhow::anyhow!("the TLS exporter refused to export media keys"))?;
    Ok(media_secrets(&exporter))
}
