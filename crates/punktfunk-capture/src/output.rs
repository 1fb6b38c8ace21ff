//! Finding the wl_output by its xdg-output name, and noticing when it goes away.

use wayland_client::globals::{GlobalList, GlobalListContents};
use wayland_client::protocol::wl_output::{self, WlOutput};
use wayland_client::protocol::wl_registry::{self, WlRegistry};
use wayland_client::{delegate_noop, Connection, Dispatch, EventQueue, Proxy, QueueHandle};
use wayland_protocols::xdg::xdg_output::zv1::client::{
    zxdg_output_manager_v1::ZxdgOutputManagerV1,
    zxdg_output_v1::{self, ZxdgOutputV1},
};

use crate::error::CaptureError;
use crate::worker::{connection_error, State};

/// The output to capture and its registry name (to spot its removal).
pub(crate) struct FoundOutput {
    pub(crate) output: WlOutput,
    pub(crate) global: u32,
}

/// Binds every wl_output, asks xdg-output for the names, and keeps the one
/// called `name`; the others are released again.
pub(crate) fn find_output(
    globals: &GlobalList,
    queue: &mut EventQueue<State>,
    state: &mut State,
    name: &str,
) -> Result<FoundOutput, CaptureError> {
    let qh = queue.handle();
    // Version 2 added the `name` event; wl_output (v3 in wlroots 0.15) has none.
    let xdg_manager: ZxdgOutputManagerV1 =
        globals
            .bind(&qh, 2..=3, ())
            .map_err(|_| CaptureError::MissingGlobal {
                interface: "zxdg_output_manager_v1 version >= 2",
                purpose: "finding outputs by name",
            })?;
    let outputs: Vec<_> = globals
        .contents()
        .clone_list()
        .into_iter()
        .filter(|g| g.interface == WlOutput::interface().name)
        .map(|g| {
            let output: WlOutput = globals
                .registry()
                .bind(g.name, g.version.min(4), &qh, g.name);
            let xdg = xdg_manager.get_xdg_output(&output, &qh, g.name);
            (g.name, output, xdg)
        })
        .collect();
    queue.roundtrip(state).map_err(connection_error)?;

    let mut found = None;
    for (global, output, xdg) in outputs {
        xdg.destroy();
        let matches = state.output_names.get(&global).is_some_and(|n| n == name);
        if matches && found.is_none() {
            found = Some(FoundOutput { output, global });
        } else if output.version() >= 3 {
            output.release();
        }
    }
    xdg_manager.destroy();
    found.ok_or_else(|| {
        let mut available: Vec<String> = state.output_names.values().cloned().collect();
        available.sort();
        CaptureError::OutputNotFound {
            name: name.to_owned(),
            available,
        }
    })
}

impl Dispatch<WlRegistry, GlobalListContents> for State {
    fn event(
        state: &mut Self,
        _: &WlRegistry,
        event: wl_registry::Event,
        _: &GlobalListContents,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let wl_registry::Event::GlobalRemove { name } = event {
            if state.output_global == Some(name) {
                state.output_gone = true;
            }
        }
    }
}

/// User data: the output's registry name.
impl Dispatch<WlOutput, u32> for State {
    fn event(
        state: &mut Self,
        _: &WlOutput,
        event: wl_output::Event,
        global: &u32,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        // wl_output v4 names are a fallback; the xdg-output name wins.
        if let wl_output::Event::Name { name } = event {
            state.output_names.entry(*global).or_insert(name);
        }
    }
}

/// User data: the registry name of the wl_output it describes.
impl Dispatch<ZxdgOutputV1, u32> for State {
    fn event(
        state: &mut Self,
        _: &ZxdgOutputV1,
        event: zxdg_output_v1::Event,
        global: &u32,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let zxdg_output_v1::Event::Name { name } = event {
            state.output_names.insert(*global, name);
        }
    }
}

delegate_noop!(State: ZxdgOutputManagerV1);
