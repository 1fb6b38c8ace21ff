//! Our two kinds of PipeWire audio stream: a capture of a sink's monitor
//! and the virtual microphone's source node. Their callbacks touch only
//! their own queue: they never reach into the loop thread's state, so they
//! may run from within any PipeWire call.

use std::sync::Arc;
use std::time::Instant;

use pipewire as pw;
use pw::core::CoreRc;
use pw::properties::{properties, PropertiesBox};
use pw::spa::param::audio::AudioInfoRaw;
use pw::spa::param::ParamType;
use pw::spa::pod::Pod;
use pw::spa::utils::Direction;
use pw::stream::{Stream, StreamFlags, StreamListener, StreamRc, StreamState};

use super::format::enum_format;
use super::layout::{Layout, RATE};
use super::queue::{ChunkQueue, SampleQueue};
use super::AudioChunk;
use crate::PipeWireError;

/// The graph period we ask for: 256 frames, 5.3 ms, about the 5 ms audio
/// packets game streaming clients use. PipeWire runs the whole graph at
/// the smallest period any node asks for, while we are linked.
const LATENCY_FRAMES: u32 = 256;

/// Told once whether the stream came up (its node exists) or failed.
pub(crate) type OnReady = Box<dyn FnOnce(Result<(), PipeWireError>)>;

/// A connected stream and its listener; dropping it destroys the node.
pub(crate) struct LiveStream<D> {
    // Dropped first, so our own teardown reports nothing.
    listener: Option<StreamListener<D>>,
    stream: StreamRc,
}

impl<D> Drop for LiveStream<D> {
    fn drop(&mut self) {
        self.listener.take();
        let _ = self.stream.disconnect();
    }
}

/// Which monitor a capture records.
pub(crate) enum Monitor<'a> {
    /// The sink with this `node.name`, never another one.
    Of(&'a str),
    /// Whatever sink is the default, following it when it changes.
    Default,
}

pub(crate) struct Capture {
    layout: Layout,
    channels: u8,
    queue: Arc<ChunkQueue>,
    on_ready: Option<OnReady>,
}

/// Records `monitor` into `queue` as F32LE in `layout`.
pub(crate) fn capture(
    core: &CoreRc,
    monitor: Monitor<'_>,
    layout: Layout,
    queue: Arc<ChunkQueue>,
    on_ready: OnReady,
) -> Result<LiveStream<Capture>, PipeWireError> {
    let mut props = properties! {
        "media.type" => "Audio",
        "media.category" => "Capture",
        "node.name" => "punktfunk-capture",
        "node.description" => "punktfunk capture",
        "stream.capture.sink" => "true",
        "node.latency" => format!("{LATENCY_FRAMES}/{RATE}"),
    };
    let mut flags = StreamFlags::AUTOCONNECT | StreamFlags::MAP_BUFFERS;
    if let Monitor::Of(sink) = monitor {
        props.insert("target.object", sink);
        props.insert("node.dont-reconnect", "true");
        flags |= StreamFlags::DONT_RECONNECT;
    }
    let data = Capture {
        layout,
        channels: layout.channels(),
        queue,
        on_ready: Some(on_ready),
    };
    connect(
        core,
        "punktfunk capture",
        props,
        Direction::Input,
        flags,
        layout,
        data,
        |b| {
            b.state_changed(|_, data: &mut Capture, old, new| {
                if let Some(failed) = track_state(&mut data.on_ready, old, new) {
                    data.queue.end(failed);
                }
            })
            .param_changed(|_, data: &mut Capture, id, param| {
                if let Some(channels) = negotiated_channels(id, param) {
                    if channels != data.layout.channels() {
                        tracing::warn!(
                            channels,
                            wanted = data.layout.channels(),
                            "capture negotiated another channel count"
                        );
                    }
                    data.channels = channels.max(1);
                }
            })
            .process(|stream, data: &mut Capture| capture_process(stream, data))
        },
    )
}

fn capture_process(stream: &Stream, data: &mut Capture) {
    let Some(mut buffer) = stream.dequeue_buffer() else {
        return;
    };
    let captured_at = Instant::now();
    let Some(plane) = buffer.datas_mut().first_mut() else {
        return;
    };
    let (offset, size) = (
        plane.chunk().offset() as usize,
        plane.chunk().size() as usize,
    );
    let Some(bytes) = plane.data() else {
        return;
    };
    let end = offset.saturating_add(size).min(bytes.len());
    let bytes = &bytes[offset.min(end)..end];
    let frame_bytes = 4 * usize::from(data.channels);
    let whole = bytes.len() - bytes.len() % frame_bytes;
    let samples = bytes[..whole]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    data.queue.push(AudioChunk {
        samples,
        channels: data.channels,
        captured_at,
    });
}

pub(crate) struct Mic {
    frame_bytes: usize,
    queue: Arc<SampleQueue>,
    on_ready: Option<OnReady>,
}

