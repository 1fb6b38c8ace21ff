//! Raw access to dequeued PipeWire buffers. The safe wrapper in the pipewire
//! crate hides the metadata, and we need the header's "corrupted" flag.

use std::ptr::NonNull;

use pipewire::spa::sys as spa_sys;
use pipewire::stream::Stream;
use pipewire::sys as pw_sys;

use crate::copy::ChunkInfo;

/// Why a buffer carries no frame we can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unusable {
    /// No data block, or the producer left the chunk empty.
    Empty,
    Corrupted,
    /// Not mapped into our memory (e.g. a dmabuf, which we never ask for).
    NotMapped(u32),
}

/// A buffer taken from the stream; handed back to it on drop.
pub(crate) struct Dequeued<'s> {
    stream: &'s Stream,
    raw: NonNull<pw_sys::pw_buffer>,
}

impl<'s> Dequeued<'s> {
    /// The next buffer the producer filled, if any is waiting.
    pub(crate) fn next(stream: &'s Stream) -> Option<Self> {
        // SAFETY: the stream pointer is valid for the borrow; a null return
        // just means no buffer is waiting.
        let raw = unsafe { pw_sys::pw_stream_dequeue_buffer(stream.as_raw_ptr()) };
        NonNull::new(raw).map(|raw| Self { stream, raw })
    }

    /// The mapped bytes of the first data block (its whole `maxsize`) and the
    /// chunk that says where in it the frame lies.
    pub(crate) fn payload(&self) -> Result<(&[u8], ChunkInfo), Unusable> {
        // SAFETY: PipeWire keeps the pw_buffer, its spa_buffer, metas, datas
        // and chunks valid and unchanged until we queue the buffer back, which
        // only happens in Drop, after every borrow of `self` ended. With
        // MAP_BUFFERS, `data` points at `maxsize` mapped bytes.
        unsafe {
            let buffer = self.raw.as_ref().buffer;
            if buffer.is_null() {
                return Err(Unusable::Empty);
            }
            let buffer = &*buffer;
            if header_flags(buffer) & spa_sys::SPA_META_HEADER_FLAG_CORRUPTED != 0 {
                return Err(Unusable::Corrupted);
            }
            if buffer.n_datas == 0 || buffer.datas.is_null() {
                return Err(Unusable::Empty);
            }
            let data = &*buffer.datas;
            if data.chunk.is_null() {
                return Err(Unusable::Empty);
            }
            let chunk = &*data.chunk;
            let flags = chunk.flags as u32;
            if flags & spa_sys::SPA_CHUNK_FLAG_CORRUPTED != 0 {
                return Err(Unusable::Corrupted);
            }
            if flags & spa_sys::SPA_CHUNK_FLAG_EMPTY != 0 || chunk.size == 0 {
                return Err(Unusable::Empty);
            }
            if data.data.is_null() || data.maxsize == 0 {
                return Err(Unusable::NotMapped(data.type_));
            }
            let mapped = std::slice::from_raw_parts(data.data as *const u8, data.maxsize as usize);
            Ok((
                mapped,
                ChunkInfo {
                    offset: chunk.offset,
                    size: chunk.size,
                    stride: chunk.stride,
                },
            ))
        }
    }
}

impl Drop for Dequeued<'_> {
    fn drop(&mut self) {
        // SAFETY: the buffer came from this stream's dequeue and is returned once.
        unsafe {
            pw_sys::pw_stream_queue_buffer(self.stream.as_raw_ptr(), self.raw.as_ptr());
        }
    }
}

/// The flags of the buffer's header metadata, 0 when it has none.
///
/// # Safety
/// `buffer` must be a valid spa_buffer whose metas are valid.
unsafe fn header_flags(buffer: &spa_sys::spa_buffer) -> u32 {
    if buffer.metas.is_null() {
        return 0;
    }
    let metas = std::slice::from_raw_parts(buffer.metas, buffer.n_metas as usize);
    metas
        .iter()
        .find(|m| {
            m.type_ == spa_sys::SPA_META_Header
                && !m.data.is_null()
                && m.size as usize >= std::mem::size_of::<spa_sys::spa_meta_header>()
        })
        .map_or(0, |m| (*(m.data as *const spa_sys::spa_meta_header)).flags)
}
