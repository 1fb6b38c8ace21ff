/// Why a [`VideoStream`](crate::VideoStream) could not start, or why it ended.
///
/// Cloneable so the loop thread can leave it in the shared slot for every
/// later `next_frame` call to report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipeWireError {
    #[error(
        "cannot connect to the PipeWire daemon ({detail}); is PipeWire running? \
         (looked for {socket})"
    )]
    NoDaemon { socket: String, detail: String },
    #[error("PipeWire node {0} does not exist (was its stream already closed?)")]
    NodeNotFound(u32),
    #[error("PipeWire node {0} went away (the producer closed its stream)")]
    NodeGone(u32),
    #[error("lost the connection to the PipeWire daemon: {0}")]
    Disconnected(String),
    #[error("the PipeWire stream failed: {0}")]
    Stream(String),
    #[error("PipeWire setup failed: {0}")]
    Setup(String),
    #[error("the PipeWire stream was stopped")]
    Stopped,
}
