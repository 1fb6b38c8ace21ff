#!/usr/bin/env python3
"""An EIS server for tests, built on libeis: the library GNOME's mutter and KDE's KWin serve
emulated input with. It plays a compositor: one seat with every capability, and once a client
binds it, the devices mutter would make (a relative pointer, a keyboard with an XKB keymap, an
absolute pointer and a touchscreen over the configured regions). Every event the client sends
is written to --log as one JSON object per line, flushed at once, so a test can wait on it.

Usage: eis_server.py --socket PATH --log PATH [--region WxH@X,Y[=MAPPING]]... [--layout us]
"""

import argparse
import ctypes
import json
import os
import select
import signal
import sys

CAP_POINTER = 1 << 0
CAP_POINTER_ABSOLUTE = 1 << 1
CAP_KEYBOARD = 1 << 2
CAP_TOUCH = 1 << 3
CAP_SCROLL = 1 << 4
CAP_BUTTON = 1 << 5
ALL_CAPS = [CAP_POINTER, CAP_POINTER_ABSOLUTE, CAP_KEYBOARD, CAP_TOUCH, CAP_SCROLL, CAP_BUTTON]

DEVICE_TYPE_VIRTUAL = 1
KEYMAP_TYPE_XKB = 1

# enum eis_event_type (libeis.h)
CLIENT_CONNECT, CLIENT_DISCONNECT, SEAT_BIND, DEVICE_CLOSED = 1, 2, 3, 4
FRAME = 100
START_EMULATING, STOP_EMULATING = 200, 201
POINTER_MOTION = 300
POINTER_MOTION_ABSOLUTE = 400
BUTTON = 500
SCROLL_DELTA, SCROLL_STOP, SCROLL_CANCEL, SCROLL_DISCRETE = 600, 601, 602, 603
KEYBOARD_KEY = 700
TOUCH_DOWN, TOUCH_UP, TOUCH_MOTION = 800, 801, 802

P = ctypes.c_void_p


