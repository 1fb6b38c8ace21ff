//! Lists a compositor's outputs as a plain Wayland client sees them, to check
//! compositor-made outputs without compositor-specific tools.

use std::collections::BTreeMap;
use std::os::unix::net::UnixStream;
use std::path::Path;

use anyhow::Context;
use wayland_client::globals::{registry_queue_init, GlobalListContents};
use wayland_client::protocol::wl_output::{self, WlOutput};
use wayland_client::protocol::wl_registry::{self, WlRegistry};
use wayland_client::{delegate_noop, Connection, Dispatch, Proxy, QueueHandle, WEnum};
use wayland_protocols::xdg::xdg_output::zv1::client::{
    zxdg_output_manager_v1::ZxdgOutputManagerV1,
    zxdg_output_v1::{self, ZxdgOutputV1},
};

/// One wl_output global.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputInfo {
    /// xdg-output name, else the wl_output v4 name, else empty.
    pub name: String,
    /// The current mode in pixels, if the compositor flagged one.
    pub mode: Option<(i32, i32)>,
    /// The xdg-output logical size, if xdg-output is offered.
    pub logical_size: Option<(i32, i32)>,
}

/// Connects to `wayland_display` (full socket path) and reports every output.
pub fn list_outputs(wayland_display: &Path) -> anyhow::Result<Vec<OutputInfo>> {
    let socket = UnixStream::connect(wayland_display)
        .with_context(|| format!("connecting to {}", wayland_display.display()))?;
    let conn = Connection::from_socket(socket)?;
    let (globals, mut queue) = registry_queue_init::<Outputs>(&conn)?;
    let qh = queue.handle();
    let xdg: Option<ZxdgOutputManagerV1> = globals.bind(&qh, 2..=3, ()).ok();
    let mut outputs = Outputs::default();
    for global in globals.contents().clone_list() {
        if global.interface != WlOutput::interface().name {
            continue;
        }
        let output: WlOutput =
            globals
                .registry()
                .bind(global.name, global.version.min(4), &qh, global.name);
        if let Some(xdg) = &xdg {
            xdg.get_xdg_output(&output, &qh, global.name);
        }
        outputs.0.insert(global.name, OutputInfo::default());
    }
    // Both objects send their properties right after binding.
    queue.roundtrip(&mut outputs)?;
    Ok(outputs.0.into_values().collect())
}

/// Keyed by registry name, so the order is the compositor's.
#[derive(Default)]
struct Outputs(BTreeMap<u32, OutputInfo>);

impl Dispatch<WlOutput, u32> for Outputs {
    fn event(
        state: &mut Self,
        _: &WlOutput,
        event: wl_output::Event,
        global: &u32,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let Some(info) = state.0.get_mut(global) else {
            return;
        };
        match event {
            wl_output::Event::Mode {
                flags: WEnum::Value(flags),
                width,
                height,
                ..
            } if flags.contains(wl_output::Mode::Current) => info.mode = Some((width, height)),
            wl_output::Event::Name { name } if info.name.is_empty() => info.name = name,
            _ => {}
        }
    }
}

impl Dispatch<ZxdgOutputV1, u32> for Outputs {
    fn event(
        state: &mut Self,
        _: &ZxdgOutputV1,
        event: zxdg_output_v1::Event,
        global: &u32,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let Some(info) = state.0.get_mut(global) else {
            return;
        };
        match event {
            zxdg_output_v1::Event::Name { name } => info.name = name,
            zxdg_output_v1::Event::LogicalSize { width, height } => {
                info.logical_size = Some((width, height))
            }
            _ => {}
        }
    }
}

impl Dispatch<WlRegistry, GlobalListContents> for Outputs {
    // A one-shot listing: later hotplug doesn't matter.
    fn event(
        _: &mut Self,
        _: &WlRegistry,
        _: wl_registry::Event,
        _: &GlobalListContents,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

delegate_noop!(Outputs: ZxdgOutputManagerV1);
