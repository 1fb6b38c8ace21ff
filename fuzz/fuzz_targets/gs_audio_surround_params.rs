//! The `/launch` `surroundParams` value (client-chosen Opus layout): parsed as the host accepts
//! it; whatever parses is a layout libopus can encode and prints back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_gamestream::audio::OpusLayout;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(layout) = OpusLayout::parse_surround_params(value) {
        assert!(layout.is_valid());
        assert_eq!(layout.digits(), value);
        assert_eq!(layout.surround_params().len(), value.len());
    }
});
