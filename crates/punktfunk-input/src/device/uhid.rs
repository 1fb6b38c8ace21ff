//! A DualSense or DualShock 4 through `/dev/uhid`: the kernel gets the pad's USB report
//! descriptor, binds `hid-playstation` to it, asks for the feature reports a real pad answers
//! at probe (served from [`super::feature`]), reads input reports from us and sends its output
//! reports (rumble, lightbar, LEDs, trigger effects) back, which [`SonyPad::poll`] parses.
//!
//! `struct uhid_event` is packed (`linux/uhid.h`), so events are built and read as byte
//! buffers at the offsets below rather than as Rust structs.

use std::fs::File;
use std::io::{Read, Write};

use super::feature::{ds4_feature_report, dualsense_feature_report};
use super::{open_node, DeviceError};
use crate::gamepad::ds4::{
    ds4_input_report, ds4_output_report, Ds4Feedback, DS4_IDENTITY, DS4_USB_REPORT_DESCRIPTOR,
};
use crate::gamepad::dualsense::{
    dualsense_input_report, dualsense_output_report, DualSenseFeedback, DUALSENSE_IDENTITY,
    DUALSENSE_USB_REPORT_DESCRIPTOR,
};
use crate::gamepad::{ds4, dualsense, Battery, DeviceIdentity, Motion, PadState, Touchpad};

pub const UHID_NODE: &str = "/dev/uhid";
const UHID_MODULE: &str = "uhid";

/// `enum uhid_event_type`.
pub mod event_type {
    pub const DESTROY: u32 = 1;
    pub const START: u32 = 2;
    pub const STOP: u32 = 3;
    pub const OPEN: u32 = 4;
    pub const CLOSE: u32 = 5;
    pub const OUTPUT: u32 = 6;
    pub const GET_REPORT: u32 = 9;
    pub const GET_REPORT_REPLY: u32 = 10;
    pub const CREATE2: u32 = 11;
    pub const INPUT2: u32 = 12;
    pub const SET_REPORT: u32 = 13;
    pub const SET_REPORT_REPLY: u32 = 14;
}

/// `UHID_DATA_MAX` and the size of the whole packed `struct uhid_event` (a `u32` type and the
/// largest union member, `uhid_create2_req`).
pub const DATA_MAX: usize = 4096;
pub const EVENT_SIZE: usize = 4 + CREATE2_SIZE;
/// `enum uhid_report_type`: the kind of report a GET/SET_REPORT is about.
pub const FEATURE_REPORT: u8 = 0;

/// Byte offsets inside `struct uhid_event` (the payload starts after the 4-byte type).
mod at {
    pub const PAYLOAD: usize = 4;
    // uhid_create2_req
    pub const NAME: usize = PAYLOAD;
    pub const NAME_LEN: usize = 128;
    pub const PHYS: usize = NAME + NAME_LEN;
    pub const PHYS_LEN: usize = 64;
    pub const UNIQ: usize = PHYS + PHYS_LEN;
    pub const UNIQ_LEN: usize = 64;
    pub const RD_SIZE: usize = UNIQ + UNIQ_LEN;
    pub const BUS: usize = RD_SIZE + 2;
    pub const VENDOR: usize = BUS + 2;
    pub const PRODUCT: usize = VENDOR + 4;
    pub const VERSION: usize = PRODUCT + 4;
    pub const COUNTRY: usize = VERSION + 4;
    pub const RD_DATA: usize = COUNTRY + 4;
    // uhid_input2_req
    pub const INPUT2_SIZE: usize = PAYLOAD;
    pub const INPUT2_DATA: usize = PAYLOAD + 2;
    // uhid_output_req
    pub const OUTPUT_DATA: usize = PAYLOAD;
    pub const OUTPUT_SIZE: usize = PAYLOAD + super::DATA_MAX;
    // uhid_get_report_req / uhid_set_report_req
    pub const REQ_ID: usize = PAYLOAD;
    pub const REQ_RNUM: usize = PAYLOAD + 4;
    pub const REQ_RTYPE: usize = PAYLOAD + 5;
    pub const SET_SIZE: usize = PAYLOAD + 6;
    pub const SET_DATA: usize = PAYLOAD + 8;
    // uhid_get_report_reply_req / uhid_set_report_reply_req
    pub const REPLY_ID: usize = PAYLOAD;
    pub const REPLY_ERR: usize = PAYLOAD + 4;
    pub const REPLY_SIZE: usize = PAYLOAD + 6;
    pub const REPLY_DATA: usize = PAYLOAD + 8;
}
const CREATE2_SIZE: usize = at::RD_DATA - at::PAYLOAD + DATA_MAX;

