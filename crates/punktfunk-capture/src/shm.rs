//! The shared-memory buffer the compositor copies frames into.

use std::io;
use std::os::fd::AsFd;

use memmap2::MmapMut;
use rustix::fs::{ftruncate, memfd_create, MemfdFlags};
use wayland_client::protocol::{wl_buffer::WlBuffer, wl_shm::WlShm, wl_shm_pool::WlShmPool};
use wayland_client::{delegate_noop, QueueHandle};

use crate::format::PixelFormat;
use crate::worker::State;

/// Size and layout of a buffer; a new buffer is only made when this changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) stride: u32,
    pub(crate) format: PixelFormat,
}

impl Layout {
    pub(crate) fn len(&self) -> usize {
        self.stride as usize * self.height as usize
    }
}

pub(crate) struct ShmBuffer {
    pub(crate) layout: Layout,
    pub(crate) buffer: WlBuffer,
    pool: WlShmPool,
    map: MmapMut,
}

impl ShmBuffer {
    pub(crate) fn new(shm: &WlShm, layout: Layout, qh: &QueueHandle<State>) -> io::Result<Self> {
        let too_big = || io::Error::new(io::ErrorKind::InvalidInput, "buffer too large");
        let len = layout.len();
        let size = i32::try_from(len).map_err(|_| too_big())?;
        let (width, height, stride) = (
            i32::try_from(layout.width).map_err(|_| too_big())?,
            i32::try_from(layout.height).map_err(|_| too_big())?,
            i32::try_from(layout.stride).map_err(|_| too_big())?,
        );
        if len == 0 || layout.stride < layout.width * layout.format.bytes_per_pixel() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("compositor asked for an impossible buffer {layout:?}"),
            ));
        }
        let fd = memfd_create("punktfunk-capture", MemfdFlags::CLOEXEC)?;
        ftruncate(&fd, len as u64)?;
        // SAFETY: the memfd is shared only with the compositor, which writes it
        // between `copy` and `ready`; we read it only after `ready`.
        let map = unsafe { MmapMut::map_mut(&fd)? };
        // wl_shm takes its own copy of the fd, ours can close after this.
        let pool = shm.create_pool(fd.as_fd(), size, qh, ());
        let buffer = pool.create_buffer(0, width, height, stride, layout.format.to_wl(), qh, ());
        Ok(Self {
            layout,
            buffer,
            pool,
            map,
        })
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map[..self.layout.len()]
    }
}

impl Drop for ShmBuffer {
    fn drop(&mut self) {
        self.buffer.destroy();
        self.pool.destroy();
    }
}

// wl_shm format advertisements and wl_buffer releases carry nothing we need:
// the format comes from the screencopy frame, and the buffer is reused only
// after `ready`, when the compositor is done with it.
delegate_noop!(State: ignore WlShm);
delegate_noop!(State: WlShmPool);
delegate_noop!(State: ignore WlBuffer);
