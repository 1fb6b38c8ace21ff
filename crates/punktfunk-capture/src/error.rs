use std::path::PathBuf;
use std::sync::Arc;

/// Why a capture could not start, or why it ended.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot connect to the Wayland socket {}: {source}", path.display())]
    Connect {
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    #[error("no output named {name:?}; the compositor has: {}", list(available))]
    OutputNotFound {
        name: String,
        available: Vec<String>,
    },
    #[error("the compositor lacks {interface} (needed for {purpose})")]
    MissingGlobal {
        interface: &'static str,
        purpose: &'static str,
    },
    #[error("capture with damage needs zwlr_screencopy_manager_v1 version >= 2, the compositor offers version {version}")]
    DamageUnsupported { version: u32 },
    #[error(
        "the compositor offers no supported shm format for output {output:?} (offered: {offered})"
    )]
    UnsupportedFormat { output: String, offered: String },
    #[error("cannot allocate the shared-memory buffer: {0}")]
    Shm(Arc<std::io::Error>),
    #[error("output {name:?} went away; capture ended")]
    OutputGone { name: String },
    #[error("lost the Wayland connection to the compositor: {0}")]
    Connection(String),
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "no outputs".to_owned()
    } else {
        names.join(", ")
    }
}
