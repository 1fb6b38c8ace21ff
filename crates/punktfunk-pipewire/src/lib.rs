//! PipeWire video capture into CPU frames, and virtual monitors from GNOME's
//! Mutter.
//!
//! [`VideoStream`] consumes one PipeWire video node (a compositor's screen
//! cast, a camera, a test source) on its own thread and keeps the newest
//! frame, copied out of shared memory, for [`VideoStream::next_frame`].
//!
//! [`mutter::VirtualMonitor`] asks Mutter's `org.gnome.Mutter.ScreenCast`
//! D-Bus API for a virtual monitor of an exact size (`RecordVirtual`) and
//! captures it through a [`VideoStream`].
//!
//! [`audio::AudioServer`] gives a streaming session its audio: a default
//! sink "punktfunk" whose monitor it captures, and a virtual microphone.

pub mod audio;
mod buffer;
mod copy;
mod error;
mod format;
mod frame;
mod frames;
pub mod mutter;
mod params;
mod slot;
mod stream;
mod worker;

#[cfg(feature = "testing")]
pub mod testing;

pub use audio::{AudioCapture, AudioChunk, AudioServer, CaptureOrigin, MicSource};
pub use error::PipeWireError;
pub use format::PixelFormat;
pub use frame::CapturedFrame;
pub use stream::{StreamConfig, VideoStream};

#[cfg(test)]
mod tests {
    /// Hosts hand captures to other threads (encoders, sessions).
    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<crate::VideoStream>();
        check::<crate::mutter::VirtualMonitor>();
        check::<crate::CapturedFrame>();
        check::<crate::AudioServer>();
        check::<crate::AudioCapture>();
        check::<crate::MicSource>();
        check::<crate::AudioChunk>();
    }
}
