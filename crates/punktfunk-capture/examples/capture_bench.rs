//! Sustained capture rate and copy latency against a headless sway.
//!
//! `cargo run --release -p punktfunk-capture --example capture_bench`
//!
//! Starts its own sway, adds a 1920x1080@60 output with a terminal that
//! redraws continuously, then captures 5 s without and 5 s with damage.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use punktfunk_capture::testing::HeadlessSway;
use punktfunk_capture::{CaptureConfig, OutputCapture};

const RUN_FOR: Duration = Duration::from_secs(5);
const REDRAWER: &str = "foot sh -c 'while :; do date +%N; done'";

fn main() -> anyhow::Result<()> {
    if !HeadlessSway::is_installed() {
        bail!("`sway` is not installed; this benchmark needs it");
    }
    let sway = HeadlessSway::start()?;
    let output = sway.create_output(1920, 1080, 60, 1920, 0)?;
    sway.exec_on(&output, REDRAWER)?;
    // Give foot time to map and start scrolling.
    std::thread::sleep(Duration::from_secs(2));
    println!("output {output} 1920x1080@60, redrawn by: {REDRAWER}");
    for with_damage in [false, true] {
        bench(&sway, &output, with_damage)?;
    }
    Ok(())
}

fn bench(sway: &HeadlessSway, output: &str, with_damage: bool) -> anyhow::Result<()> {
    let capture = OutputCapture::start(CaptureConfig {
        wayland_display: sway.wayland_socket().to_owned(),
        output_name: output.to_owned(),
        with_damage,
        overlay_cursor: false,
    })?;
    let first = capture
        .next_frame(0, Duration::from_secs(5))?
        .context("no first frame")?;
    let before = capture.stats();
    let cpu_before = process_cpu_time();
    let start = Instant::now();
    let mut last = first.sequence;
    let mut copy_times = Vec::new();
    let mut missed = 0;
    while start.elapsed() < RUN_FOR {
        if let Some(frame) = capture.next_frame(last, Duration::from_millis(100))? {
            missed += frame.sequence - last - 1;
            last = frame.sequence;
            copy_times.push(frame.copy_time);
        }
    }
    let elapsed = start.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu_before);
    let after = capture.stats();
    let frames = after.frames_captured - before.frames_captured;

    copy_times.sort();
    let pct = |p: usize| {
        copy_times.get((copy_times.len() * p / 100).min(copy_times.len().saturating_sub(1)))
    };
    let mean = copy_times.iter().sum::<Duration>() / copy_times.len().max(1) as u32;
    println!(
        "\n{} damage: {frames} frames in {elapsed:.2?} = {:.1} fps",
        if with_damage { "with" } else { "without" },
        frames as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  copy time (request -> ready): mean {mean:.2?}, p50 {:.2?}, p95 {:.2?} ({} frames seen, {missed} skipped by the reader)",
        pct(50).copied().unwrap_or_default(),
        pct(95).copied().unwrap_or_default(),
        copy_times.len()
    );
    println!(
        "  bytes per frame: {} ({}x{}, stride {}, {:?})",
        first.data.len(),
        first.width,
        first.height,
        first.stride,
        first.format
    );
    println!(
        "  failed copies: {}, this process's CPU: {:.0}% of one core",
        after.failed_copies - before.failed_copies,
        100.0 * cpu.as_secs_f64() / elapsed.as_secs_f64()
    );
    Ok(())
}

/// User + system CPU time of this process, from /proc (clock ticks of 10 ms).
fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}
