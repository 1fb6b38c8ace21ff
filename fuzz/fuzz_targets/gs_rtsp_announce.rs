//! GameStream RTSP ANNOUNCE bodies: the SDP attribute parser never panics, and what it
//! accepts stays within the documented bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_gamestream::rtsp::parse_announce;
use punktfunk_gamestream::wire::rtsp::limits;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = parse_announce(data) {
        assert!(limits::DIMENSION.contains(&p.width) && limits::DIMENSION.contains(&p.height));
        assert!(limits::FPS.contains(&p.fps));
        assert!(limits::PACKET_SIZE.contains(&p.packet_size));
        assert!(limits::SLICES_PER_FRAME.contains(&p.slices_per_frame));
        assert!(limits::AUDIO_CHANNELS.contains(&p.audio_channels));
        assert!(limits::AUDIO_PACKET_DURATIONS_MS.contains(&p.audio_packet_duration_ms));
        let _ = p.encoder_bitrate_kbps(20);
        let _ = p.exact_frame_rate_x100();
    }
});
