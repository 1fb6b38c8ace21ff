//! gamescope: a gamescope per session at the client's exact mode, running the session's app,
//! captured through the PipeWire video node gamescope publishes (named `gamescope`). Debian 12's
//! gamescope 3.11 has no headless backend and needs Vulkan with DRM format modifiers, so it runs
//! nested in the desktop session on a GPU; where it cannot start, its own reason is the error.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use punktfunk_core::control::Mode;
use punktfunk_pipewire::{StreamConfig, VideoStream};
use serde_json::Value;

use super::kwin::StreamFrames;
use super::{Capturer, Compositor, DisplayBackend, VirtualDisplay};

/// The name of gamescope's PipeWire video node.
pub const NODE_NAME: &str = "gamescope";
/// How long a new gamescope gets to publish its node.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub struct GamescopeBackend {
    /// The gamescope binary (Debian puts it in /usr/games, often not on PATH).
    program: std::path::PathBuf,
    /// What each session's gamescope runs (`PUNKTFUNK_GAMESCOPE_APP`, default a shell).
    app: Vec<String>,
}

/// gamescope on PATH, else where Debian installs it.
fn find_program() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("gamescope"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let debian = std::path::PathBuf::from("/usr/games/gamescope");
        debian.is_file().then_some(debian)
    })
}

/// gamescope's command line for a session: output and game at exactly the client's mode.
pub fn command_line(mode: Mode, app: &[String]) -> Vec<String> {
    let hz = mode.refresh_millihz.div_ceil(1000).max(1).to_string();
    let (w, h) = (mode.width.to_string(), mode.height.to_string());
    let mut line: Vec<String> = [
        "gamescope",
        "-W",
        &w,
        "-H",
        &h,
        "-w",
        &w,
        "-h",
        &h,
        "-r",
        &hz,
        "--",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    line.extend(app.iter().cloned());
    line
}

/// The id of the newest video source node called `name` in `pw-dump` output.
pub fn find_node(dump: &Value, name: &str) -> Option<u32> {
    dump.as_array()?
        .iter()
        .filter(|o| o["type"] == "PipeWire:Interface:Node")
        .filter(|o| {
            let props = &o["info"]["props"];
            props["node.name"] == name
                && props["media.class"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("Video/Source"))
        })
        .filter_map(|o| o["id"].as_u64().and_then(|id| u32::try_from(id).ok()))
        .max()
}

impl GamescopeBackend {
    pub fn connect() -> anyhow::Result<Self> {
        let app = std::env::var("PUNKTFUNK_GAMESCOPE_APP")
            .ok()
            .filter(|a| !a.is_empty())
            .map_or_else(
                || vec!["sh".into()],
                |a| a.split_whitespace().map(str::to_owned).collect(),
            );
        let program = find_program()
            .context("gamescope is not installed (not on PATH, not in /usr/games)")?;
        Ok(Self { program, app })
    }
}

impl DisplayBackend for GamescopeBackend {
    fn compositor(&self) -> Compositor {
        Compositor::Gamescope
    }

    fn describe(&self) -> String {
        format!("gamescope per session, running {:?}", self.app)
    }

    fn create(&self, mode: Mode) -> anyhow::Result<Box<dyn VirtualDisplay>> {
        let line = command_line(mode, &self.app);
        let log =
            std::env::temp_dir().join(format!("punktfunk-gamescope-{}.log", std::process::id()));
        let mut child = Command::new(&self.program)
            .args(&line[1..])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("cannot start gamescope")?;
        let end = Instant::now() + START_TIMEOUT;
        let node = loop {
            if let Some(status) = child.try_wait()? {
                let why = std::fs::read_to_string(&log).unwrap_or_default();
                let last: Vec<&str> = why.lines().rev().take(4).collect();
                anyhow::bail!(
                    "gamescope exited ({status}) before publishing its PipeWire node: {}",
                    last.into_iter().rev().collect::<Vec<_>>().join(" | ")
                );
            }
            let dump = Command::new("pw-dump").output().ok();
            let found = dump
                .and_then(|o| serde_json::from_slice::<Value>(&o.stdout).ok())
                .and_then(|d| find_node(&d, NODE_NAME));
            if let Some(node) = found {
                break node;
            }
            if Instant::now() >= end {
                let _ = child.kill();
                anyhow::bail!("gamescope published no PipeWire node within {START_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let stream = VideoStream::start(StreamConfig {
            node_id: node,
            fd: None,
            width: mode.width,
            height: mode.height,
            refresh_millihz: mode.refresh_millihz,
            fixed_size: false,
        })?;
        Ok(Box::new(GamescopeSession {
            stream: Arc::new(stream),
            child,
            name: format!("gamescope-{node}"),
            mode,
        }))
    }
}

pub struct GamescopeSession {
    stream: Arc<VideoStream>,
    child: Child,
    name: String,
    mode: Mode,
}

impl Drop for GamescopeSession {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl VirtualDisplay for GamescopeSession {
    fn name(&self) -> &str {
        &self.name
    }

    fn mode(&self) -> Mode {
        self.mode
    }

    fn reconfigure(&mut self, mode: Mode) -> anyhow::Result<()> {
        anyhow::bail!("a gamescope session keeps its mode; reconnect at {mode} instead")
    }

    fn start_capture(&self) -> anyhow::Result<Box<dyn Capturer>> {
        Ok(Box::new(StreamFrames(self.stream.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_asks_for_the_exact_mode() {
        let line = command_line(
            Mode {
                width: 2560,
                height: 1440,
                refresh_millihz: 143_856,
            },
            &["steam".into(), "-gamepadui".into()],
        );
        assert_eq!(
            line.join(" "),
            "gamescope -W 2560 -H 1440 -w 2560 -h 1440 -r 144 -- steam -gamepadui"
        );
    }

    #[test]
    fn the_node_is_found_in_a_pw_dump() {
        let dump = serde_json::json!([
            { "id": 30, "type": "PipeWire:Interface:Node",
              "info": { "props": { "node.name": "gamescope", "media.class": "Video/Source" } } },
            { "id": 31, "type": "PipeWire:Interface:Node",
              "info": { "props": { "node.name": "other", "media.class": "Video/Source" } } },
            { "id": 44, "type": "PipeWire:Interface:Node",
              "info": { "props": { "node.name": "gamescope", "media.class": "Video/Source" } } },
            { "id": 50, "type": "PipeWire:Interface:Port",
              "info": { "props": { "node.name": "gamescope" } } }
        ]);
        assert_eq!(find_node(&dump, "gamescope"), Some(44), "the newest");
        assert_eq!(find_node(&dump, "nothing"), None);
        assert_eq!(find_node(&serde_json::json!({}), "gamescope"), None);
    }
}