/// An event buffer of `kind` with nothing else set.
fn event(kind: u32) -> Vec<u8> {
    let mut e = vec![0u8; EVENT_SIZE];
    e[..4].copy_from_slice(&kind.to_ne_bytes());
    e
}

fn put(e: &mut [u8], offset: usize, bytes: &[u8]) {
    e[offset..offset + bytes.len()].copy_from_slice(bytes);
}

/// Copies `text` into a fixed, NUL-terminated field (truncated to fit).
fn put_str(e: &mut [u8], offset: usize, field_len: usize, text: &str) {
    let bytes = &text.as_bytes()[..text.len().min(field_len - 1)];
    put(e, offset, bytes);
}

/// `UHID_CREATE2` for a device that says it is `id`, with report descriptor `descriptor`.
pub fn create2_event(id: &DeviceIdentity, phys: &str, uniq: &str, descriptor: &[u8]) -> Vec<u8> {
    let mut e = event(event_type::CREATE2);
    put_str(&mut e, at::NAME, at::NAME_LEN, id.name);
    put_str(&mut e, at::PHYS, at::PHYS_LEN, phys);
    put_str(&mut e, at::UNIQ, at::UNIQ_LEN, uniq);
    let descriptor = &descriptor[..descriptor.len().min(DATA_MAX)];
    put(
        &mut e,
        at::RD_SIZE,
        &(descriptor.len() as u16).to_ne_bytes(),
    );
    put(&mut e, at::BUS, &id.bustype.to_ne_bytes());
    put(&mut e, at::VENDOR, &u32::from(id.vendor).to_ne_bytes());
    put(&mut e, at::PRODUCT, &u32::from(id.product).to_ne_bytes());
    put(&mut e, at::VERSION, &u32::from(id.version).to_ne_bytes());
    put(&mut e, at::RD_DATA, descriptor);
    e
}

/// `UHID_INPUT2` carrying one input report.
pub fn input2_event(report: &[u8]) -> Vec<u8> {
    let report = &report[..report.len().min(DATA_MAX)];
    let mut e = event(event_type::INPUT2);
    put(
        &mut e,
        at::INPUT2_SIZE,
        &(report.len() as u16).to_ne_bytes(),
    );
    put(&mut e, at::INPUT2_DATA, report);
    e
}

/// `UHID_GET_REPORT_REPLY`: `Ok(report)` answers, `Err(errno)` refuses.
pub fn get_report_reply_event(request_id: u32, answer: Result<&[u8], u16>) -> Vec<u8> {
    let mut e = event(event_type::GET_REPORT_REPLY);
    put(&mut e, at::REPLY_ID, &request_id.to_ne_bytes());
    match answer {
        Ok(report) => {
            let report = &report[..report.len().min(DATA_MAX)];
            put(&mut e, at::REPLY_SIZE, &(report.len() as u16).to_ne_bytes());
            put(&mut e, at::REPLY_DATA, report);
        }
        Err(errno) => put(&mut e, at::REPLY_ERR, &errno.to_ne_bytes()),
    }
    e
}

/// `UHID_SET_REPORT_REPLY` with error code `err` (0 = accepted).
pub fn set_report_reply_event(request_id: u32, err: u16) -> Vec<u8> {
    let mut e = event(event_type::SET_REPORT_REPLY);
    put(&mut e, at::REPLY_ID, &request_id.to_ne_bytes());
    put(&mut e, at::REPLY_ERR, &err.to_ne_bytes());
    e
}

/// `UHID_DESTROY`.
pub fn destroy_event() -> Vec<u8> {
    event(event_type::DESTROY)
}

/// What the kernel asked of the device, from one event it sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelRequest<'a> {
    /// An output report (report id first).
    Output(&'a [u8]),
    GetReport {
        id: u32,
        report: u8,
        kind: u8,
    },
    SetReport {
        id: u32,
        report: u8,
        data: &'a [u8],
    },
    /// Start, stop, open, close and anything newer: nothing to answer.
    Other(u32),
}

fn ne_u16(b: &[u8], offset: usize) -> u16 {
    u16::from_ne_bytes([b[offset], b[offset + 1]])
}

fn ne_u32(b: &[u8], offset: usize) -> u32 {
    u32::from_ne_bytes([b[offset], b[offset + 1], b[offset + 2], b[offset + 3]])
}

