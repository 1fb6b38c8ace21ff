//! Client bindings for `protocols/zkde-screencast-unstable-v1.xml`, a copy of
//! the file from plasma-wayland-protocols 1.10 (SPDX: LGPL-2.1-or-later,
//! © 2020-2021 Aleix Pol Gonzalez; see the XML's copyright block). Only the
//! generated code ends up in this crate, as with the wayland-protocols crates.

#![allow(
    dead_code,
    non_camel_case_types,
    non_upper_case_globals,
    unused_imports
)]
#![allow(missing_docs, clippy::all)]

use wayland_client;
use wayland_client::protocol::*;

pub mod __interfaces {
    use wayland_client::backend as wayland_backend;
    use wayland_client::protocol::__interfaces::*;
    wayland_scanner::generate_interfaces!("protocols/zkde-screencast-unstable-v1.xml");
}
use self::__interfaces::*;

wayland_scanner::generate_client_code!("protocols/zkde-screencast-unstable-v1.xml");
