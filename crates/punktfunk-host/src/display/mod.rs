//! Virtual displays on the running compositor: one output per client at exactly its mode.
//!
//! A [`DisplayBackend`] makes [`VirtualDisplay`]s; each starts the [`Capturer`] that reads it
//! (wlr-screencopy on Sway, PipeWire on Mutter). Backends are chosen from the environment
//! ([`detect`]) or `--compositor`.

pub mod detect;
pub mod gamescope;
pub mod kwin;
pub mod mutter;
pub mod sway;

use std::sync::Arc;
use std::time::Duration;

use punktfunk_core::control::Mode;
use punktfunk_video::convert::RgbLayout;

pub use detect::Compositor;

/// A captured picture, from whichever capture path the compositor has.
pub enum Frame {
    /// wlr-screencopy (Sway).
    Wlr(Arc<punktfunk_capture::CapturedFrame>),
    /// A PipeWire stream (Mutter).
    PipeWire(Arc<punktfunk_pipewire::CapturedFrame>),
}

impl Frame {
    pub fn sequence(&self) -> u64 {
        match self {
            Frame::Wlr(f) => f.sequence,
            Frame::PipeWire(f) => f.sequence,
        }
    }

    /// (data, stride, width, height, layout) for the converter.
    pub fn pixels(&self) -> (&[u8], usize, u32, u32, RgbLayout) {
        match self {
            Frame::Wlr(f) => {
                use punktfunk_capture::PixelFormat as F;
                let layout = match f.format {
                    F::Xrgb8888 => RgbLayout::Bgrx,
                    F::Argb8888 => RgbLayout::Bgra,
                    F::Xbgr8888 => RgbLayout::Rgbx,
                    F::Abgr8888 => RgbLayout::Rgba,
                };
                (&f.data, f.stride as usize, f.width, f.height, layout)
            }
            Frame::PipeWire(f) => {
                use punktfunk_pipewire::PixelFormat as F;
                let layout = match f.format {
                    F::Xrgb8888 => RgbLayout::Bgrx,
                    F::Argb8888 => RgbLayout::Bgra,
                    F::Xbgr8888 => RgbLayout::Rgbx,
                    F::Abgr8888 => RgbLayout::Rgba,
                };
                (&f.data, f.stride as usize, f.width, f.height, layout)
            }
        }
    }
}

/// Reads a display's pictures as they change.
pub trait Capturer: Send {
    /// The newest picture with a sequence above `after`, waiting at most `timeout`.
    fn next_frame(&self, after: u64, timeout: Duration) -> anyhow::Result<Option<Frame>>;
}

impl Capturer for punktfunk_capture::OutputCapture {
    fn next_frame(&self, after: u64, timeout: Duration) -> anyhow::Result<Option<Frame>> {
        Ok(punktfunk_capture::OutputCapture::next_frame(self, after, timeout)?.map(Frame::Wlr))
    }
}

/// One client's output on the compositor. Dropping it releases the output.
pub trait VirtualDisplay: Send {
    /// The compositor's name for it (e.g. `HEADLESS-2`).
    fn name(&self) -> &str;
    fn mode(&self) -> Mode;
    /// Switches the output to another mode.
    fn reconfigure(&mut self, mode: Mode) -> anyhow::Result<()>;
    /// Starts reading the output's pictures.
    fn start_capture(&self) -> anyhow::Result<Box<dyn Capturer>>;
    /// The output's own way to inject input, if it has one.
    fn input(&self) -> Option<DisplayInput> {
        None
    }
}

/// A way into one display that came with it.
#[derive(Debug, Clone)]
pub enum DisplayInput {
    /// The RemoteDesktop session linked to a Mutter virtual monitor.
    Mutter(punktfunk_pipewire::mutter::MutterInput),
}

/// Makes virtual displays on one compositor.
pub trait DisplayBackend: Send + Sync {
    fn compositor(&self) -> Compositor;
    /// A new output at exactly `mode`, placed beside the outputs already there.
    fn create(&self, mode: Mode) -> anyhow::Result<Box<dyn VirtualDisplay>>;
    /// Like [`Self::create`], for an output whose [`VirtualDisplay::input`] will be used; where
    /// that is no different, the same.
    fn create_with_input(&self, mode: Mode) -> anyhow::Result<Box<dyn VirtualDisplay>> {
        self.create(mode)
    }
    /// A line for logs and `probe-compositor`: version, outputs, capabilities.
    fn describe(&self) -> String;
}

/// The backend for the compositor the environment (or `--compositor`) names.
pub fn backend(override_: Option<Compositor>) -> anyhow::Result<Arc<dyn DisplayBackend>> {
    let compositor = detect::detect(|k| std::env::var(k).ok(), override_)?;
    match compositor {
        Compositor::Sway => Ok(Arc::new(sway::SwayBackend::connect()?)),
        Compositor::Mutter => Ok(Arc::new(mutter::MutterBackend::connect()?)),
        Compositor::Kwin => Ok(Arc::new(kwin::KwinBackend::connect()?)),
        Compositor::Gamescope => Ok(Arc::new(gamescope::GamescopeBackend::connect()?)),
    }
}