/// Reads one event the kernel sent; `None` when the buffer is too short to be one.
pub fn parse_kernel_event(b: &[u8]) -> Option<KernelRequest<'_>> {
    if b.len() < at::REPLY_DATA {
        return None;
    }
    Some(match ne_u32(b, 0) {
        event_type::OUTPUT if b.len() >= at::OUTPUT_SIZE + 2 => {
            let size = usize::from(ne_u16(b, at::OUTPUT_SIZE)).min(DATA_MAX);
            KernelRequest::Output(&b[at::OUTPUT_DATA..at::OUTPUT_DATA + size])
        }
        event_type::GET_REPORT => KernelRequest::GetReport {
            id: ne_u32(b, at::REQ_ID),
            report: b[at::REQ_RNUM],
            kind: b[at::REQ_RTYPE],
        },
        event_type::SET_REPORT => {
            let size = usize::from(ne_u16(b, at::SET_SIZE))
                .min(DATA_MAX)
                .min(b.len() - at::SET_DATA);
            KernelRequest::SetReport {
                id: ne_u32(b, at::REQ_ID),
                report: b[at::REQ_RNUM],
                data: &b[at::SET_DATA..at::SET_DATA + size],
            }
        }
        other => KernelRequest::Other(other),
    })
}

/// Which Sony pad to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SonyKind {
    DualSense,
    DualShock4,
}

/// What a game asked of the pad, from one output report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SonyFeedback {
    DualSense(DualSenseFeedback),
    DualShock4(Ds4Feedback),
}

impl SonyKind {
    pub fn identity(self) -> &'static DeviceIdentity {
        match self {
            Self::DualSense => &DUALSENSE_IDENTITY,
            Self::DualShock4 => &DS4_IDENTITY,
        }
    }

    fn descriptor(self) -> &'static [u8] {
        match self {
            Self::DualSense => &DUALSENSE_USB_REPORT_DESCRIPTOR,
            Self::DualShock4 => &DS4_USB_REPORT_DESCRIPTOR,
        }
    }

    fn feature_report(self, report: u8, mac: [u8; 6]) -> Option<Vec<u8>> {
        match self {
            Self::DualSense => dualsense_feature_report(report, mac),
            Self::DualShock4 => ds4_feature_report(report, mac),
        }
    }

    /// The pad's sensor clock after `elapsed_us` (what [`Motion::timestamp`] holds).
    pub fn sensor_ticks(self, elapsed_us: u64) -> u32 {
        match self {
            Self::DualSense => dualsense::sensor_ticks(elapsed_us),
            Self::DualShock4 => ds4::sensor_ticks(elapsed_us),
        }
    }

    fn input_report(
        self,
        s: &PadState,
        t: Option<&Touchpad>,
        m: Option<&Motion>,
        b: Option<&Battery>,
        n: u8,
    ) -> [u8; 64] {
        match self {
            Self::DualSense => dualsense_input_report(s, t, m, b, n),
            Self::DualShock4 => ds4_input_report(s, t, m, b, n),
        }
    }

    fn feedback(self, output: &[u8]) -> Option<SonyFeedback> {
        match self {
            Self::DualSense => dualsense_output_report(output).map(SonyFeedback::DualSense),
            Self::DualShock4 => ds4_output_report(output).map(SonyFeedback::DualShock4),
        }
    }
}

