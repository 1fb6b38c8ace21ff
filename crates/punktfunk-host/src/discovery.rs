//! mDNS advertisement of the native plane (`_punktfunk._udp`), with what a client needs to
//! decide before connecting: the host's fingerprint, whether pairing is required, the ports.

use punktfunk_core::wire::control::ALPN;
use punktfunk_core::wire::discovery::{
    txt, NATIVE_SERVICE, PAIRING_OPTIONAL, PAIRING_REQUIRED, WIRE_VERSIONS,
};

/// The TXT record of the native service.
/// The management port is left out while no management API listens.
pub fn native_txt(
    fingerprint: &str,
    open: bool,
    mgmt_port: Option<u16>,
) -> Vec<(&'static str, String)> {
    let mut record = vec![
        (txt::ID, fingerprint[..16].to_owned()),
        (txt::FINGERPRINT, fingerprint.to_owned()),
        (
            txt::PAIRING,
            if open {
                PAIRING_OPTIONAL
            } else {
                PAIRING_REQUIRED
            }
            .to_owned(),
        ),
        (txt::PROTOCOL, String::from_utf8_lossy(ALPN).into_owned()),
        (txt::WIRE, WIRE_VERSIONS.to_owned()),
    ];
    if let Some(port) = mgmt_port {
        record.push((txt::MGMT_PORT, port.to_string()));
    }
    record
}

/// This machine's name, for the instance and host names.
/// This machine's name (what mDNS and Moonlight's host list show).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "punktfunk".into())
}

/// Keeps the advertisement up while alive.
pub struct Advertisement {
    daemon: mdns_sd::ServiceDaemon,
    fullnames: Vec<String>,
}

impl Drop for Advertisement {
    fn drop(&mut self) {
        for name in &self.fullnames {
            let _ = self.daemon.unregister(name);
        }
        let _ = self.daemon.shutdown();
    }
}

/// Advertises the native plane on every interface's addresses.
pub fn advertise(
    fingerprint: &str,
    open: bool,
    native_port: u16,
    mgmt_port: Option<u16>,
    gamestream_port: Option<u16>,
) -> anyhow::Result<Advertisement> {
    let daemon = mdns_sd::ServiceDaemon::new()?;
    let host = hostname();
    // Two hosts on one machine (tests, seats) stay apart by their fingerprints.
    let instance = format!("{host}-{}", &fingerprint[..8]);
    let properties = native_txt(fingerprint, open, mgmt_port);
    let info = mdns_sd::ServiceInfo::new(
        NATIVE_SERVICE,
        &instance,
        &format!("{host}.local."),
        "",
        native_port,
        &properties[..],
    )?
    .enable_addr_auto();
    let mut fullnames = vec![info.get_fullname().to_owned()];
    daemon.register(info)?;
    if let Some(port) = gamestream_port {
        // Moonlight finds hosts by this service and asks `/serverinfo` for the rest.
        let info = mdns_sd::ServiceInfo::new(
            punktfunk_gamestream::wire::MDNS_SERVICE,
            &host,
            &format!("{host}.local."),
            "",
            port,
            None,
        )?
        .enable_addr_auto();
        fullnames.push(info.get_fullname().to_owned());
        daemon.register(info)?;
    }
    tracing::info!(?fullnames, "advertised over mDNS");
    Ok(Advertisement { daemon, fullnames })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_txt_record_says_what_clients_need() {
        let fp = "ab".repeat(32);
        let txt: std::collections::HashMap<_, _> =
            native_txt(&fp, false, Some(47990)).into_iter().collect();
        assert_eq!(txt["id"], "abababababababab");
        assert_eq!(txt["fp"], fp);
        assert_eq!(txt["pair"], "required");
        assert_eq!(txt["mgmt"], "47990");
        assert_eq!(txt["proto"], "punktfunk/1");
        assert_eq!(txt["wire"], "1");
        let open: std::collections::HashMap<_, _> =
            native_txt(&fp, true, None).into_iter().collect();
        assert_eq!(open["pair"], "optional");
        assert!(
            !open.contains_key("mgmt"),
            "no port advertised while nothing listens"
        );
        // Every entry fits a TXT string (≤ 255 bytes with its key).
        assert!(native_txt(&fp, true, Some(1))
            .iter()
            .all(|(k, v)| k.len() + 1 + v.len() <= 255));
    }
}
