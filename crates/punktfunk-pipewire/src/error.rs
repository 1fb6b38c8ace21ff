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
    #[error("unsupported audio channel count {0} (1 to 8 are offered)")]
    Channels(u8),
}

impl PipeWireError {
    /// The error for a failed connect, naming the socket that was tried.
    pub(crate) fn no_daemon(handed_fd: bool, errno: std::io::Error) -> Self {
        if handed_fd {
            return Self::NoDaemon {
                socket: "the PipeWire socket that was handed over".into(),
                detail: errno.to_string(),
            };
        }
        // The client library's lookup: $PIPEWIRE_REMOTE (default pipewire-0)
        // in $PIPEWIRE_RUNTIME_DIR, else $XDG_RUNTIME_DIR.
        let name = std::env::var("PIPEWIRE_REMOTE").unwrap_or_else(|_| "pipewire-0".into());
        let dir = ["PIPEWIRE_RUNTIME_DIR", "XDG_RUNTIME_DIR"]
            .iter()
            .find_map(|var| std::env::var(var).ok().map(|dir| (dir, var)));
        let Some((dir, var)) = dir else {
            return Self::NoDaemon {
                socket: format!(
                    "{name}, but neither PIPEWIRE_RUNTIME_DIR nor XDG_RUNTIME_DIR is set"
                ),
                detail: errno.to_string(),
            };
        };
        let path = std::path::Path::new(&dir).join(&name);
        // libpipewire reports a missing socket as EHOSTDOWN: say what it means.
        let detail = if path.exists() {
            errno.to_string()
        } else {
            "the socket does not exist".into()
        };
        Self::NoDaemon {
            socket: format!("{} (from ${var})", path.display()),
            detail,
        }
    }
}