/// `aa:bb:cc:dd:ee:ff`, the form `uniq` (and the driver's battery name) uses.
pub fn mac_string(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

/// The physical path a virtual pad reports.
const PHYS: &str = "punktfunk/virtual-gamepad";

/// A virtual DualSense or DualShock 4. Destroyed when dropped.
///
/// Call [`SonyPad::poll`] often, and right after creating it: the driver probes the pad by
/// asking for feature reports and gives up if they are not answered within seconds.
pub struct SonyPad {
    file: File,
    kind: SonyKind,
    mac: [u8; 6],
    counter: u8,
}

impl SonyPad {
    /// Creates the pad. `mac` must differ between pads alive at once (the driver rejects a
    /// duplicate). Fails with [`DeviceError::Missing`] / [`DeviceError::NotPermitted`] when
    /// `/dev/uhid` is absent or closed to this user.
    pub fn new(kind: SonyKind, mac: [u8; 6]) -> Result<Self, DeviceError> {
        let file = open_node(UHID_NODE, UHID_MODULE)?;
        let mut pad = Self {
            file,
            kind,
            mac,
            counter: 0,
        };
        let create = create2_event(kind.identity(), PHYS, &mac_string(mac), kind.descriptor());
        pad.send(&create, "UHID_CREATE2")?;
        Ok(pad)
    }

    pub fn kind(&self) -> SonyKind {
        self.kind
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Sends the input report for this state (the report counter advances each call).
    pub fn update(
        &mut self,
        state: &PadState,
        touch: Option<&Touchpad>,
        motion: Option<&Motion>,
        battery: Option<&Battery>,
    ) -> Result<(), DeviceError> {
        let report = self
            .kind
            .input_report(state, touch, motion, battery, self.counter);
        self.counter = self.counter.wrapping_add(1);
        self.send(&input2_event(&report), "UHID_INPUT2")
    }

    /// Answers what the kernel asked (feature reports, set-report) and returns the first
    /// output report that parses as feedback. `None` once nothing is pending.
    pub fn poll(&mut self) -> Option<SonyFeedback> {
        let mut buf = vec![0u8; EVENT_SIZE];
        loop {
            let n = self.file.read(&mut buf).ok()?;
            match parse_kernel_event(&buf[..n])? {
                KernelRequest::Output(report) => {
                    if let Some(feedback) = self.kind.feedback(report) {
                        return Some(feedback);
                    }
                }
                KernelRequest::GetReport { id, report, kind } => {
                    let answer = (kind == FEATURE_REPORT)
                        .then(|| self.kind.feature_report(report, self.mac))
                        .flatten();
                    let reply = match &answer {
                        Some(bytes) => get_report_reply_event(id, Ok(bytes)),
                        None => get_report_reply_event(id, Err(libc::EIO as u16)),
                    };
                    let _ = self.send(&reply, "UHID_GET_REPORT_REPLY");
                }
                KernelRequest::SetReport { id, .. } => {
                    let _ = self.send(&set_report_reply_event(id, 0), "UHID_SET_REPORT_REPLY");
                }
                KernelRequest::Other(_) => {}
            }
        }
    }

    fn send(&mut self, event: &[u8], what: &'static str) -> Result<(), DeviceError> {
        self.file
            .write_all(event)
            .map_err(|e| DeviceError::io(UHID_NODE, what, e))
    }
}

impl Drop for SonyPad {
    fn drop(&mut self) {
        let _ = self.send(&destroy_event(), "UHID_DESTROY");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// `struct uhid_create2_req` exactly as `linux/uhid.h` declares it (packed).
    #[repr(C, packed)]
    #[allow(dead_code)]
    struct Create2Req {
        name: [u8; 128],
        phys: [u8; 64],
        uniq: [u8; 64],
        rd_size: u16,
        bus: u16,
        vendor: u32,
        product: u32,
        version: u32,
        country: u32,
        rd_data: [u8; DATA_MAX],
    }

    #[test]
    fn layout_matches_the_kernel_struct() {
        assert_eq!(size_of::<Create2Req>(), CREATE2_SIZE);
        assert_eq!(EVENT_SIZE, 4376);
        let p = at::PAYLOAD;
        assert_eq!(p + offset_of!(Create2Req, phys), at::PHYS);
        assert_eq!(p + offset_of!(Create2Req, uniq), at::UNIQ);
        assert_eq!(p + offset_of!(Create2Req, rd_size), at::RD_SIZE);
        assert_eq!(p + offset_of!(Create2Req, bus), at::BUS);
        assert_eq!(p + offset_of!(Create2Req, vendor), at::VENDOR);
        assert_eq!(p + offset_of!(Create2Req, version), at::VERSION);
        assert_eq!(p + offset_of!(Create2Req, rd_data), at::RD_DATA);
    }

    #[test]
    fn create2_carries_identity_and_descriptor() {
        let id = &DUALSENSE_IDENTITY;
        let e = create2_event(
            id,
            PHYS,
            "aa:bb:cc:dd:ee:ff",
            &DUALSENSE_USB_REPORT_DESCRIPTOR,
        );
        assert_eq!(e.len(), EVENT_SIZE);
        assert_eq!(ne_u32(&e, 0), event_type::CREATE2);
        assert_eq!(&e[at::NAME..at::NAME + id.name.len()], id.name.as_bytes());
        assert_eq!(e[at::NAME + id.name.len()], 0);
        assert_eq!(&e[at::UNIQ..at::UNIQ + 17], b"aa:bb:cc:dd:ee:ff");
        assert_eq!(
            usize::from(ne_u16(&e, at::RD_SIZE)),
            DUALSENSE_USB_REPORT_DESCRIPTOR.len()
        );
        assert_eq!(ne_u16(&e, at::BUS), 0x03);
        assert_eq!(ne_u32(&e, at::VENDOR), 0x054c);
        assert_eq!(ne_u32(&e, at::PRODUCT), 0x0ce6);
        assert_eq!(
            &e[at::RD_DATA..at::RD_DATA + 273],
            &DUALSENSE_USB_REPORT_DESCRIPTOR[..]
        );
    }

    #[test]
    fn long_names_stay_terminated() {
        let id = DeviceIdentity {
            name: &"x".repeat(300).leak()[..],
            ..DUALSENSE_IDENTITY
        };
        let e = create2_event(&id, PHYS, "", &[]);
        assert_eq!(e[at::NAME + 127], 0);
        assert_eq!(e[at::NAME + 126], b'x');
    }

    #[test]
    fn input2_and_replies() {
        let e = input2_event(&[1, 2, 3]);
        assert_eq!(
            (ne_u32(&e, 0), ne_u16(&e, at::INPUT2_SIZE)),
            (event_type::INPUT2, 3)
        );
        assert_eq!(&e[at::INPUT2_DATA..at::INPUT2_DATA + 3], &[1, 2, 3]);
        let e = get_report_reply_event(7, Ok(&[0x05; 41]));
        assert_eq!(ne_u32(&e, at::REPLY_ID), 7);
        assert_eq!(
            (ne_u16(&e, at::REPLY_ERR), ne_u16(&e, at::REPLY_SIZE)),
            (0, 41)
        );
        let e = get_report_reply_event(8, Err(5));
        assert_eq!(
            (ne_u16(&e, at::REPLY_ERR), ne_u16(&e, at::REPLY_SIZE)),
            (5, 0)
        );
        let e = set_report_reply_event(9, 0);
        assert_eq!(
            (ne_u32(&e, 0), ne_u32(&e, at::REPLY_ID)),
            (event_type::SET_REPORT_REPLY, 9)
        );
    }

    fn kernel_event(kind: u32, fill: impl FnOnce(&mut [u8])) -> Vec<u8> {
        let mut e = event(kind);
        fill(&mut e);
        e
    }

    #[test]
    fn kernel_events_parse() {
        let out = kernel_event(event_type::OUTPUT, |e| {
            put(e, at::OUTPUT_DATA, &[0x02, 0x01]);
            put(e, at::OUTPUT_SIZE, &2u16.to_ne_bytes());
        });
        assert_eq!(
            parse_kernel_event(&out),
            Some(KernelRequest::Output(&[0x02, 0x01]))
        );
        let get = kernel_event(event_type::GET_REPORT, |e| {
            put(e, at::REQ_ID, &42u32.to_ne_bytes());
            e[at::REQ_RNUM] = 0x05;
        });
        assert_eq!(
            parse_kernel_event(&get),
            Some(KernelRequest::GetReport {
                id: 42,
                report: 0x05,
                kind: FEATURE_REPORT
            })
        );
        let set = kernel_event(event_type::SET_REPORT, |e| {
            put(e, at::REQ_ID, &3u32.to_ne_bytes());
            e[at::REQ_RNUM] = 0x08;
            put(e, at::SET_SIZE, &60000u16.to_ne_bytes()); // oversized: clamped, no panic
        });
        match parse_kernel_event(&set) {
            Some(KernelRequest::SetReport {
                id: 3,
                report: 0x08,
                data,
            }) => assert_eq!(data.len(), DATA_MAX),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_kernel_event(&event(event_type::START)),
            Some(KernelRequest::Other(2))
        );
        assert_eq!(parse_kernel_event(&[0; 5]), None);
    }

    #[test]
    fn mac_is_formatted_for_uniq() {
        assert_eq!(
            mac_string([0x02, 0xAB, 0, 1, 0x10, 0xFF]),
            "02:ab:00:01:10:ff"
        );
    }

    #[test]
    fn a_dualsense_rumble_output_becomes_feedback() {
        let mut report = [0u8; 63];
        report[0] = 0x02;
        report[1] = 0x01;
        report[3] = 0x40; // right (weak)
        report[4] = 0x80; // left (strong)
        match SonyKind::DualSense.feedback(&report) {
            Some(SonyFeedback::DualSense(f)) => assert_eq!(f.rumble, Some((0x80, 0x40))),
            other => panic!("{other:?}"),
        }
    }
}
