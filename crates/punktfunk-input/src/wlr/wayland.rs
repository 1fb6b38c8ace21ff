//! Wayland plumbing: event dispatch for the objects the backend binds, and finding a wl_output
//! by its xdg-output name (wl_output itself has no name before version 4, which wlroots 0.15
//! lacks).

use std::collections::HashMap;

use wayland_client::globals::{GlobalList, GlobalListContents};
use wayland_client::protocol::wl_output::{self, WlOutput};
use wayland_client::protocol::wl_registry::WlRegistry;
use wayland_client::protocol::wl_seat::WlSeat;
use wayland_client::{delegate_noop, Connection, Dispatch, EventQueue, Proxy, QueueHandle};
use wayland_protocols::xdg::xdg_output::zv1::client::{
    zxdg_output_manager_v1::ZxdgOutputManagerV1,
    zxdg_output_v1::{self, ZxdgOutputV1},
};
use wayland_protocols_misc::zwp_virtual_keyboard_v1::client::{
    zwp_virtual_keyboard_manager_v1::ZwpVirtualKeyboardManagerV1,
    zwp_virtual_keyboard_v1::ZwpVirtualKeyboardV1,
};
use wayland_protocols_wlr::virtual_pointer::v1::client::{
    zwlr_virtual_pointer_manager_v1::ZwlrVirtualPointerManagerV1,
    zwlr_virtual_pointer_v1::ZwlrVirtualPointerV1,
};

use super::WlrError;

/// Dispatch state: output names by registry name, while looking for the output.
#[derive(Default)]
pub(crate) struct State {
    output_names: HashMap<u32, String>,
}

pub(crate) fn connection_error(e: impl std::fmt::Display) -> WlrError {
    WlrError::Connection(e.to_string())
}

/// Binds every wl_output, learns their names, keeps the one called `name`.
pub(crate) fn find_output(
    globals: &GlobalList,
    queue: &mut EventQueue<State>,
    state: &mut State,
    name: &str,
) -> Result<WlOutput, WlrError> {
    let qh = queue.handle();
    let xdg_manager: Option<ZxdgOutputManagerV1> = globals.bind(&qh, 2..=3, ()).ok();
    let outputs: Vec<_> = globals
        .contents()
        .clone_list()
        .into_iter()
        .filter(|g| g.interface == WlOutput::interface().name)
        .map(|g| {
            let output: WlOutput = globals
                .registry()
                .bind(g.name, g.version.min(4), &qh, g.name);
            let xdg = xdg_manager
                .as_ref()
                .map(|m| m.get_xdg_output(&output, &qh, g.name));
            (g.name, output, xdg)
        })
        .collect();
    queue.roundtrip(state).map_err(connection_error)?;

    let mut found = None;
    for (global, output, xdg) in outputs {
        if let Some(xdg) = xdg {
            xdg.destroy();
        }
        let matches = state.output_names.get(&global).is_some_and(|n| n == name);
        if matches && found.is_none() {
            found = Some(output);
        } else if output.version() >= 3 {
            output.release();
        }
    }
    if let Some(m) = xdg_manager {
        m.destroy();
    }
    found.ok_or_else(|| {
        let mut available: Vec<String> = state.output_names.values().cloned().collect();
        available.sort();
        WlrError::OutputNotFound {
            name: name.to_owned(),
            available,
        }
    })
}

impl Dispatch<WlRegistry, GlobalListContents> for State {
    fn event(
        _: &mut Self,
        _: &WlRegistry,
        _: wayland_client::protocol::wl_registry::Event,
        _: &GlobalListContents,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
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

delegate_noop!(State: ignore WlSeat);
delegate_noop!(State: ZxdgOutputManagerV1);
delegate_noop!(State: ZwlrVirtualPointerManagerV1);
delegate_noop!(State: ZwlrVirtualPointerV1);
delegate_noop!(State: ZwpVirtualKeyboardManagerV1);
delegate_noop!(State: ZwpVirtualKeyboardV1);
