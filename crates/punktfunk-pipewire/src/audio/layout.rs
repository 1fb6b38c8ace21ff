//! Channel counts we offer and where each channel sits: WAVE order
//! (FL FR FC LFE back side), the order the Opus multistream layouts
//! downstream expect.

use pipewire::spa::sys as spa_sys;

use crate::PipeWireError;

/// The sample rate of every node and stream we make.
pub(crate) const RATE: u32 = 48_000;

/// One channel: PipeWire's id and the name `audio.position` takes.
type Position = (u32, &'static str);

const MONO: Position = (spa_sys::SPA_AUDIO_CHANNEL_MONO, "MONO");
const FL: Position = (spa_sys::SPA_AUDIO_CHANNEL_FL, "FL");
const FR: Position = (spa_sys::SPA_AUDIO_CHANNEL_FR, "FR");
const FC: Position = (spa_sys::SPA_AUDIO_CHANNEL_FC, "FC");
const LFE: Position = (spa_sys::SPA_AUDIO_CHANNEL_LFE, "LFE");
const RL: Position = (spa_sys::SPA_AUDIO_CHANNEL_RL, "RL");
const RR: Position = (spa_sys::SPA_AUDIO_CHANNEL_RR, "RR");
const RC: Position = (spa_sys::SPA_AUDIO_CHANNEL_RC, "RC");
const SL: Position = (spa_sys::SPA_AUDIO_CHANNEL_SL, "SL");
const SR: Position = (spa_sys::SPA_AUDIO_CHANNEL_SR, "SR");

/// A checked channel count with its positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    positions: &'static [Position],
}

impl Layout {
    /// The layout for `channels` (1..=8), or [`PipeWireError::Channels`].
    pub(crate) fn new(channels: u8) -> Result<Self, PipeWireError> {
        let positions: &'static [Position] = match channels {
            1 => &[MONO],
            2 => &[FL, FR],
            3 => &[FL, FR, FC],
            4 => &[FL, FR, RL, RR],
            5 => &[FL, FR, FC, RL, RR],
            6 => &[FL, FR, FC, LFE, RL, RR],
            7 => &[FL, FR, FC, LFE, RC, SL, SR],
            8 => &[FL, FR, FC, LFE, RL, RR, SL, SR],
            _ => return Err(PipeWireError::Channels(channels)),
        };
        Ok(Self { positions })
    }

    pub(crate) fn channels(self) -> u8 {
        // At most MAX_CHANNELS entries, see `new`.
        self.positions.len() as u8
    }

    /// PipeWire's channel ids, for the format pod.
    pub(crate) fn ids(self) -> impl Iterator<Item = u32> {
        self.positions.iter().map(|&(id, _)| id)
    }

    /// The `audio.position` property value, e.g. `FL,FR`.
    pub(crate) fn property(self) -> String {
        let names: Vec<&str> = self.positions.iter().map(|&(_, name)| name).collect();
        names.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_count_from_one_to_eight_has_distinct_positions() {
        for channels in 1..=8 {
            let layout = Layout::new(channels).unwrap();
            assert_eq!(layout.channels(), channels);
            let mut ids: Vec<u32> = layout.ids().collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), usize::from(channels), "{layout:?}");
        }
    }

    #[test]
    fn the_common_layouts_are_in_wave_order() {
        assert_eq!(Layout::new(1).unwrap().property(), "MONO");
        assert_eq!(Layout::new(2).unwrap().property(), "FL,FR");
        assert_eq!(Layout::new(6).unwrap().property(), "FL,FR,FC,LFE,RL,RR");
        assert_eq!(
            Layout::new(8).unwrap().property(),
            "FL,FR,FC,LFE,RL,RR,SL,SR"
        );
    }

    #[test]
    fn other_counts_are_refused() {
        for channels in [0, 9, 64, 255] {
            assert_eq!(
                Layout::new(channels),
                Err(PipeWireError::Channels(channels))
            );
        }
    }
}
