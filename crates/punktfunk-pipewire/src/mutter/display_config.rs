//! Reading Mutter's monitor layout (`org.gnome.Mutter.DisplayConfig`), to
//! see virtual monitors appear and go.

use std::collections::HashMap;

use zbus::zvariant::OwnedValue;
use zbus::{Connection, Proxy};

use super::error::call_failed;
use super::MutterError;

pub(crate) const SERVICE: &str = "org.gnome.Mutter.DisplayConfig";
const PATH: &str = "/org/gnome/Mutter/DisplayConfig";

type Properties = HashMap<String, OwnedValue>;
/// connector, vendor, product, serial
type MonitorSpec = (String, String, String, String);
/// id, width, height, refresh rate, preferred scale, supported scales, properties
type ModeWire = (String, i32, i32, f64, f64, Vec<f64>, Properties);
type MonitorWire = (MonitorSpec, Vec<ModeWire>, Properties);
/// x, y, scale, transform, primary, monitors, properties
type LogicalWire = (i32, i32, f64, u32, bool, Vec<MonitorSpec>, Properties);
type StateWire = (u32, Vec<MonitorWire>, Vec<LogicalWire>, Properties);

/// One monitor Mutter knows about.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorInfo {
    /// e.g. `Meta-0` for virtual monitors.
    pub connector: String,
    pub vendor: String,
    /// `Virtual remote monitor` for RecordVirtual monitors.
    pub product: String,
    pub serial: String,
    /// The mode in use, if the monitor is on.
    pub current_mode: Option<MonitorMode>,
    /// Whether it is part of the desktop layout (a logical monitor).
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonitorMode {
    pub width: u32,
    pub height: u32,
    pub refresh_hz: f64,
}

pub(crate) async fn monitors(connection: &Connection) -> Result<Vec<MonitorInfo>, MutterError> {
    let proxy = Proxy::new(connection, SERVICE, PATH, SERVICE)
        .await
        .map_err(call_failed("DisplayConfig proxy"))?;
    let (_serial, monitors, logical, _props): StateWire = proxy
        .call("GetCurrentState", &())
        .await
        .map_err(call_failed("GetCurrentState"))?;
    let active: Vec<MonitorSpec> = logical.into_iter().flat_map(|l| l.5).collect();
    Ok(monitors
        .into_iter()
        .map(|(spec, modes, _props)| {
            let current_mode =
                modes
                    .iter()
                    .find(|m| is_true(&m.6, "is-current"))
                    .map(|m| MonitorMode {
                        width: m.1.max(0) as u32,
                        height: m.2.max(0) as u32,
                        refresh_hz: m.3,
                    });
            MonitorInfo {
                active: active.contains(&spec),
                connector: spec.0,
                vendor: spec.1,
                product: spec.2,
                serial: spec.3,
                current_mode,
            }
        })
        .collect())
}

fn is_true(props: &Properties, key: &str) -> bool {
    props
        .get(key)
        .and_then(|v| bool::try_from(v).ok())
        .unwrap_or(false)
}