def load_libeis():
    lib = ctypes.CDLL("libeis.so.1")
    sigs = {
        "eis_new": (P, [P]),
        "eis_setup_backend_socket": (ctypes.c_int, [P, ctypes.c_char_p]),
        "eis_get_fd": (ctypes.c_int, [P]),
        "eis_dispatch": (None, [P]),
        "eis_get_event": (P, [P]),
        "eis_event_get_type": (ctypes.c_int, [P]),
        "eis_event_get_client": (P, [P]),
        "eis_event_get_seat": (P, [P]),
        "eis_event_get_device": (P, [P]),
        "eis_event_unref": (P, [P]),
        "eis_event_seat_has_capability": (ctypes.c_bool, [P, ctypes.c_int]),
        "eis_client_connect": (None, [P]),
        "eis_client_get_name": (ctypes.c_char_p, [P]),
        "eis_client_new_seat": (P, [P, ctypes.c_char_p]),
        "eis_seat_configure_capability": (None, [P, ctypes.c_int]),
        "eis_seat_add": (None, [P]),
        "eis_seat_new_device": (P, [P]),
        "eis_device_configure_name": (None, [P, ctypes.c_char_p]),
        "eis_device_configure_type": (None, [P, ctypes.c_int]),
        "eis_device_configure_capability": (None, [P, ctypes.c_int]),
        "eis_device_new_region": (P, [P]),
        "eis_region_set_size": (None, [P, ctypes.c_uint32, ctypes.c_uint32]),
        "eis_region_set_offset": (None, [P, ctypes.c_uint32, ctypes.c_uint32]),
        "eis_region_set_mapping_id": (None, [P, ctypes.c_char_p]),
        "eis_region_add": (None, [P]),
        "eis_device_new_keymap": (P, [P, ctypes.c_int, ctypes.c_int, ctypes.c_size_t]),
        "eis_keymap_add": (None, [P]),
        "eis_device_add": (None, [P]),
        "eis_device_resume": (None, [P]),
        "eis_device_remove": (None, [P]),
        "eis_device_get_name": (ctypes.c_char_p, [P]),
        "eis_event_pointer_get_dx": (ctypes.c_double, [P]),
        "eis_event_pointer_get_dy": (ctypes.c_double, [P]),
        "eis_event_pointer_get_absolute_x": (ctypes.c_double, [P]),
        "eis_event_pointer_get_absolute_y": (ctypes.c_double, [P]),
        "eis_event_button_get_button": (ctypes.c_uint32, [P]),
        "eis_event_button_get_is_press": (ctypes.c_bool, [P]),
        "eis_event_scroll_get_dx": (ctypes.c_double, [P]),
        "eis_event_scroll_get_dy": (ctypes.c_double, [P]),
        "eis_event_scroll_get_discrete_dx": (ctypes.c_int32, [P]),
        "eis_event_scroll_get_discrete_dy": (ctypes.c_int32, [P]),
        "eis_event_keyboard_get_key": (ctypes.c_uint32, [P]),
        "eis_event_keyboard_get_key_is_press": (ctypes.c_bool, [P]),
        "eis_event_touch_get_id": (ctypes.c_uint32, [P]),
        "eis_event_touch_get_x": (ctypes.c_double, [P]),
        "eis_event_touch_get_y": (ctypes.c_double, [P]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def keymap_text(layout):
    """The keymap a compositor with `layout` would hand out, compiled by libxkbcommon."""
    xkb = ctypes.CDLL("libxkbcommon.so.0")
    xkb.xkb_context_new.restype = P
    xkb.xkb_context_new.argtypes = [ctypes.c_int]

    class RuleNames(ctypes.Structure):
        _fields_ = [(f, ctypes.c_char_p) for f in ("rules", "model", "layout", "variant", "options")]

    xkb.xkb_keymap_new_from_names.restype = P
    xkb.xkb_keymap_new_from_names.argtypes = [P, ctypes.POINTER(RuleNames), ctypes.c_int]
    xkb.xkb_keymap_get_as_string.restype = ctypes.c_void_p
    xkb.xkb_keymap_get_as_string.argtypes = [P, ctypes.c_int]
    ctx = xkb.xkb_context_new(0)
    names = RuleNames(b"evdev", b"pc105", layout.encode(), b"", None)
    keymap = xkb.xkb_keymap_new_from_names(ctx, ctypes.byref(names), 0)
    if not keymap:
        sys.exit(f"eis_server: layout {layout!r} does not compile")
    ptr = xkb.xkb_keymap_get_as_string(keymap, 1)
    return ctypes.string_at(ptr)


def parse_region(text):
    size, _, rest = text.partition("@")
    offset, _, mapping = rest.partition("=")
    w, h = (int(v) for v in size.split("x"))
    x, y = (int(v) for v in offset.split(","))
    return (w, h, x, y, mapping or None)


class Server:
    def __init__(self, args):
        self.lib = load_libeis()
        self.log = open(args.log, "a", buffering=1)
        self.regions = [parse_region(r) for r in args.region] or [(1920, 1080, 0, 0, None)]
        self.keymap = keymap_text(args.layout)
        self.eis = self.lib.eis_new(None)
        if self.lib.eis_setup_backend_socket(self.eis, args.socket.encode()) != 0:
            sys.exit(f"eis_server: cannot listen on {args.socket}")
        self.devices = []
        self.write({"type": "listening", "socket": args.socket})

    def write(self, record):
        self.log.write(json.dumps(record) + "\n")

    def run(self):
        fd = self.lib.eis_get_fd(self.eis)
        while True:
            select.select([fd], [], [], 1.0)
            self.lib.eis_dispatch(self.eis)
            while True:
                event = self.lib.eis_get_event(self.eis)
                if not event:
                    break
                try:
                    self.handle(event)
                finally:
                    self.lib.eis_event_unref(event)

    def device_name(self, event):
        device = self.lib.eis_event_get_device(event)
        name = self.lib.eis_device_get_name(device) if device else None
        return name.decode() if name else None

    def handle(self, event):
        lib = self.lib
        kind = lib.eis_event_get_type(event)
        if kind == CLIENT_CONNECT:
            client = lib.eis_event_get_client(event)
            name = lib.eis_client_get_name(client)
            lib.eis_client_connect(client)
            seat = lib.eis_client_new_seat(client, b"test seat")
            for cap in ALL_CAPS:
                lib.eis_seat_configure_capability(seat, cap)
            lib.eis_seat_add(seat)
            self.write({"type": "connect", "name": name.decode() if name else None})
        elif kind == CLIENT_DISCONNECT:
            self.write({"type": "disconnect"})
            self.devices = []
        elif kind == SEAT_BIND:
            seat = lib.eis_event_get_seat(event)
            caps = [c for c in ALL_CAPS if lib.eis_event_seat_has_capability(event, c)]
            self.write({"type": "bind", "caps": sum(caps)})
            for device in self.devices:
                lib.eis_device_remove(device)
            self.devices = []
            if caps:
                self.add_devices(seat, set(caps))
        elif kind == FRAME:
            self.write({"type": "frame", "device": self.device_name(event)})
        elif kind == START_EMULATING:
            self.write({"type": "start", "device": self.device_name(event)})
        elif kind == STOP_EMULATING:
            self.write({"type": "stop", "device": self.device_name(event)})
        elif kind == POINTER_MOTION:
            self.write({"type": "motion", "dx": lib.eis_event_pointer_get_dx(event),
                        "dy": lib.eis_event_pointer_get_dy(event)})
        elif kind == POINTER_MOTION_ABSOLUTE:
            self.write({"type": "absolute", "x": lib.eis_event_pointer_get_absolute_x(event),
                        "y": lib.eis_event_pointer_get_absolute_y(event)})
        elif kind == BUTTON:
            self.write({"type": "button", "button": lib.eis_event_button_get_button(event),
                        "press": lib.eis_event_button_get_is_press(event)})
        elif kind == SCROLL_DISCRETE:
            self.write({"type": "scroll_discrete",
                        "dx": lib.eis_event_scroll_get_discrete_dx(event),
                        "dy": lib.eis_event_scroll_get_discrete_dy(event)})
        elif kind == SCROLL_DELTA:
            self.write({"type": "scroll", "dx": lib.eis_event_scroll_get_dx(event),
                        "dy": lib.eis_event_scroll_get_dy(event)})
        elif kind == KEYBOARD_KEY:
            self.write({"type": "key", "key": lib.eis_event_keyboard_get_key(event),
                        "press": lib.eis_event_keyboard_get_key_is_press(event)})
        elif kind in (TOUCH_DOWN, TOUCH_MOTION):
            self.write({"type": "touch_down" if kind == TOUCH_DOWN else "touch_motion",
                        "id": lib.eis_event_touch_get_id(event),
                        "x": lib.eis_event_touch_get_x(event),
                        "y": lib.eis_event_touch_get_y(event)})
        elif kind == TOUCH_UP:
            self.write({"type": "touch_up", "id": lib.eis_event_touch_get_id(event)})
        else:
            self.write({"type": "other", "code": kind})

    def add_devices(self, seat, caps):
        """The split mutter makes: one device per kind of input."""
        plan = [
            ("test pointer", [CAP_POINTER, CAP_BUTTON, CAP_SCROLL], False),
            ("test keyboard", [CAP_KEYBOARD], False),
            ("test absolute pointer", [CAP_POINTER_ABSOLUTE, CAP_BUTTON, CAP_SCROLL], True),
            ("test touchscreen", [CAP_TOUCH], True),
        ]
        for name, wanted, with_regions in plan:
            have = [c for c in wanted if c in caps]
            if not have:
                continue
            device = self.lib.eis_seat_new_device(seat)
            self.lib.eis_device_configure_name(device, name.encode())
            self.lib.eis_device_configure_type(device, DEVICE_TYPE_VIRTUAL)
            for cap in have:
                self.lib.eis_device_configure_capability(device, cap)
            if with_regions:
                for (w, h, x, y, mapping) in self.regions:
                    region = self.lib.eis_device_new_region(device)
                    self.lib.eis_region_set_size(region, w, h)
                    self.lib.eis_region_set_offset(region, x, y)
                    if mapping:
                        self.lib.eis_region_set_mapping_id(region, mapping.encode())
                    self.lib.eis_region_add(region)
            if CAP_KEYBOARD in have:
                fd = os.memfd_create("test-keymap")
                os.write(fd, self.keymap + b"\0")
                keymap = self.lib.eis_device_new_keymap(
                    device, KEYMAP_TYPE_XKB, fd, len(self.keymap) + 1)
                self.lib.eis_keymap_add(keymap)
            self.lib.eis_device_add(device)
            self.lib.eis_device_resume(device)
            self.devices.append(device)
        self.write({"type": "devices", "count": len(self.devices)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--region", action="append", default=[])
    parser.add_argument("--layout", default="us")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Server(args).run()


if __name__ == "__main__":
    main()
