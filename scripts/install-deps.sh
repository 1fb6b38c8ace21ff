#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages punktfunk builds and tests with. Idempotent: installs only
# what is missing, and touches nothing when all is there. Needs root or sudo for apt-get.
set -euo pipefail

packages=(
  # C toolchain and the bits -sys crates and bindgen look for
  build-essential pkg-config clang libclang-dev procps
  # FFmpeg libraries the encoders link against
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavfilter-dev libavdevice-dev
  # A headless compositor and a terminal for the virtual-display tests (setpriv runs sway as an
  # unprivileged user: it refuses root); a font so the terminal can draw
  sway swaybg foot grim util-linux fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
  echo "install-deps: all system packages present"
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
