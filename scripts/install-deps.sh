#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages punktfunk builds and tests with. Idempotent: installs only
# what is missing, and touches nothing when all is there. Needs root or sudo for apt-get.
set -euo pipefail

packages=(
  # C toolchain and the bits -sys crates and bindgen look for
  build-essential pkg-config clang libclang-dev procps
  # The virtual keyboard compiles its keymap with libxkbcommon
  libxkbcommon-dev
  # FFmpeg libraries the encoders link against
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavfilter-dev libavdevice-dev
  # A headless compositor and a terminal for the virtual-display tests (setpriv runs sway as an
  # unprivileged user: it refuses root); a font so the terminal can draw
  sway swaybg foot grim util-linux fonts-dejavu-core
  # The management API's outside checks: schemathesis (Python venv) and a real browser
  # (Debian's chromium driven by playwright-core from npm)
  python3-venv chromium
  # PipeWire capture (the bindings need the headers) and what its tests start: a session bus,
  # PipeWire with WirePlumber, a headless GNOME Mutter, GStreamer test producers; a headless
  # KWin for the KWin virtual-output test; pipewire-pulse and the pulse clients (paplay,
  # parecord, pactl) for the audio tests
  libpipewire-0.3-dev libspa-0.2-dev pipewire pipewire-bin wireplumber dbus mutter
  pipewire-pulse pulseaudio-utils
  gstreamer1.0-pipewire gstreamer1.0-tools gstreamer1.0-plugins-base kwin-wayland
  # gamescope (nested, needs Vulkan: lavapipe is the software floor)
  gamescope mesa-vulkan-drivers
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node may come from elsewhere (nodesource bundles npm): only ask apt when there is none.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
  echo "install-deps: all system packages present"
fi

# Python tools in a venv of their own (Debian's pip refuses system-wide installs).
# libeis is the EIS server library GNOME and KDE use; the libei input backend's tests talk to
# it. Debian 12 lacks it, Debian 13's package needs nothing newer than bookworm's glibc: on
# bookworm take that one package from trixie, pinned so nothing else ever comes from there.
if ! dpkg-query -W -f='${Status}' libeis1 2>/dev/null | grep -q "install ok installed"; then
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache policy libeis1 2>/dev/null | grep -q 'Candidate: [0-9]' \
    && grep -q '^VERSION_CODENAME=bookworm' /etc/os-release; then
    echo "install-deps: libeis1 from Debian 13 (pinned to that one package)"
    printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: trixie' \
      'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
      "${sudo[@]}" tee /etc/apt/sources.list.d/punktfunk-libeis.sources >/dev/null
    printf '%s\n' 'Package: *' 'Pin: release n=trixie' 'Pin-Priority: -10' '' \
      'Package: libeis1' 'Pin: release n=trixie' 'Pin-Priority: 500' |
      "${sudo[@]}" tee /etc/apt/preferences.d/punktfunk-libeis >/dev/null
    "${sudo[@]}" apt-get update -q
  fi
  "${sudo[@]}" apt-get install -y -q --no-install-recommends libeis1 </dev/null
fi

venv="${PUNKTFUNK_VENV:-$HOME/.cache/punktfunk/venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "install-deps: making $venv (schemathesis)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q schemathesis==4.32.5
fi

# The Moonlight client core for the GameStream tests: moonlight-python wraps moonlight-common-c.
if ! "$venv/bin/python" -c "import moonlight_python" >/dev/null 2>&1; then
  echo "install-deps: moonlight-python into $venv"
  "$venv/bin/pip" install -q -r "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/crates/punktfunk-host/tests/gamestream/requirements.txt"
fi

# playwright-core for the console test, exactly as tests/web/package-lock.json pins it.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -d "$here/tests/web/node_modules/playwright-core" ]; then
  echo "install-deps: npm ci in tests/web"
  (cd "$here/tests/web" && npm ci --no-audit --no-fund --silent)
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: cargo not found. Install the Rust toolchain (https://rustup.rs), then rerun." >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    echo "install-deps: adding the $component component"
    rustup component add "$component"
  fi
done
