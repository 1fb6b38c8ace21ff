#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer coverage instrumentation on the stable toolchain (the
# flags cargo-fuzz passes, minus the nightly-only sanitizer) and runs each for a few seconds.
# Usage: fuzz/run.sh [seconds per target]   (default 20)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-20}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$here/target}/fuzz}
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the flags off build scripts, as cargo-fuzz does.
triple=$(rustc -vV | sed -n 's/^host: //p')
cargo build --locked --release --target "$triple" --manifest-path "$here/Cargo.toml" --bins
for target in media_packet reassembly control_stream \
  gs_control_open gs_input_decode gs_nvhttp_query gs_nvhttp_pair_begin \
  gs_rtsp_request gs_rtsp_cipher gs_rtsp_announce gs_audio_surround_params \
  gs_video_ping gs_video_packetize; do
  corpus="$here/corpus/$target"
  mkdir -p "$corpus" "$here/artifacts/$target"
  echo "fuzz: $target for ${secs}s"
  # Checked-in seeds (real messages) start the search deep inside the parsers.
  seeds=()
  [ -d "$here/seeds/$target" ] && seeds=("$here/seeds/$target")
  "$CARGO_TARGET_DIR/$triple/release/$target" "$corpus" "${seeds[@]}" -max_total_time="$secs" -max_len=65536 \
    -artifact_prefix="$here/artifacts/$target/" -print_final_stats=1 2>&1 | tail -n 12
done