/// A source node named `node_name` that plays `queue`.
pub(crate) fn mic(
    core: &CoreRc,
    node_name: &str,
    layout: Layout,
    queue: Arc<SampleQueue>,
    on_ready: OnReady,
) -> Result<LiveStream<Mic>, PipeWireError> {
    // What pw-loopback does for its playback side: an output stream that
    // calls itself a source, so clients see a microphone. No AUTOCONNECT:
    // recorders link to it, it links to nothing.
    let props = properties! {
        "media.type" => "Audio",
        "media.class" => "Audio/Source",
        "node.name" => node_name,
        "node.description" => "punktfunk mic",
        "audio.channels" => layout.channels().to_string(),
        "audio.position" => layout.property(),
        "node.latency" => format!("{LATENCY_FRAMES}/{RATE}"),
        "node.want-driver" => "true",
    };
    let data = Mic {
        frame_bytes: 4 * usize::from(layout.channels()),
        queue,
        on_ready: Some(on_ready),
    };
    let flags = StreamFlags::MAP_BUFFERS;
    connect(
        core,
        "punktfunk mic",
        props,
        Direction::Output,
        flags,
        layout,
        data,
        |b| {
            b.state_changed(|_, data: &mut Mic, old, new| {
                if let Some(failed) = track_state(&mut data.on_ready, old, new) {
                    tracing::warn!("the virtual microphone stopped: {failed}");
                }
            })
            .process(|stream, data: &mut Mic| mic_process(stream, data))
        },
    )
}

fn mic_process(stream: &Stream, data: &mut Mic) {
    let Some(mut buffer) = stream.dequeue_buffer() else {
        return;
    };
    // As much as the graph asks for this period; without an answer, our own.
    let requested = match usize::try_from(buffer.requested()) {
        Ok(0) | Err(_) => LATENCY_FRAMES as usize,
        Ok(frames) => frames,
    };
    let Some(plane) = buffer.datas_mut().first_mut() else {
        return;
    };
    let Some(bytes) = plane.data() else {
        return;
    };
    let frames = requested.min(bytes.len() / data.frame_bytes);
    let size = frames * data.frame_bytes;
    data.queue.fill(&mut bytes[..size]);
    let chunk = plane.chunk_mut();
    *chunk.offset_mut() = 0;
    *chunk.stride_mut() = data.frame_bytes as i32;
    *chunk.size_mut() = size as u32;
}

/// Creates, listens to and connects a stream offering `layout`.
#[allow(clippy::too_many_arguments)]
fn connect<D: 'static>(
    core: &CoreRc,
    name: &str,
    props: PropertiesBox,
    direction: Direction,
    flags: StreamFlags,
    layout: Layout,
    data: D,
    listen: impl FnOnce(
        pw::stream::ListenerLocalBuilder<'_, D>,
    ) -> pw::stream::ListenerLocalBuilder<'_, D>,
) -> Result<LiveStream<D>, PipeWireError> {
    let failed = |what: &str, e: pw::Error| PipeWireError::Setup(format!("{what} ({name}): {e}"));
    let stream =
        StreamRc::new(core.clone(), name, props).map_err(|e| failed("creating the stream", e))?;
    let listener = listen(stream.add_local_listener_with_user_data(data))
        .register()
        .map_err(|e| failed("listening to the stream", e))?;
    let format = enum_format(layout);
    let pod = Pod::from_bytes(&format)
        .ok_or_else(|| PipeWireError::Setup("the audio format did not serialize".into()))?;
    let live = LiveStream {
        listener: Some(listener),
        stream,
    };
    live.stream
        .connect(direction, None, flags, &mut [pod])
        .map_err(|e| failed("connecting the stream", e))?;
    Ok(live)
}

/// Answers `on_ready` on the first state that settles it, and returns why
/// a running stream failed or was cut off.
fn track_state(
    on_ready: &mut Option<OnReady>,
    old: StreamState,
    new: StreamState,
) -> Option<PipeWireError> {
    tracing::debug!(?old, ?new, "PipeWire audio stream state");
    match new {
        StreamState::Paused | StreamState::Streaming => {
            if let Some(ready) = on_ready.take() {
                ready(Ok(()));
            }
            None
        }
        StreamState::Error(message) => {
            let err = PipeWireError::Stream(message);
            if let Some(ready) = on_ready.take() {
                ready(Err(err.clone()));
            }
            Some(err)
        }
        StreamState::Unconnected if matches!(old, StreamState::Paused | StreamState::Streaming) => {
            Some(PipeWireError::Stream("disconnected from its sink".into()))
        }
        _ => None,
    }
}

/// The channel count of a newly fixed format.
fn negotiated_channels(id: u32, param: Option<&Pod>) -> Option<u8> {
    let param = param.filter(|_| id == ParamType::Format.as_raw())?;
    let mut info = AudioInfoRaw::new();
    info.parse(param).ok()?;
    u8::try_from(info.channels()).ok()
}
