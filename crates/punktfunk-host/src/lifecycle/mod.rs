//! Session lifecycle: which display each session streams from, linger and reuse on reconnect,
//! same-client preempt, admission. The decisions are the pure [`registry`]; [`displays`] runs
//! them against the real compositor.

pub mod displays;
pub mod registry;
