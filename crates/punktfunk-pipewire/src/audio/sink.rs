//! Our session sink "punktfunk": a null sink made for the first capture,
//! the default output while it exists, removed (and the old default put
//! back) when its last capture goes.
//!
//! It is made with the daemon's `adapter` factory around
//! `support.null-audio-sink`, like `pw-cli create-node` does, with
//! `object.linger=false`: it belongs to our connection and vanishes with
//! it even if this process dies without cleaning up.

use std::cell::RefCell;
use std::rc::Rc;

use pipewire as pw;
use pw::node::Node;
use pw::properties::{properties, PropertiesBox};
use pw::proxy::{ProxyListener, ProxyT};

use super::command::PendingCapture;
use super::defaults::Saved;
use super::engine::State;
use super::layout::{Layout, RATE};
use super::CaptureOrigin;
use crate::PipeWireError;

/// The sink's `node.name` and `node.description`.
pub(crate) const SINK_NAME: &str = "punktfunk";

pub(crate) enum SinkSlot {
    Absent,
    /// Asked for; the daemon's answer comes with the next roundtrip.
    Creating(Creating),
    Ready(Sink),
}

pub(crate) struct Creating {
    proxy: Node,
    _listener: ProxyListener,
    outcome: Rc<RefCell<Outcome>>,
    waiters: Vec<PendingCapture>,
}

/// What the daemon said about the node we asked for.
#[derive(Default)]
struct Outcome {
    bound: Option<u32>,
    error: Option<String>,
}

pub(crate) struct Sink {
    proxy: Node,
    global_id: u32,
    generation: u64,
    /// The defaults to put back; `None` if we could not take over.
    saved: Option<Saved>,
}

impl SinkSlot {
    /// Drops a waiting capture whose asker gave up.
    pub(super) fn forget_waiter(&mut self, id: u64) {
        if let SinkSlot::Creating(creating) = self {
            creating.waiters.retain(|w| w.id != id);
        }
    }

    /// Answers every waiting capture with `why`.
    pub(super) fn fail_waiters(&mut self, why: &PipeWireError) {
        if let SinkSlot::Creating(creating) = self {
            for waiter in creating.waiters.drain(..) {
                waiter.queue.end(why.clone());
                let _ = waiter.reply.try_send(Err(why.clone()));
            }
        }
    }
}

fn sink_props(layout: Layout) -> PropertiesBox {
    properties! {
        "factory.name" => "support.null-audio-sink",
        "node.name" => SINK_NAME,
        "node.description" => SINK_NAME,
        "media.class" => "Audio/Sink",
        "audio.channels" => layout.channels().to_string(),
        "audio.position" => layout.property(),
        "audio.rate" => RATE.to_string(),
        "object.linger" => "false",
    }
}

impl State {
    /// Records our sink for `pending`, making the sink first if needed.
    pub(super) fn request_capture(&mut self, pending: PendingCapture) {
        match &mut self.sink {
            SinkSlot::Ready(sink) => {
                let generation = sink.generation;
                self.start_capture(
                    pending,
                    CaptureOrigin::SessionSink,
                    Some((generation, SINK_NAME)),
                );
                self.release_unused_sink();
            }
            SinkSlot::Creating(creating) => creating.waiters.push(pending),
            SinkSlot::Absent => self.create_sink(pending),
        }
    }

    fn create_sink(&mut self, first: PendingCapture) {
        let node = match self
            .core
            .create_object::<Node>("adapter", &sink_props(first.layout))
        {
            Ok(node) => node,
            Err(e) => return self.fall_back(vec![first], &format!("asking for it failed: {e}")),
        };
        let outcome = Rc::new(RefCell::new(Outcome::default()));
        let listener = node
            .upcast_ref()
            .add_listener_local()
            .bound({
                let outcome = outcome.clone();
                move |global_id| outcome.borrow_mut().bound = Some(global_id)
            })
            .error({
                let outcome = outcome.clone();
                move |_seq, res, message| {
                    let errno = std::io::Error::from_raw_os_error(-res);
                    outcome.borrow_mut().error = Some(format!("{message} ({errno})"));
                }
            })
            .register();
        self.sink = SinkSlot::Creating(Creating {
            proxy: node,
            _listener: listener,
            outcome,
            waiters: vec![first],
        });
        self.after_roundtrip(State::sink_created);
    }

