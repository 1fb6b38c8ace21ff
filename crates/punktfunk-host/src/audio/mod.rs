//! Session audio for both planes: desktop audio captured through PipeWire (or the test tone),
//! and the virtual microphone fed by native clients.
//!
//! One [`Audio`] lives as long as the host. It connects to PipeWire when the first session
//! needs it (and again after the daemon went away); each session then opens its own capture of
//! the session sink, which PipeWire keeps while any session holds it.

pub mod feed;
pub mod mic;
pub mod native;

use std::sync::{Arc, Mutex};

use clap::{Args, ValueEnum};
use punktfunk_core::wire::audio::Tier;
use punktfunk_pipewire::audio::{AudioServer, MicSource, Remote};

pub use feed::Feed;

/// `--audio`: where session audio comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AudioChoice {
    /// Desktop audio when streaming the compositor, the test tone with the test picture.
    Auto,
    /// Desktop audio through PipeWire: a sink "punktfunk" made the default output while a
    /// session streams, captured from its monitor.
    Desktop,
    /// A 1 kHz test tone.
    Tone,
    /// No audio.
    Off,
}

/// `--audio-quality`: the Opus bit-rate tier of the native plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QualityArg {
    Low,
    Standard,
    High,
}

impl From<QualityArg> for Tier {
    fn from(q: QualityArg) -> Self {
        match q {
            QualityArg::Low => Tier::Low,
            QualityArg::Standard => Tier::Standard,
            QualityArg::High => Tier::High,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct AudioArgs {
    /// Where session audio comes from: `auto` is desktop audio when streaming the compositor
    /// and the test tone with the test picture.
    #[arg(long, value_enum, default_value = "auto", env = "PUNKTFUNK_AUDIO")]
    pub audio: AudioChoice,
    /// Opus bit-rate tier of native sessions (GameStream follows the client's own choice).
    #[arg(long, value_enum, default_value = "standard")]
    pub audio_quality: QualityArg,
    /// Do not offer native clients the virtual microphone ("punktfunk mic").
    #[arg(long)]
    pub no_mic: bool,
}

/// What sessions get, once `auto` is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Desktop,
    Tone,
    Off,
}

/// The host's audio: settles the source and owns the PipeWire connection and the microphone.
pub struct Audio {
    pub source: Source,
    pub tier: Tier,
    pub mic_enabled: bool,
    server: Mutex<Option<Arc<AudioServer>>>,
    mic: Mutex<Option<Arc<MicSource>>>,
}

/// Why a session has no audio (or no microphone), in words for the log.
pub type Off = String;

impl Audio {
    pub fn new(args: &AudioArgs, streaming_compositor: bool) -> Arc<Self> {
        let source = match args.audio {
            AudioChoice::Auto if streaming_compositor => Source::Desktop,
            AudioChoice::Auto | AudioChoice::Tone => Source::Tone,
            AudioChoice::Desktop => Source::Desktop,
            AudioChoice::Off => Source::Off,
        };
        tracing::info!(?source, quality = ?args.audio_quality, mic = !args.no_mic, "audio");
        Arc::new(Self {
            source,
            tier: args.audio_quality.into(),
            mic_enabled: !args.no_mic,
            server: Mutex::new(None),
            mic: Mutex::new(None),
        })
    }

    /// The PipeWire connection, made on first use and again once it ended (the daemon went
    /// away). A request that merely failed keeps it: other sessions' captures live on it.
    fn server(&self) -> Result<Arc<AudioServer>, Off> {
        let mut slot = self.server.lock().expect("audio lock");
        if let Some(server) = slot.as_ref().filter(|s| !s.ended()) {
            return Ok(server.clone());
        }
        let server = Arc::new(
            AudioServer::connect(Remote::Default)
                .map_err(|e| format!("cannot reach PipeWire: {e}"))?,
        );
        *slot = Some(server.clone());
        Ok(server)
    }

    /// A session's audio with `channels` channels, or why it has none.
    pub fn open(&self, channels: u8) -> Result<Feed, Off> {
        match self.source {
            Source::Off => Err("audio is off (--audio off)".into()),
            Source::Tone => Ok(Feed::tone(channels)),
            Source::Desktop => {
                let capture = self
                    .server()?
                    .capture_session_sink(channels)
                    .map_err(|e| format!("cannot capture desktop audio: {e}"))?;
                Ok(Feed::desktop(capture))
            }
        }
    }

    /// The virtual microphone, or why there is none. One for the host's lifetime (made again
    /// if its connection ended), with the most channels a client may send: a mono client's
    /// samples are spread over both (see `mic::remix`).
    pub fn mic(&self) -> Result<Arc<MicSource>, Off> {
        if !self.mic_enabled {
            return Err("the microphone is off (--no-mic)".into());
        }
        let mut slot = self.mic.lock().expect("mic lock");
        if let Some(mic) = slot.as_ref().filter(|m| !m.ended()) {
            return Ok(mic.clone());
        }
        let mic = Arc::new(
            self.server()?
                .virtual_mic(punktfunk_core::wire::audio::MAX_MIC_CHANNELS)
                .map_err(|e| format!("cannot create the virtual microphone: {e}"))?,
        );
        *slot = Some(mic.clone());
        Ok(mic)
    }
}
