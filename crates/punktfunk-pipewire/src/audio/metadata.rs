//! The session manager's "default" metadata, which says which sink is the
//! default output: bound when it shows up, mirrored into
//! [`Defaults`](super::defaults::Defaults), written when we take over.

use pipewire as pw;
use pw::metadata::{Metadata, MetadataListener};
use pw::registry::GlobalObject;
use pw::spa::utils::dict::DictRef;
use pw::types::ObjectType;

use super::defaults::{self, Defaults, Write};
use super::engine::{with_state, State};

/// The "default" metadata object, once the session manager offers it.
pub(crate) struct BoundMetadata {
    global_id: u32,
    proxy: Metadata,
    _listener: MetadataListener,
}

impl State {
    /// Binds `global` if it is the session manager's "default" metadata.
    pub(super) fn maybe_bind_metadata(&mut self, global: &GlobalObject<&DictRef>) {
        let is_default_metadata = global.type_ == ObjectType::Metadata
            && global
                .props
                .and_then(|p| p.get("metadata.name"))
                .is_some_and(|name| name == defaults::METADATA_NAME);
        if !is_default_metadata || self.metadata.is_some() {
            return;
        }
        let proxy: Metadata = match self.registry.bind(global) {
            Ok(proxy) => proxy,
            Err(e) => {
                tracing::warn!("binding the default metadata failed: {e}");
                return;
            }
        };
        let listener = proxy
            .add_listener_local()
            .property({
                let weak = self.me.clone();
                move |subject, key, type_, value| {
                    with_state(&weak, |s| {
                        s.defaults.on_property(subject, key, type_, value)
                    });
                    0
                }
            })
            .register();
        self.metadata = Some(BoundMetadata {
            global_id: global.id,
            proxy,
            _listener: listener,
        });
    }

    /// Global `id` went away: if it was the metadata, forget it.
    pub(super) fn metadata_removed(&mut self, id: u32) {
        if self.metadata.as_ref().is_some_and(|m| m.global_id == id) {
            self.metadata = None;
            self.defaults = Defaults::default();
        }
    }

    /// Applies metadata writes, and to our mirror at once (so a give-back
    /// right after a take-over sees our values before their echo arrives);
    /// false if there is no metadata to write to.
    pub(super) fn write_defaults(&mut self, writes: &[Write]) -> bool {
        let Some(metadata) = &self.metadata else {
            return false;
        };
        for (key, entry) in writes {
            let type_ = entry.as_ref().and_then(|e| e.type_.as_deref());
            let value = entry.as_ref().map(|e| e.value.as_str());
            self.defaults.on_property(0, Some(key), type_, value);
            match entry {
                Some(e) => metadata
                    .proxy
                    .set_property(0, key, e.type_.as_deref(), Some(&e.value)),
                None => metadata.proxy.set_property(0, key, None, None),
            }
        }
        true
    }

    pub(super) fn has_metadata(&self) -> bool {
        self.metadata.is_some()
    }
}