    /// The daemon has answered our request for the sink.
    fn sink_created(&mut self) {
        let SinkSlot::Creating(creating) = std::mem::replace(&mut self.sink, SinkSlot::Absent)
        else {
            return;
        };
        let outcome = creating.outcome.take();
        let global_id = match (outcome.bound, outcome.error) {
            (Some(global_id), None) => global_id,
            (_, error) => {
                let reason = error.unwrap_or_else(|| "the daemon made no node".into());
                // The proxy goes with `creating`; the daemon has nothing to remove.
                return self.fall_back(creating.waiters, &reason);
            }
        };
        self.sink_generation += 1;
        let generation = self.sink_generation;
        let saved = self.take_default();
        self.sink = SinkSlot::Ready(Sink {
            proxy: creating.proxy,
            global_id,
            generation,
            saved,
        });
        tracing::info!(global_id, "made the PipeWire sink \"{SINK_NAME}\"");
        for waiter in creating.waiters {
            self.start_capture(
                waiter,
                CaptureOrigin::SessionSink,
                Some((generation, SINK_NAME)),
            );
        }
        // Every asker may have given up meanwhile.
        self.release_unused_sink();
    }

    fn fall_back(&mut self, waiters: Vec<PendingCapture>, reason: &str) {
        tracing::warn!(
            "cannot create the PipeWire sink \"{SINK_NAME}\" ({reason}); capturing the default \
             sink's monitor instead"
        );
        for waiter in waiters {
            self.start_capture(waiter, CaptureOrigin::DefaultSinkMonitor, None);
        }
    }

    fn take_default(&mut self) -> Option<Saved> {
        if !self.has_metadata() {
            tracing::warn!(
                "no \"default\" metadata to write: the sink \"{SINK_NAME}\" is not the default"
            );
            return None;
        }
        let (saved, writes) = self.defaults.take_over(SINK_NAME);
        self.write_defaults(&writes);
        Some(saved)
    }

    fn give_back_default(&mut self, saved: Option<Saved>) {
        if let Some(saved) = saved {
            let writes = self.defaults.give_back(SINK_NAME, &saved);
            self.write_defaults(&writes);
        }
    }

    /// Removes our sink once no capture records it.
    pub(super) fn release_unused_sink(&mut self) {
        if let SinkSlot::Ready(sink) = &self.sink {
            if self.sink_users(sink.generation) == 0 {
                self.release_sink();
            }
        }
    }

    /// Puts the old default back, then removes our sink (in this order, so
    /// the session manager never sees the default pointing at nothing).
    pub(super) fn release_sink(&mut self) {
        match std::mem::replace(&mut self.sink, SinkSlot::Absent) {
            SinkSlot::Absent => {}
            SinkSlot::Creating(creating) => {
                if let Err(e) = self.core.destroy_object(creating.proxy) {
                    tracing::warn!("removing the half-made sink failed: {e}");
                }
            }
            SinkSlot::Ready(sink) => {
                self.give_back_default(sink.saved);
                if let Err(e) = self.core.destroy_object(sink.proxy) {
                    tracing::warn!("removing the sink \"{SINK_NAME}\" failed: {e}");
                }
                tracing::info!("removed the PipeWire sink \"{SINK_NAME}\"");
            }
        }
    }

    /// Global `id` went away: if it was our sink, its captures end.
    pub(super) fn sink_removed(&mut self, id: u32) {
        let SinkSlot::Ready(sink) = &self.sink else {
            return;
        };
        if sink.global_id != id {
            return;
        }
        let SinkSlot::Ready(sink) = std::mem::replace(&mut self.sink, SinkSlot::Absent) else {
            return;
        };
        tracing::warn!("the PipeWire sink \"{SINK_NAME}\" was removed by someone else");
        self.give_back_default(sink.saved);
        self.end_sink_captures(sink.generation, PipeWireError::NodeGone(id));
    }
}
