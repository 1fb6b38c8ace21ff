//! GameStream query strings: the bounded percent-decoding parser and the `/launch` and
//! `/resume` parameter reader. What reads as a launch request reads the same again from its
//! canonical query.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_gamestream::nvhttp::{encode_hex, parse_query, LaunchRequest};
use punktfunk_gamestream::wire::pairing::{MAX_QUERY_LEN, MAX_QUERY_PARAMS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(query) = parse_query(text) else {
        return;
    };
    assert!(text.len() <= MAX_QUERY_LEN);
    assert!(query.len() <= MAX_QUERY_PARAMS);
    for resume in [false, true] {
        if let Ok(r) = LaunchRequest::from_query(&query, resume) {
            let canonical = format!(
                "appid={}&mode={}x{}x{}&rikey={}&rikeyid={}&sops={}&localAudioPlayMode={}\
                 &surroundAudioInfo={}&hdrMode={}&corever={}&gcmap={}",
                r.app_id,
                r.width,
                r.height,
                r.fps,
                encode_hex(&r.rikey),
                r.rikeyid,
                u8::from(r.sops),
                u8::from(r.local_audio),
                r.surround_audio_info,
                u8::from(r.hdr_mode),
                r.core_version,
                r.gcmap
            );
            let again = LaunchRequest::from_query(&parse_query(&canonical).unwrap(), true);
            assert_eq!(again.unwrap(), r);
        }
    }
});
