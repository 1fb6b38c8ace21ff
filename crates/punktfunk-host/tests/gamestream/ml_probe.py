#!/usr/bin/env python3
"""Moonlight-side test driver for punktfunk's GameStream plane.

Drives the host through moonlight-python 0.3.0 (which wraps moonlight-common-c, the library every
Moonlight client uses) and reports what a real client saw. CPython 3.11 only (the wheel is cp311):

    python3.11 -m venv /tmp/mlvenv && /tmp/mlvenv/bin/pip install -r requirements.txt
    /tmp/mlvenv/bin/python ml_probe.py --port 47989 --config /tmp/ml-id pair --pin 1234

Contract: every run prints exactly one JSON object (one line) on stdout; everything else (logs,
library chatter, even C code writing to fd 1) goes to stderr. Exit status 0 means the run
happened, whatever the host did (refused pairing, no frames, ...: the JSON says so). Non-zero means
a driver problem: 2 = usage error (argparse, no JSON), 1 = driver bug (JSON with "driver_error")
or a failed `selftest`.

Common options (before or after the subcommand): --host, --port (the host's HTTP port; the HTTPS
port comes from its /serverinfo <HttpsPort>), --config DIR (moonlight-python identity: key.pem,
cert.pem, unique_id; created on first use, so a test keeps one client identity across runs by
passing the same DIR), --watchdog S (after S seconds the partial result is printed with an
"error" naming the phase, and the process exits 0; 0 disables; default depends on the command),
-v (debug logs).

Subcommands and their JSON (extra keys beyond the documented ones are informational):

pair --pin PIN [--timeout S]
    {"paired": bool, "error": str|null, "error_type": str|null, "applist": [names]|null,
     "applist_error": str|null, "server_codec_mode_support": int|null, "server": {...}|null,
     "seconds": float}
    Fetches /serverinfo over HTTP, then runs the 5-step pairing with the given PIN (no auto-pair,
    no random PIN). The first /pair request blocks until the PIN is submitted on the host; give up
    after --timeout seconds (error_type "Timeout"). After pairing, the app list is fetched over
    HTTPS with the client certificate.

applist
    {"ok": bool, "apps": [names], "app_ids": [{"id": int, "name": str}], "error": str|null,
     "error_type": str|null, "server": {...}|null}
    An unpaired identity must get ok=false.

stream [--app Desktop] [--codec h264|hevc] [--width 1280] [--height 720] [--fps 60]
       [--bitrate 10000] [--seconds 3] [--audio] [--input] [--quit] [--min-frames N] ...
    {"started": bool, "error": str|null, "error_type": str|null,
     "frames": n, "stamped": n, "distinct_stamps": n, "first_stamp": int|null, "last_stamp": int|null,
     "increasing": bool, "out_of_order": n, "gaps": n,
     "first_capture_us": int|null, "last_capture_us": int|null,
     "width": int|null, "height": int|null, "seconds": float, "startup_seconds": float|null,
     "min_frames_met": bool|null,
     "audio": {"samples": n, "channels": c, "sample_rate": r, "peak_hz": float|null,
               "rms": float, "chunks": n} | null,
     "input_sent": [event, ...] | null, "input_skipped": [str] | null,
     "host_feature_flags": int|null,
     "quit": {"ok": bool, "seconds": float, "error": str|null,
              "terminated_after_s": float|null} | null,
     "terminated": bool, "termination_error": int|null, "stop_seconds": float|null}
    frames: decoded frames counted during the window, which opens at the first frame after
    start_stream() returned and lasts --seconds (longer if --min-frames or --input need it).
    stamped: frames whose test-picture stamp read back (marker and check bits valid; a repeated
    frame counts again). distinct_stamps: distinct frame numbers among them.
    increasing: at least 2 stamped frames and every stamp > the previous stamp.
    out_of_order: stamped frames whose stamp is <= the previous one. gaps: frame numbers skipped
    between consecutive stamps (dropped or never decoded). termination_error: moonlight-common-c's
    code from connectionTerminated (0 = graceful, i.e. the host sent termination 0x80030023 after
    frames; -1 = ENet disconnect without termination message), null when not terminated.
    input_sent events, in send order, each with "rc" (the C call's return value, 0 = queued):
      {"event": "mouse_move", "dx": 12, "dy": -7}
      {"event": "mouse_button", "action": "press"|"release", "action_code": 7|8, "button": 1}
      {"event": "key", "action": "down"|"up", "action_code": 3|4, "key_code": 65, "vk": 65,
       "modifiers": 0}
      {"event": "scroll", "clicks": 1, "amount": 120, "call": "LiSendScrollEvent"}
      {"event": "text", "text": "hé", "utf8_hex": "68c3a9", "length": 3}
    with --pads instead:
      {"event": "arrival", "number": n, "type": 1|2, "buttons": flags, "capabilities": flags}
      {"event": "controller", "number": n, "mask": m, "buttons": flags, "triggers": [l, r],
       "sticks": [lx, ly, rx, ry]}
      {"event": "touch", "number": n, "type": 1|2|3, "pointer": p, "x": f, "y": f}
      {"event": "motion", "number": n, "type": 1|2, "xyz": [f, f, f]}
      {"event": "battery", "number": n, "state": s, "percent": p}
    and "pad_feedback": what the host sent back for the pads, in arrival order:
      {"kind": "motion", "number": n, "type": 1|2, "rate_hz": r}
      {"kind": "led", "number": n, "rgb": [r, g, b]}
      {"kind": "triggers", "number": n, "flags": f, "modes": [l, r], "left": [10 bytes],
       "right": [10 bytes]}
      {"kind": "rumble", "number": n, "low": l, "high": h}

quit
    {"ok": bool, "seconds": float, "error": str|null, "error_type": str|null}
    HTTPS /cancel (quit the running app), e.g. to clean up between tests.

selftest [--no-codec]
    {"ok": true} when the stamp reader passes: it draws the test picture exactly like
    punktfunk-core's testpicture::draw, reads it back (raw luma, simulated limited-range decode with
    noise, and a real libx264/libx265 encode -> moonlight-python decode round trip), and checks that
    corrupted pictures read as None. On failure: {"ok": false, "failures": [...], "checks": n}.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import sys
import threading
import time
import traceback

import numpy as np

log = logging.getLogger("ml_probe")

# --------------------------------------------------------------------------------------------
# Test picture: a Python mirror of crates/punktfunk-core/src/testpicture.rs.
# A grid of square cells in the top-left corner of the luma plane, COLUMNS cells per row: a
# 4-cell marker (1010), 32 bits frame number, 40 bits capture time (µs), 8 check bits, each
# LSB first. Cell i sits at column i % COLUMNS, row i // COLUMNS. Bit 1 = BRIGHT, 0 = DARK.
# --------------------------------------------------------------------------------------------

TP_COLUMNS = 24
TP_MARKER = (True, False, True, False)
TP_PAYLOAD_BITS = 32 + 40 + 8
TP_BITS = len(TP_MARKER) + TP_PAYLOAD_BITS  # 84
TP_ROWS = -(-TP_BITS // TP_COLUMNS)  # div_ceil: 4
TP_DARK = 32
TP_BRIGHT = 224
TP_THRESHOLD = 128
_U64 = (1 << 64) - 1
_T40 = (1 << 40) - 1


def tp_cell_size(width: int, height: int) -> int | None:
    """Side of one cell: the code takes at most half the width and a quarter of the height."""
    cell = min(width // 2 // TP_COLUMNS, height // 4 // TP_ROWS)
    return cell if cell >= 4 else None


def tp_check(frame: int, capture_us: int) -> int:
    """Check byte: c = 0x5A; for each byte b of frame (4 LE bytes) then the low 5 LE bytes of
    capture_us: c = rotl8(c, 3) ^ b."""
    c = 0x5A
    data = (frame & 0xFFFFFFFF).to_bytes(4, "little") + (capture_us & _U64).to_bytes(8, "little")[:5]
    for b in data:
        c = (((c << 3) | (c >> 5)) & 0xFF) ^ b
    return c


def tp_bits(frame: int, capture_us: int) -> list[bool]:
    check = tp_check(frame, capture_us)
    frame &= 0xFFFFFFFF
    time40 = capture_us & _T40
    return (
        list(TP_MARKER)
        + [(frame >> i) & 1 == 1 for i in range(32)]
        + [(time40 >> i) & 1 == 1 for i in range(40)]
        + [(check >> i) & 1 == 1 for i in range(8)]
    )


def tp_draw(width: int, height: int, frame: int, capture_us: int) -> np.ndarray:
    """The whole luma plane as testpicture::draw makes it: a diagonal gradient moving with the
    frame number, a bright bar sweeping across, and the code. Returns (height, width) uint8."""
    shift = (frame & 0xFFFFFFFF) * 4
    y = np.arange(height, dtype=np.int64)[:, None]
    x = np.arange(width, dtype=np.int64)[None, :]
    luma = ((x + y + shift) & 0xFF).astype(np.uint8)
    bar = ((frame & 0xFFFFFFFF) * 8) % max(width, 1)
    end = min(bar + width // 32 + 1, width)
    luma[:, bar:end] = 235
    cell = tp_cell_size(width, height)
    if cell is None:
        return luma
    for i, bit in enumerate(tp_bits(frame, capture_us)):
        cx, cy = i % TP_COLUMNS, i // TP_COLUMNS
        luma[cy * cell:(cy + 1) * cell, cx * cell:(cx + 1) * cell] = TP_BRIGHT if bit else TP_DARK
    return luma


def tp_read_luma(luma: np.ndarray, width: int | None = None,
                 height: int | None = None) -> tuple[int, int] | None:
    """testpicture::read on a 2-D luma array indexed [y, x]. `width`/`height` are the picture's
    size (the cell size depends on it) when `luma` is only its top-left corner. Each cell's bit is
    the integer mean of its inner square (a margin of cell // 4 left out on every side) >= 128.
    Returns (frame, capture_us) or None when the marker or the check byte does not match."""
    if luma.ndim != 2:
        raise ValueError(f"luma must be 2-D, got shape {luma.shape}")
    height = luma.shape[0] if height is None else height
    width = luma.shape[1] if width is None else width
    cell = tp_cell_size(width, height)
    if cell is None:
        return None
    if luma.shape[0] < TP_ROWS * cell or luma.shape[1] < TP_COLUMNS * cell:
        return None
    margin = cell // 4
    region = np.asarray(luma[:TP_ROWS * cell, :TP_COLUMNS * cell], dtype=np.int64)
    cells = region.reshape(TP_ROWS, cell, TP_COLUMNS, cell)[:, margin:cell - margin, :, margin:cell - margin]
    n = (cell - 2 * margin) ** 2
    means = cells.sum(axis=(1, 3)) // max(n, 1)
    bits = (means >= TP_THRESHOLD).reshape(-1)[:TP_BITS]
    if tuple(bool(b) for b in bits[:len(TP_MARKER)]) != TP_MARKER:
        return None

    def value(start: int, count: int) -> int:
        v = 0
        for i in range(count):
            if bits[len(TP_MARKER) + start + i]:
                v |= 1 << i
        return v

    frame = value(0, 32)
    capture_us = value(32, 40)
    if value(72, 8) != tp_check(frame, capture_us):
        return None
    return frame, capture_us


def luma_from_rgb(region: np.ndarray, order: str = "bgr") -> np.ndarray:
    """Estimate the encoded (limited-range) Y from decoded 8-bit RGB/BGR: full-range BT.601
    luma of the pixel, mapped back to 16..235. The test picture's chroma is neutral, so after a
    limited-range decode R = G = B = (Y - 16) * 255 / 219 and this returns Y (±1)."""
    c = region.astype(np.int32)
    if order == "bgr":
        b, g, r = c[..., 0], c[..., 1], c[..., 2]
    else:
        r, g, b = c[..., 0], c[..., 1], c[..., 2]
    full = (77 * r + 150 * g + 29 * b + 128) >> 8
    return (full * 219 + 127) // 255 + 16


def read_stamp(image: np.ndarray, order: str = "bgr") -> tuple[int, int] | None:
    """Read the test-picture stamp from a decoded frame: (H, W, 3) uint8 BGR (moonlight-python's
    Frame.data; order="rgb" for RGB) or a 2-D luma plane. Returns (frame, capture_us) or None."""
    h, w = image.shape[:2]
    cell = tp_cell_size(w, h)
    if cell is None:
        return None
    region = image[:TP_ROWS * cell, :TP_COLUMNS * cell]
    if region.ndim == 3:
        region = luma_from_rgb(region, order)
    return tp_read_luma(region, w, h)


class StampTracker:
    """Per-frame bookkeeping of stamps for the `stream` report."""

    def __init__(self) -> None:
        self.frames = 0
        self.stamped = 0
        self.first: int | None = None
        self.last: int | None = None
        self.first_capture_us: int | None = None
        self.last_capture_us: int | None = None
        self.out_of_order = 0
        self.gaps = 0
        self._distinct: set[int] = set()

    def add(self, stamp: tuple[int, int] | None) -> None:
        self.frames += 1
        if stamp is None:
            return
        frame, capture_us = stamp
        self.stamped += 1
        self._distinct.add(frame)
        if self.first is None:
            self.first, self.first_capture_us = frame, capture_us
        elif frame <= self.last:
            self.out_of_order += 1
        elif frame > self.last + 1:
            self.gaps += frame - self.last - 1
        self.last, self.last_capture_us = frame, capture_us

    @property
    def increasing(self) -> bool:
        return self.stamped >= 2 and self.out_of_order == 0

    def report(self) -> dict:
        return {
            "frames": self.frames,
            "stamped": self.stamped,
            "distinct_stamps": len(self._distinct),
            "first_stamp": self.first,
            "last_stamp": self.last,
            "increasing": self.increasing,
            "out_of_order": self.out_of_order,
            "gaps": self.gaps,
            "first_capture_us": self.first_capture_us,
            "last_capture_us": self.last_capture_us,
        }


# --------------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------------

def peak_frequency(samples: np.ndarray, sample_rate: int) -> tuple[float | None, float]:
    """Dominant frequency (Hz) of a mono float signal via a Hann-windowed real FFT, refined by
    parabolic interpolation on the log magnitude. Returns (peak_hz or None if silent, rms)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return None, 0.0
    rms = float(np.sqrt(np.mean(x * x)))
    x = x - x.mean()
    if x.size < 16 or rms < 1e-4:
        return None, rms
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    spectrum[0] = 0.0
    k = int(np.argmax(spectrum))
    if k <= 0:
        return None, rms
    delta = 0.0
    if 0 < k < spectrum.size - 1:
        a, b, c = (np.log(spectrum[k - 1] + 1e-12), np.log(spectrum[k] + 1e-12),
                   np.log(spectrum[k + 1] + 1e-12))
        denom = a - 2 * b + c
        if denom != 0:
            delta = float(0.5 * (a - c) / denom)
    return float((k + delta) * sample_rate / x.size), rms


# --------------------------------------------------------------------------------------------
# Input through moonlight-common-c (ctypes on the .so that moonlight-python already loaded)
# --------------------------------------------------------------------------------------------

BUTTON_ACTION_PRESS = 0x07
BUTTON_ACTION_RELEASE = 0x08
BUTTON_LEFT = 0x01
KEY_ACTION_DOWN = 0x03
KEY_ACTION_UP = 0x04
LI_WHEEL_DELTA = 120
LI_CTYPE_XBOX = 0x01
LI_CTYPE_PS = 0x02
LI_CCAP_ANALOG_TRIGGERS = 0x01
LI_CCAP_RUMBLE = 0x02
LI_CCAP_TOUCHPAD = 0x08
LI_CCAP_ACCEL = 0x10
LI_CCAP_GYRO = 0x20
LI_CCAP_BATTERY_STATE = 0x40
LI_CCAP_RGB_LED = 0x80
LI_TOUCH_EVENT_DOWN = 0x01
LI_TOUCH_EVENT_UP = 0x02
LI_TOUCH_EVENT_MOVE = 0x03
LI_MOTION_TYPE_ACCEL = 0x01
LI_MOTION_TYPE_GYRO = 0x02
LI_BATTERY_STATE_DISCHARGING = 0x02
STANDARD_GRAVITY = 9.80665
A_FLAG = 0x1000
TOUCHPAD_FLAG = 0x100000
MISC_FLAG = 0x200000


def _as_short(v: int) -> int:
    v &= 0xFFFF
    return v - 0x10000 if v >= 0x8000 else v


class InputSender:
    """Limelight.h input calls. moonlight-python declares only LiSendMouseMoveEvent in its cffi
    cdef, but the bundled .so exports the whole API. dlopen() of the same file returns the
    handle cffi already opened, so these calls reach the live connection's input queue."""

    # name -> (argtypes, restype), exactly as in moonlight-common-c src/Limelight.h
    # ('char' parameters are passed as c_byte: same 1-byte integer ABI, no bytes objects).
    SIGNATURES = {
        "LiSendMouseMoveEvent": ([ctypes.c_short, ctypes.c_short], ctypes.c_int),
        "LiSendMouseButtonEvent": ([ctypes.c_byte, ctypes.c_int], ctypes.c_int),
        "LiSendMousePositionEvent": ([ctypes.c_short] * 4, ctypes.c_int),
        "LiSendKeyboardEvent": ([ctypes.c_short, ctypes.c_byte, ctypes.c_byte], ctypes.c_int),
        "LiSendScrollEvent": ([ctypes.c_byte], ctypes.c_int),
        "LiSendHighResScrollEvent": ([ctypes.c_short], ctypes.c_int),
        "LiSendUtf8TextEvent": ([ctypes.c_char_p, ctypes.c_uint], ctypes.c_int),
        "LiGetHostFeatureFlags": ([], ctypes.c_uint32),
        "LiSendControllerArrivalEvent": ([ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint8,
                                          ctypes.c_uint32, ctypes.c_uint16], ctypes.c_int),
        "LiSendMultiControllerEvent": ([ctypes.c_short, ctypes.c_short, ctypes.c_int,
                                        ctypes.c_ubyte, ctypes.c_ubyte] + [ctypes.c_short] * 4,
                                       ctypes.c_int),
        "LiSendTouchEvent": ([ctypes.c_uint8, ctypes.c_uint32, ctypes.c_float, ctypes.c_float,
                              ctypes.c_float, ctypes.c_float, ctypes.c_float, ctypes.c_uint16],
                             ctypes.c_int),
        "LiSendControllerTouchEvent": ([ctypes.c_uint8, ctypes.c_uint8, ctypes.c_uint32,
                                        ctypes.c_float, ctypes.c_float, ctypes.c_float],
                                       ctypes.c_int),
        "LiSendControllerMotionEvent": ([ctypes.c_uint8, ctypes.c_uint8, ctypes.c_float,
                                         ctypes.c_float, ctypes.c_float], ctypes.c_int),
        "LiSendControllerBatteryEvent": ([ctypes.c_uint8, ctypes.c_uint8, ctypes.c_uint8],
                                         ctypes.c_int),
    }

    def __init__(self) -> None:
        from moonlight_python.stream import _find_shared_lib

        self.path = _find_shared_lib()
        self.lib = ctypes.CDLL(self.path)
        self.fns = {}
        for name, (argtypes, restype) in self.SIGNATURES.items():
            fn = getattr(self.lib, name, None)
            if fn is None:
                continue
            fn.argtypes = argtypes
            fn.restype = restype
            self.fns[name] = fn

    def host_feature_flags(self) -> int | None:
        fn = self.fns.get("LiGetHostFeatureFlags")
        return int(fn()) if fn else None

    # US-layout characters as (virtual key, shift held).
    @staticmethod
    def _key_of(ch: str):
        if "a" <= ch <= "z":
            return ord(ch.upper()), False
        if "A" <= ch <= "Z" or "0" <= ch <= "9":
            return ord(ch), False if not ch.isupper() else True
        return {" ": (0x20, False), "\n": (0x0D, False)}.get(ch)

    def scripted(self, type_text: str | None, hold_key: int | None, click_at, width: int,
                 height: int, gap_s: float = 0.03) -> list[dict]:
        """Keys typed one by one (shift around capitals, as a real keyboard), a click at a
        position of the picture, and a key pressed and never released."""
        sent: list[dict] = []
        key = self.fns["LiSendKeyboardEvent"]

        def press(vk: int, down: bool, mods: int) -> None:
            rc = key(_as_short(0x8000 | vk), KEY_ACTION_DOWN if down else KEY_ACTION_UP, mods)
            sent.append({"event": "key", "vk": vk, "down": down, "modifiers": mods, "rc": rc})
            time.sleep(gap_s)

        if click_at is not None:
            x, y = click_at
            rc = self.fns["LiSendMousePositionEvent"](x, y, width, height)
            sent.append({"event": "position", "x": x, "y": y, "rc": rc})
            time.sleep(gap_s)
            for action in (BUTTON_ACTION_PRESS, BUTTON_ACTION_RELEASE):
                rc = self.fns["LiSendMouseButtonEvent"](action, BUTTON_LEFT)
                sent.append({"event": "button", "action": action, "rc": rc})
                time.sleep(gap_s)
        for ch in type_text or "":
            k = self._key_of(ch)
            if k is None:
                continue
            vk, shift = k
            if shift:
                press(0xA0, True, 0x01)
            press(vk, True, 0x01 if shift else 0)
            press(vk, False, 0x01 if shift else 0)
            if shift:
                press(0xA0, False, 0)
        if hold_key is not None:
            press(hold_key, True, 0)
        return sent

    def pads(self, gap_s: float = 0.05) -> list[dict]:
        """Two pads as a client with two controllers: an Xbox pad (0) and a DualSense (1, with
        touchpad, motion sensors, battery and lightbar) arrive, pad 0 presses A with the
        triggers and sticks at their ends and releases; a finger goes down on pad 1's touchpad
        at (0.25, 0.75), moves to the middle and lifts, pad 1 reports 1 g on y and a rotation of
        90 deg/s pitch, -45 deg/s roll and a battery at 42 % discharging; a finger touches pad 0
        (which has no touchpad); then pad 1 is unplugged (its bit cleared in the active mask)."""
        sent: list[dict] = []
        arrival = self.fns["LiSendControllerArrivalEvent"]
        state = self.fns["LiSendMultiControllerEvent"]
        touch = self.fns["LiSendControllerTouchEvent"]
        motion = self.fns["LiSendControllerMotionEvent"]
        battery = self.fns["LiSendControllerBatteryEvent"]

        def send(entry: dict, rc: int) -> None:
            entry["rc"] = int(rc)
            sent.append(entry)
            log.info("input: %s", entry)
            time.sleep(gap_s)

        sony = (LI_CCAP_ANALOG_TRIGGERS | LI_CCAP_RUMBLE | LI_CCAP_TOUCHPAD | LI_CCAP_ACCEL
                | LI_CCAP_GYRO | LI_CCAP_BATTERY_STATE | LI_CCAP_RGB_LED)
        for number, ctype, buttons, caps in (
                (0, LI_CTYPE_XBOX, 0xFFFF, LI_CCAP_ANALOG_TRIGGERS | LI_CCAP_RUMBLE),
                (1, LI_CTYPE_PS, 0xFFFF | TOUCHPAD_FLAG | MISC_FLAG, sony)):
            send({"event": "arrival", "number": number, "type": ctype, "buttons": buttons,
                  "capabilities": caps},
                 arrival(number, 0b11, ctype, buttons, caps))
        for mask, number, buttons, lt, rt, sticks in (
                (0b11, 0, A_FLAG, 0, 200, (1000, 32767, -5, -32768)),
                (0b11, 0, 0, 0, 0, (0, 0, 0, 0))):
            send({"event": "controller", "number": number, "mask": mask, "buttons": buttons,
                  "triggers": [lt, rt], "sticks": list(sticks)},
                 state(number, mask, buttons, lt, rt, *sticks))
        def finger(number: int, kind: int, pointer: int, x: float, y: float) -> None:
            pressure = 0.0 if kind == LI_TOUCH_EVENT_UP else 1.0
            send({"event": "touch", "number": number, "type": kind, "pointer": pointer,
                  "x": x, "y": y},
                 touch(number, kind, pointer, x, y, pressure))

        finger(1, LI_TOUCH_EVENT_DOWN, 5, 0.25, 0.75)
        finger(1, LI_TOUCH_EVENT_MOVE, 5, 0.5, 0.5)
        finger(1, LI_TOUCH_EVENT_UP, 5, 0.5, 0.5)
        for kind, xyz in ((LI_MOTION_TYPE_ACCEL, (0.0, STANDARD_GRAVITY, 0.0)),
                          (LI_MOTION_TYPE_GYRO, (90.0, 0.0, -45.0))):
            send({"event": "motion", "number": 1, "type": kind, "xyz": list(xyz)},
                 motion(1, kind, *xyz))
        send({"event": "battery", "number": 1, "state": LI_BATTERY_STATE_DISCHARGING,
              "percent": 42},
             battery(1, LI_BATTERY_STATE_DISCHARGING, 42))
        finger(0, LI_TOUCH_EVENT_DOWN, 1, 0.5, 0.5)
        send({"event": "controller", "number": 1, "mask": 0b01, "buttons": 0,
              "triggers": [0, 0], "sticks": [0, 0, 0, 0]},
             state(1, 0b01, 0, 0, 0, 0, 0, 0, 0))
        return sent

    def send_all(self, key_code: int = 0x41, scroll: str = "clicks", text: str = "hé",
                 touch: tuple[float, float] | None = None,
                 gap_s: float = 0.03) -> tuple[list[dict], list[str]]:
        """Send the fixed input sequence; returns (sent events, skipped descriptions)."""
        sent: list[dict] = []
        skipped: list[str] = []

        def call(name: str, entry: dict, *args) -> None:
            fn = self.fns.get(name)
            if fn is None:
                skipped.append(f"{entry['event']}: {name} not exported")
                return
            entry["rc"] = int(fn(*args))
            sent.append(entry)
            log.info("input: %s", entry)
            time.sleep(gap_s)

        call("LiSendMouseMoveEvent", {"event": "mouse_move", "dx": 12, "dy": -7}, 12, -7)
        call("LiSendMouseButtonEvent",
             {"event": "mouse_button", "action": "press", "action_code": BUTTON_ACTION_PRESS,
              "button": BUTTON_LEFT}, BUTTON_ACTION_PRESS, BUTTON_LEFT)
        call("LiSendMouseButtonEvent",
             {"event": "mouse_button", "action": "release", "action_code": BUTTON_ACTION_RELEASE,
              "button": BUTTON_LEFT}, BUTTON_ACTION_RELEASE, BUTTON_LEFT)
        kc = key_code & 0xFFFF
        for action, code in (("down", KEY_ACTION_DOWN), ("up", KEY_ACTION_UP)):
            call("LiSendKeyboardEvent",
                 {"event": "key", "action": action, "action_code": code, "key_code": kc,
                  "vk": kc & 0xFF, "modifiers": 0}, _as_short(kc), code, 0)
        if scroll == "highres":
            call("LiSendHighResScrollEvent",
                 {"event": "scroll", "clicks": 1, "amount": LI_WHEEL_DELTA,
                  "call": "LiSendHighResScrollEvent"}, LI_WHEEL_DELTA)
        else:
            call("LiSendScrollEvent",
                 {"event": "scroll", "clicks": 1, "amount": LI_WHEEL_DELTA,
                  "call": "LiSendScrollEvent"}, 1)
        if text:
            raw = text.encode("utf-8")
            call("LiSendUtf8TextEvent",
                 {"event": "text", "text": text, "utf8_hex": raw.hex(), "length": len(raw)},
                 raw, len(raw))
        if touch is not None:
            # Finger 3 down at (x, y) of the picture, 0.01 to the right, up.
            x, y = touch
            for phase, code, at in (("down", LI_TOUCH_EVENT_DOWN, x),
                                    ("move", LI_TOUCH_EVENT_MOVE, x + 0.01),
                                    ("up", LI_TOUCH_EVENT_UP, x + 0.01)):
                call("LiSendTouchEvent",
                     {"event": "touch", "phase": phase, "pointer_id": 3, "x": at, "y": y},
                     code, 3, at, y, 1.0, 0.0, 0.0, 0xFFFF)
        return sent, skipped


class PadFeedback:
    """What the host sends back for the pads, as moonlight-common-c hands it to a client: its
    listener callbacks for rumble, motion requests, LEDs and adaptive triggers, recorded.
    moonlight-python leaves them unset; install() adds them to every session it starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[dict] = []

    def _record(self, event: dict) -> None:
        with self._lock:
            self._events.append(event)
        log.info("pad feedback: %s", event)

    def events(self) -> list[dict]:
        with self._lock:
            return list(self._events)

    def install(self) -> None:
        from moonlight_python import stream

        original = stream.StreamingSession._make_connection_callbacks
        record = self._record

        def patched(session):
            cl = original(session)
            ffi = session._ffi

            @ffi.callback("void(unsigned short, unsigned short, unsigned short)")
            def rumble(number, low, high):
                record({"kind": "rumble", "number": number, "low": low, "high": high})

            @ffi.callback("void(uint16_t, uint8_t, uint16_t)")
            def motion(number, kind, rate_hz):
                record({"kind": "motion", "number": number, "type": kind, "rate_hz": rate_hz})

            @ffi.callback("void(uint16_t, uint8_t, uint8_t, uint8_t)")
            def led(number, r, g, b):
                record({"kind": "led", "number": number, "rgb": [r, g, b]})

            @ffi.callback("void(uint16_t, uint8_t, uint8_t, uint8_t, uint8_t *, uint8_t *)")
            def triggers(number, flags, mode_left, mode_right, left, right):
                record({"kind": "triggers", "number": number, "flags": flags,
                        "modes": [mode_left, mode_right],
                        "left": list(bytes(ffi.buffer(left, 10))),
                        "right": list(bytes(ffi.buffer(right, 10)))})

            session._callbacks.extend([rumble, motion, led, triggers])
            cl.rumble = rumble
            cl.setMotionEventState = motion
            cl.setControllerLED = led
            cl.setAdaptiveTriggers = triggers
            return cl

        stream.StreamingSession._make_connection_callbacks = patched


# --------------------------------------------------------------------------------------------
# Plumbing
# --------------------------------------------------------------------------------------------

class Output:
    """Exactly one JSON object on the real stdout; fd 1 is pointed at stderr meanwhile so that
    nothing else (print() in the library, C code) can corrupt it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._stream = sys.stdout

    def capture(self) -> None:
        sys.stdout.flush()
        self._stream = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def emit(self, obj: dict) -> bool:
        with self._lock:
            if self._done:
                return False
            self._done = True
            self._stream.write(json.dumps(obj) + "\n")
            self._stream.flush()
            return True


class Run:
    """The result being built, the current phase, and the watchdog."""

    def __init__(self, out: Output, result: dict) -> None:
        self.out = out
        self.result = result
        self.phase = "init"

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        log.debug("phase: %s", phase)

    def start_watchdog(self, seconds: float) -> None:
        if not seconds or seconds <= 0:
            return

        def fire() -> None:
            try:
                partial = json.loads(json.dumps(self.result, default=str))
            except Exception:  # the main thread was mutating it; keep what is safe
                partial = {}
            partial["error"] = f"watchdog: no result after {seconds:g} s (phase: {self.phase})"
            partial["error_type"] = "Watchdog"
            partial["watchdog"] = True
            if self.out.emit(partial):
                log.error("%s", partial["error"])
                os._exit(0)

        timer = threading.Timer(seconds, fire)
        timer.daemon = True
        timer.start()


def _exc(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


# moonlight-common-c's MAKE_AUDIO_CONFIGURATION(channels, mask): stereo, 5.1 and 7.1 speaker masks.
_SPEAKER_MASKS = {2: 0x3, 6: 0x3F, 8: 0x63F}


def _ask_for_channels(channels: int) -> None:
    """moonlight-python builds its StreamConfig with stereo audio; make it ask for `channels`."""
    import functools

    import moonlight_python

    config = (_SPEAKER_MASKS[channels] << 16) | (channels << 8) | 0xCA
    base = getattr(moonlight_python.StreamConfig, "func", moonlight_python.StreamConfig)
    moonlight_python.StreamConfig = functools.partial(base, audio_configuration=config)


def _make_client(args):
    from moonlight_python import MoonlightClient

    if getattr(args, "audio_channels", 2) != 2:
        _ask_for_channels(args.audio_channels)
    return MoonlightClient(config_dir=args.config)


def _identity(client):
    # MoonlightClient(config_dir) loads or creates the identity there; connect_to_server() and
    # NvHTTP need the same object.
    return client._identity


def _serverinfo(client, args):
    """GET http://host:port/serverinfo (no pairing). Returns ServerInfo."""
    from moonlight_python.discovery import connect_to_server

    return connect_to_server(args.host, _identity(client), args.port)


def _attach(client, server) -> None:
    """What MoonlightClient.connect() does, minus its auto-pairing fallback (which would invent a
    random PIN and block): remember the server and an HTTPS client for it. The HTTPS client
    presents this identity's certificate; moonlight-python does not verify the server's."""
    from moonlight_python.http_client import NvHTTP

    client._server = server
    client._http = NvHTTP(server.address, _identity(client), http_port=server.http_port,
                          https_port=server.https_port, server_cert_pem=server.server_cert_pem)


def _server_json(server) -> dict:
    return {
        "hostname": server.hostname,
        "unique_id": server.unique_id,
        "app_version": server.app_version,
        "gfe_version": server.gfe_version,
        "http_port": server.http_port,
        "https_port": server.https_port,
        "state": server.state,
        "current_game": server.current_game,
        "pair_status": server.paired,
        "server_codec_mode_support": server.server_codec_mode_support,
        "max_luma_pixels_hevc": server.max_luma_pixels_hevc,
        "gpu_type": server.gpu_type,
    }


# --------------------------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------------------------

def cmd_pair(args, run: Run) -> int:
    res = run.result
    res.update({"paired": False, "error": None, "error_type": None, "applist": None,
                "applist_error": None, "server_codec_mode_support": None, "server": None,
                "seconds": 0.0})
    run.start_watchdog(args.watchdog if args.watchdog is not None else args.timeout + 30)
    run.set_phase("identity")
    client = _make_client(args)
    run.set_phase("serverinfo")
    try:
        server = _serverinfo(client, args)
    except Exception as e:
        res["error"], res["error_type"] = f"serverinfo: {_exc(e)}", type(e).__name__
        return 0
    res["server"] = _server_json(server)
    res["server_codec_mode_support"] = int(server.server_codec_mode_support)

    run.set_phase("pair")
    box: dict = {}

    def do_pair() -> None:
        try:
            client.pair(server, pin=args.pin)
            box["ok"] = True
        except BaseException as e:  # noqa: BLE001 - reported, not raised
            box["exc"] = e

    t0 = time.monotonic()
    worker = threading.Thread(target=do_pair, name="pair", daemon=True)
    worker.start()
    worker.join(args.timeout)
    res["seconds"] = round(time.monotonic() - t0, 3)
    if worker.is_alive():
        res["error"] = f"pairing did not finish within {args.timeout:g} s"
        res["error_type"] = "Timeout"
        return 0
    if "exc" in box:
        res["error"], res["error_type"] = _exc(box["exc"]), type(box["exc"]).__name__
        return 0
    res["paired"] = True

    run.set_phase("applist")
    try:
        res["applist"] = [a.name for a in client.apps()]
    except Exception as e:
        res["applist_error"] = _exc(e)
    return 0


def cmd_applist(args, run: Run) -> int:
    res = run.result
    res.update({"ok": False, "apps": [], "app_ids": [], "error": None, "error_type": None,
                "server": None})
    run.start_watchdog(args.watchdog if args.watchdog is not None else 60)
    client = _make_client(args)
    run.set_phase("serverinfo")
    try:
        server = _serverinfo(client, args)
    except Exception as e:
        res["error"], res["error_type"] = f"serverinfo: {_exc(e)}", type(e).__name__
        return 0
    res["server"] = _server_json(server)
    _attach(client, server)
    run.set_phase("applist")
    try:
        apps = client.apps()
    except Exception as e:
        res["error"], res["error_type"] = f"applist: {_exc(e)}", type(e).__name__
        return 0
    res["ok"] = True
    res["apps"] = [a.name for a in apps]
    res["app_ids"] = [{"id": int(a.id), "name": a.name} for a in apps]
    return 0


def cmd_quit(args, run: Run) -> int:
    res = run.result
    res.update({"ok": False, "seconds": 0.0, "error": None, "error_type": None})
    run.start_watchdog(args.watchdog if args.watchdog is not None else 60)
    client = _make_client(args)
    run.set_phase("serverinfo")
    try:
        server = _serverinfo(client, args)
    except Exception as e:
        res["error"], res["error_type"] = f"serverinfo: {_exc(e)}", type(e).__name__
        return 0
    _attach(client, server)
    run.set_phase("cancel")
    t0 = time.monotonic()
    try:
        client.quit_app()
        res["ok"] = True
    except Exception as e:
        res["error"], res["error_type"] = f"cancel: {_exc(e)}", type(e).__name__
    res["seconds"] = round(time.monotonic() - t0, 3)
    return 0


class _AudioCollector(threading.Thread):
    def __init__(self, sub) -> None:
        super().__init__(name="audio-collect", daemon=True)
        self.sub = sub
        self.stop_event = threading.Event()
        self.chunks: list[np.ndarray] = []
        self.sample_rate: int | None = None
        self.channels: int | None = None

    def run(self) -> None:
        while not self.stop_event.is_set():
            chunk = self.sub.get(timeout=0.2)
            if chunk is None:
                if getattr(self.sub, "is_closed", False):
                    return
                continue
            self.sample_rate = int(chunk.sample_rate)
            self.channels = int(chunk.channels)
            self.chunks.append(np.asarray(chunk.data, dtype=np.float32))

    def report(self, seconds_for_fft: float, default_rate: int, default_channels: int) -> dict:
        rate = self.sample_rate or default_rate
        channels = self.channels or default_channels
        if self.chunks:
            data = np.concatenate([c.reshape(c.shape[0], -1) for c in self.chunks], axis=0)
        else:
            data = np.zeros((0, max(channels, 1)), dtype=np.float32)
        n = min(data.shape[0], int(rate * seconds_for_fft))
        tail = data[data.shape[0] - n:]
        peak, rms = peak_frequency(tail[:, 0], rate) if n else (None, 0.0)
        channel_rms = [round(float(np.sqrt(np.mean(tail[:, c] ** 2))), 6) if n else 0.0
                       for c in range(tail.shape[1])]
        return {"samples": int(data.shape[0]), "channels": int(channels),
                "sample_rate": int(rate), "peak_hz": None if peak is None else round(peak, 2),
                "rms": round(rms, 6), "channel_rms": channel_rms, "chunks": len(self.chunks)}


def cmd_stream(args, run: Run) -> int:
    res = run.result
    res.update({
        "started": False, "error": None, "error_type": None,
        "frames": 0, "stamped": 0, "distinct_stamps": 0, "first_stamp": None, "last_stamp": None,
        "increasing": False, "out_of_order": 0, "gaps": 0,
        "first_capture_us": None, "last_capture_us": None,
        "width": None, "height": None, "seconds": 0.0, "startup_seconds": None,
        "min_frames_met": None,
        "audio": None, "input_sent": None, "input_skipped": None, "host_feature_flags": None,
        "quit": None, "terminated": False, "termination_error": None, "stop_seconds": None,
    })
    run.start_watchdog(args.watchdog if args.watchdog is not None else
                       150 + args.ready_timeout + args.seconds + args.min_frames_grace
                       + args.input_delay + args.quit_wait)
    client = _make_client(args)
    run.set_phase("serverinfo")
    try:
        server = _serverinfo(client, args)
    except Exception as e:
        res["error"], res["error_type"] = f"serverinfo: {_exc(e)}", type(e).__name__
        return 0
    _attach(client, server)
    run.set_phase("applist")
    try:
        res["apps"] = [a.name for a in client.apps()]
    except Exception as e:
        res["error"] = f"applist (not paired?): {_exc(e)}"
        res["error_type"] = type(e).__name__
        return 0

    feedback = None
    if args.pads:
        feedback = PadFeedback()
        feedback.install()
        res["pad_feedback"] = []

    run.set_phase("start_stream")
    t0 = time.monotonic()
    try:
        client.start_stream(app=args.app, width=args.width, height=args.height, fps=args.fps,
                            bitrate_kbps=args.bitrate, codec=args.codec,
                            ready_timeout=args.ready_timeout, record_audio=args.audio)
    except Exception as e:
        res["error"], res["error_type"] = f"start_stream: {_exc(e)}", type(e).__name__
        res["startup_seconds"] = round(time.monotonic() - t0, 3)
        return 0
    res["started"] = True
    res["startup_seconds"] = round(time.monotonic() - t0, 3)
    session = client._session
    manager = client._stream_manager

    try:
        _stream_window(args, run, client, session, manager)
    finally:
        if feedback is not None:
            res["pad_feedback"] = feedback.events()
        run.set_phase("stop_stream")
        if session is not None:
            res["terminated"] = bool(session.is_terminated)
            res["termination_error"] = (int(session.termination_error)
                                        if session.is_terminated else None)
        t1 = time.monotonic()
        try:
            client.stop_stream()
        except Exception as e:
            log.warning("stop_stream: %s", _exc(e))
            if res["error"] is None:
                res["error"], res["error_type"] = f"stop_stream: {_exc(e)}", type(e).__name__
        res["stop_seconds"] = round(time.monotonic() - t1, 3)
    return 0


def _stream_window(args, run: Run, client, session, manager) -> None:
    res = run.result
    run.set_phase("frames")
    sub = manager.subscribe()
    collector = None
    if args.audio:
        collector = _AudioCollector(manager.subscribe_audio())
        collector.start()
    sender = None
    scripted = args.type_text is not None or args.hold_key is not None or args.click_at
    if args.input or scripted or args.pads:
        try:
            sender = InputSender()
            res["host_feature_flags"] = sender.host_feature_flags()
        except Exception as e:
            res["error"], res["error_type"] = f"input setup: {_exc(e)}", type(e).__name__
            sender = None
        res["input_sent"], res["input_skipped"] = [], []

    tracker = StampTracker()
    t_start = time.monotonic()
    t_first = None
    input_done_at = None
    ended = False
    while True:
        frame = sub.get(timeout=0.1)
        now = time.monotonic()
        if frame is not None:
            if t_first is None:
                t_first = now
                res["width"], res["height"] = int(frame.data.shape[1]), int(frame.data.shape[0])
            tracker.add(read_stamp(frame.data))
        elif getattr(sub, "_closed", False) or not manager.is_running:
            ended = True
            break
        if t_first is None:
            if now - t_start > args.ready_timeout:
                res["error"] = f"no frame within {args.ready_timeout:g} s after start_stream()"
                res["error_type"] = "NoFrames"
                break
            continue
        elapsed = now - t_first
        if sender is not None and input_done_at is None and elapsed >= args.input_delay:
            run.set_phase("input")
            try:
                if args.pads:
                    sent, skipped = sender.pads(), []
                elif scripted:
                    click = tuple(int(v) for v in args.click_at.split(",")) if args.click_at else None
                    sent, skipped = sender.scripted(args.type_text, args.hold_key, click,
                                                    args.width, args.height), []
                else:
                    touch = (tuple(float(v) for v in args.touch.split(","))
                             if args.touch else None)
                    sent, skipped = sender.send_all(key_code=args.key_code, scroll=args.scroll,
                                                    text=args.text, touch=touch)
                res["input_sent"], res["input_skipped"] = sent, skipped
            finally:
                input_done_at = time.monotonic()
            run.set_phase("frames")
        if elapsed < args.seconds:
            continue
        if sender is not None and (input_done_at is None or now - input_done_at < 0.5):
            continue
        if tracker.frames < args.min_frames and elapsed < args.seconds + args.min_frames_grace:
            continue
        break
    end = time.monotonic()
    res.update(tracker.report())
    res["seconds"] = round(end - t_first, 3) if t_first is not None else 0.0
    res["min_frames_met"] = tracker.frames >= args.min_frames if args.min_frames else None
    if ended and res["error"] is None and not args.quit:
        err = getattr(manager, "_error", None)
        res["error"] = (f"stream ended after {end - t_start:.2f} s"
                        + (f": {_exc(err)}" if err is not None else ""))
        res["error_type"] = type(err).__name__ if err is not None else "StreamEnded"
    manager.unsubscribe(sub)
    # The audio analysed is the tail of the counting window (before any quit cuts the stream).
    if collector is not None:
        collector.stop_event.set()
        collector.join(timeout=2.0)
        res["audio"] = collector.report(args.audio_seconds, manager.audio_sample_rate,
                                        manager.audio_channels)

    if args.quit:
        run.set_phase("quit")
        q = {"ok": False, "seconds": 0.0, "error": None, "terminated_after_s": None}
        tq = time.monotonic()
        try:
            client.quit_app()
            q["ok"] = True
        except Exception as e:
            q["error"] = _exc(e)
        q["seconds"] = round(time.monotonic() - tq, 3)
        deadline = tq + q["seconds"] + args.quit_wait
        while not session.is_terminated and time.monotonic() < deadline:
            time.sleep(0.02)
        if session.is_terminated:
            q["terminated_after_s"] = round(time.monotonic() - tq, 3)
        res["quit"] = q


# --------------------------------------------------------------------------------------------
# selftest
# --------------------------------------------------------------------------------------------

def _golden() -> dict[tuple[int, int], int]:
    """Check bytes read off pictures drawn by the Rust testpicture::draw itself (punktfunk-core's
    testpicture.rs compiled standalone with rustc when this driver was written; the Python
    tp_draw output was byte-identical to Rust's for all of these at 320x240 .. 1920x1080)."""
    return {
        (0, 0): 0xD2,
        (1, 16_667): 0xE0,
        (0xDEAD_BEEF, 0x12_3456_789A): 0x4C,
        (12345, 987_654_321): 0x40,
        (0xFFFF_FFFF, (1 << 40) - 1): 0x2D,
        (77, 5_000_000): 0x1E,
        (3, 50_000): 0x53,
        (999, 1 << 39): 0xD5,
    }


def _simulate_decode(luma: np.ndarray, noise: int) -> np.ndarray:
    """Limited-range luma + neutral chroma -> 8-bit BGR as a decoder would give it, plus a
    deterministic ±noise pattern."""
    full = np.clip(np.rint((luma.astype(np.float64) - 16.0) * 255.0 / 219.0), 0, 255)
    if noise:
        idx = np.arange(full.size, dtype=np.int64).reshape(full.shape)
        full = np.clip(full + (idx % (2 * noise + 1)) - noise, 0, 255)
    full = full.astype(np.uint8)
    return np.repeat(full[:, :, None], 3, axis=2)


def _codec_roundtrip(codec: str, encoder: str, width: int, height: int, count: int,
                     bitrate: int) -> tuple[list, list]:
    """Encode `count` test pictures with PyAV, decode them with moonlight-python's Decoder
    (exactly what a stream does), return (expected stamps, stamps read)."""
    from fractions import Fraction

    import av
    from moonlight_python.decoder import Decoder

    enc = av.CodecContext.create(encoder, "w")
    enc.width, enc.height = width, height
    enc.pix_fmt = "yuv420p"
    enc.time_base = Fraction(1, 60)
    enc.framerate = Fraction(60, 1)
    enc.bit_rate = bitrate
    enc.options = ({"preset": "ultrafast", "tune": "zerolatency", "x265-params": "log-level=error"}
                   if encoder == "libx265" else {"preset": "ultrafast", "tune": "zerolatency"})
    dec = Decoder(codec=codec, output_format="bgr24")
    expected, got = [], []

    def feed(packets) -> None:
        for pkt in packets:
            for arr in dec.decode(bytes(pkt)):
                got.append(read_stamp(arr))

    for i in range(count):
        stamp = (5000 + i, 1_000_000 + 16_667 * i)
        expected.append(stamp)
        yuv = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
        yuv[:height] = tp_draw(width, height, *stamp)
        vf = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        vf.pts = i
        feed(enc.encode(vf))
    feed(enc.encode(None))
    dec.close()
    return expected, got


def cmd_selftest(args, run: Run) -> int:
    failures: list[str] = []
    checks = 0

    def expect(name: str, cond: bool, detail: object = "") -> None:
        nonlocal checks
        checks += 1
        if not cond:
            failures.append(f"{name}: {detail}")
            log.error("FAIL %s: %s", name, detail)

    # Layout constants and cell sizes as in testpicture.rs / its tests.
    expect("rows", TP_ROWS == 4, TP_ROWS)
    for (w, h), cell in {(1280, 720): 26, (1920, 1080): 40, (640, 480): 13, (320, 240): 6,
                         (1366, 768): 28, (100, 100): None}.items():
        expect(f"cell_size {w}x{h}", tp_cell_size(w, h) == cell, tp_cell_size(w, h))

    # Check bytes agree with the Rust implementation.
    for (f, t), want in _golden().items():
        expect(f"check({f},{t})", tp_check(f, t) == want, f"{tp_check(f, t):#04x} != {want:#04x}")

    stamps = [(0, 0), (1, 16_667), (0xDEAD_BEEF, 0x12_3456_789A), (12345, 987_654_321),
              (0xFFFF_FFFF, (1 << 40) - 1), (77, 5_000_000), (999, 1 << 39), (0x8000_0001, 42)]
    sizes = [(1280, 720), (1920, 1080), (640, 480), (320, 240), (1366, 768)]
    for w, h in sizes:
        for f, t in stamps:
            luma = tp_draw(w, h, f, t)
            expect(f"draw/read luma {w}x{h} {f}", tp_read_luma(luma) == (f, t),
                   tp_read_luma(luma))
            for noise in (0, 20, 40):
                bgr = _simulate_decode(luma, noise)
                got = read_stamp(bgr)
                expect(f"decoded bgr {w}x{h} {f} noise {noise}", got == (f, t), got)
            rgb = _simulate_decode(luma, 0)[:, :, ::-1]
            expect(f"rgb order {w}x{h} {f}", read_stamp(rgb, order="rgb") == (f, t))
            # Raw luma with noise like the Rust test: saturating +(i % 41) - 20.
            idx = np.arange(luma.size, dtype=np.int64).reshape(luma.shape)
            noisy = np.clip(np.minimum(luma.astype(np.int64) + idx % 41, 255) - 20, 0, 255)
            expect(f"noisy luma {w}x{h} {f}", tp_read_luma(noisy.astype(np.uint8)) == (f, t))

    # Corrupted pictures must read as None.
    for w, h in [(1280, 720), (1920, 1080)]:
        f, t = 0xDEAD_BEEF, 0x12_3456_789A
        base = tp_draw(w, h, f, t)
        cell = tp_cell_size(w, h)
        bits = tp_bits(f, t)
        for i, what in ((10, "frame bit"), (50, "time bit"), (80, "check bit"), (1, "marker")):
            bad = base.copy()
            cx, cy = i % TP_COLUMNS, i // TP_COLUMNS
            bad[cy * cell:(cy + 1) * cell, cx * cell:(cx + 1) * cell] = (
                TP_DARK if bits[i] else TP_BRIGHT)
            expect(f"corrupt {what} {w}x{h} luma", tp_read_luma(bad) is None, tp_read_luma(bad))
            expect(f"corrupt {what} {w}x{h} bgr", read_stamp(_simulate_decode(bad, 20)) is None)
        expect(f"blank {w}x{h}", read_stamp(np.full((h, w, 3), 128, np.uint8)) is None)
        expect(f"black {w}x{h}", read_stamp(np.zeros((h, w, 3), np.uint8)) is None)
        # Shifted by one cell: not a valid code any more.
        shifted = np.roll(base, cell, axis=1)
        expect(f"shifted {w}x{h}", tp_read_luma(shifted) is None, tp_read_luma(shifted))
    expect("tiny picture", read_stamp(np.zeros((100, 100, 3), np.uint8)) is None)
    expect("tiny draw has no code", tp_read_luma(tp_draw(100, 100, 5, 5)) is None)

    # Stamp bookkeeping used by `stream`.
    tr = StampTracker()
    for s in [None, (5, 0), (6, 0), (6, 0), (4, 0), (9, 0), None]:
        tr.add(s)
    rep = tr.report()
    expect("tracker", (rep["frames"], rep["stamped"], rep["distinct_stamps"], rep["first_stamp"],
                       rep["last_stamp"], rep["out_of_order"], rep["increasing"], rep["gaps"])
           == (7, 5, 4, 5, 9, 2, False, 4), rep)
    tr = StampTracker()
    for s in [(1, 0), (2, 0), (4, 0)]:
        tr.add(s)
    expect("tracker increasing", tr.increasing and tr.gaps == 1, tr.report())

    # Audio peak detector.
    rate = 48000
    tone = 0.25 * np.sin(2 * np.pi * 440.0 * np.arange(rate) / rate)
    peak, _ = peak_frequency(tone, rate)
    expect("peak 440 Hz", peak is not None and abs(peak - 440.0) < 1.0, peak)
    peak, _ = peak_frequency(np.zeros(rate), rate)
    expect("silence has no peak", peak is None, peak)

    # Real encode -> moonlight-python decode round trips.
    if not args.no_codec:
        for codec, encoder, (w, h) in (("h264", "libx264", (1280, 720)),
                                       ("h264", "libx264", (1920, 1080)),
                                       ("hevc", "libx265", (1280, 720))):
            try:
                expected, got = _codec_roundtrip(codec, encoder, w, h, count=8,
                                                 bitrate=2_000_000)
            except Exception as e:
                expect(f"codec {encoder} {w}x{h}", False, _exc(e))
                continue
            expect(f"codec {encoder} {w}x{h} decoded", len(got) >= len(expected) // 2,
                   f"{len(got)} of {len(expected)}")
            expect(f"codec {encoder} {w}x{h} stamps", got == expected[:len(got)],
                   f"{got} vs {expected}")

    log.info("selftest: %d checks, %d failures", checks, len(failures))
    if failures:
        run.result.update({"ok": False, "failures": failures, "checks": checks})
        return 1
    run.result.update({"ok": True})
    return 0


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

def _int_auto(s: str) -> int:
    return int(s, 0)


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    def d(v):
        return argparse.SUPPRESS if suppress else v

    parser.add_argument("--host", default=d("127.0.0.1"), help="host address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=d(47989),
                        help="host's GameStream HTTP port (default 47989); the HTTPS port is "
                             "taken from /serverinfo")
    parser.add_argument("--config", default=d(os.path.expanduser("~/.moonlight-python")),
                        help="moonlight-python identity directory (client key/cert/unique id); "
                             "reuse it to stay the same client across runs")
    parser.add_argument("--watchdog", type=float, default=d(None),
                        help="print the partial result and exit 0 after this many seconds "
                             "(0 = off; default depends on the command)")
    parser.add_argument("-v", "--verbose", action="store_true", default=d(False),
                        help="debug logging (stderr)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ml_probe.py",
        description="Moonlight-side test driver for punktfunk (moonlight-python 0.3.0). Prints "
                    "one JSON object on stdout per run; logs on stderr. Exit 0 = the run "
                    "happened (see the JSON), 1 = driver bug / selftest failure, 2 = usage.")
    _common(p, suppress=False)
    subs = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parent = argparse.ArgumentParser(add_help=False)
    _common(parent, suppress=True)

    sp = subs.add_parser("pair", parents=[parent], help="pair with a PIN (no auto-pairing)",
                         description="GET /serverinfo, then pair with --pin; the host must get "
                                     "the PIN out of band while this waits. JSON: paired, error, "
                                     "error_type, applist, applist_error, "
                                     "server_codec_mode_support, server, seconds.")
    sp.add_argument("--pin", required=True, help="the PIN (normally 4 digits), as a string")
    sp.add_argument("--timeout", type=float, default=90.0,
                    help="give up pairing after this many seconds (default 90)")

    subs.add_parser("applist", parents=[parent], help="fetch /applist over HTTPS",
                    description="GET /serverinfo, then /applist over HTTPS with this identity's "
                                "client certificate. JSON: ok, apps, app_ids, error, error_type, "
                                "server.")

    sp = subs.add_parser("stream", parents=[parent], help="stream and check the test picture",
                         description="Launch/resume --app, count decoded frames and read their "
                                     "test-picture stamps for --seconds, optionally with audio, "
                                     "input and quit. See the module docstring for the JSON.")
    sp.add_argument("--app", default="Desktop", help="app title to launch (default Desktop)")
    sp.add_argument("--codec", choices=["h264", "hevc"], default="h264")
    sp.add_argument("--width", type=int, default=1280)
    sp.add_argument("--height", type=int, default=720)
    sp.add_argument("--fps", type=int, default=60)
    sp.add_argument("--bitrate", type=int, default=10000, help="kbps (default 10000)")
    sp.add_argument("--seconds", type=float, default=3.0,
                    help="counting window after the first frame (default 3)")
    sp.add_argument("--min-frames", type=int, default=0,
                    help="keep counting past --seconds until this many frames were decoded "
                         "(at most --min-frames-grace seconds more); reported as min_frames_met")
    sp.add_argument("--min-frames-grace", type=float, default=10.0)
    sp.add_argument("--ready-timeout", type=float, default=10.0,
                    help="start_stream() wait for the first non-black frame (default 10)")
    sp.add_argument("--audio", action="store_true",
                    help="capture audio (record_audio=True) and report its peak frequency")
    sp.add_argument("--audio-channels", type=int, choices=sorted(_SPEAKER_MASKS), default=2,
                    help="audio channels to ask for: 2, 6 (5.1) or 8 (7.1) (default 2)")
    sp.add_argument("--audio-seconds", type=float, default=1.0,
                    help="length of the PCM tail analysed for peak_hz (default 1)")
    sp.add_argument("--input", action="store_true",
                    help="send the fixed input sequence once frames flow (see input_sent)")
    sp.add_argument("--input-delay", type=float, default=1.0,
                    help="seconds after the first counted frame before sending input (default "
                         "1; lets moonlight-python's startup mouse nudges finish)")
    sp.add_argument("--key-code", type=_int_auto, default=0x41,
                    help="keyCode for LiSendKeyboardEvent (default 0x41 = VK 'A'; moonlight-qt "
                         "sends 0x8000|VK, e.g. 0x8041)")
    sp.add_argument("--scroll", choices=["clicks", "highres"], default="clicks",
                    help="LiSendScrollEvent(1) or LiSendHighResScrollEvent(120)")
    sp.add_argument("--text", default="hé", help="UTF-8 text to send ('' = none; default hé)")
    sp.add_argument("--touch", default=None, metavar="X,Y",
                    help="with --input: then touch the picture at X,Y (0..1): down, move, up")
    sp.add_argument("--type-text", default=None,
                    help="instead of the fixed sequence: type this as key presses (shift for "
                         "capitals, \\n = Enter)")
    sp.add_argument("--hold-key", type=_int_auto, default=None,
                    help="instead of the fixed sequence: press this virtual key and never release it")
    sp.add_argument("--click-at", default=None,
                    help="instead of the fixed sequence: X,Y absolute position in the picture, "
                         "then a left click")
    sp.add_argument("--pads", action="store_true",
                    help="instead of the fixed sequence: two controllers arrive (Xbox 0, "
                         "PlayStation 1), pad 0 presses A with triggers and sticks, pad 1 is "
                         "touched, moved and reports its battery, then is unplugged (see "
                         "InputSender.pads); the host's pad feedback is recorded")
    sp.add_argument("--quit", action="store_true",
                    help="after the window, quit the app (HTTPS /cancel), time it and wait for "
                         "the stream to terminate")
    sp.add_argument("--quit-wait", type=float, default=5.0,
                    help="how long to wait for termination after /cancel (default 5)")

    subs.add_parser("quit", parents=[parent], help="quit the running app (HTTPS /cancel)",
                    description="JSON: ok, seconds, error, error_type.")

    sp = subs.add_parser("selftest", parents=[parent], help="check the stamp reader offline",
                         description="Draw the test picture like testpicture::draw and read it "
                                     "back (also through a real H.264/HEVC encode and "
                                     "moonlight-python decode). Prints {\"ok\": true} on success.")
    sp.add_argument("--no-codec", action="store_true",
                    help="skip the libx264/libx265 round trips")
    return p


COMMANDS = {
    "pair": cmd_pair,
    "applist": cmd_applist,
    "stream": cmd_stream,
    "quit": cmd_quit,
    "selftest": cmd_selftest,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr,
                        level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.verbose:
        logging.getLogger("moonlight_python").setLevel(logging.WARNING)
        logging.getLogger("urllib3").setLevel(logging.WARNING)
    out = Output()
    out.capture()
    run = Run(out, {})
    try:
        rc = COMMANDS[args.command](args, run)
    except Exception:
        tb = traceback.format_exc()
        log.error("driver error:\n%s", tb)
        run.result["driver_error"] = tb
        rc = 1
    out.emit(run.result)
    return rc


if __name__ == "__main__":
    sys.exit(main())
