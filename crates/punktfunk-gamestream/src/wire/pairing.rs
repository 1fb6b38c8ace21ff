//! Numbers and names of the HTTP(S) plane: PIN pairing sizes, `/serverinfo` constants, the
//! XML status codes and the query bounds.

// --- Pairing (`/pair`, five steps) ---

/// Salt chosen by the client in step 1 (`salt`, 32 hex digits).
pub const SALT_LEN: usize = 16;
/// Digits of the PIN the user types on the host.
pub const PIN_LEN: usize = 4;
/// AES-128 key: the first 16 bytes of SHA-256(salt ‖ PIN).
pub const AES_KEY_LEN: usize = 16;
/// AES block; pairing ciphertexts are whole blocks (ECB, no padding).
pub const AES_BLOCK_LEN: usize = 16;
/// The client's challenge in step 2 (`clientchallenge` decrypts to this).
pub const CLIENT_CHALLENGE_LEN: usize = 16;
/// The host's challenge, sent back inside `challengeresponse`.
pub const SERVER_CHALLENGE_LEN: usize = 16;
/// The host's secret, revealed with its signature in `pairingsecret`.
pub const SERVER_SECRET_LEN: usize = 16;
/// The client's secret, the first bytes of `clientpairingsecret`.
pub const CLIENT_SECRET_LEN: usize = 16;
/// SHA-256 output: the hash generation of hosts whose `appversion` major is ≥ 7.
pub const HASH_LEN: usize = 32;
/// `serverchallengeresp` decrypts to the client's hash (32 bytes; SHA-1 clients zero-pad to 32).
pub const CLIENT_HASH_CIPHERTEXT_LEN: usize = 32;
/// Largest client certificate PEM accepted in step 1 (an RSA-2048 one is about 1.1 KB).
pub const MAX_CLIENT_CERT_PEM_LEN: usize = 8 * 1024;
/// Largest RSA signature accepted in step 4 (RSA-8192; Moonlight's keys give 256 bytes).
pub const MAX_CLIENT_SIGNATURE_LEN: usize = 1024;
/// The PEM label of a certificate.
pub const PEM_CERTIFICATE_LABEL: &str = "CERTIFICATE";

/// Values of the `phrase` parameter of `/pair`.
pub mod phrase {
    /// Step 1: salt + client certificate; the reply waits for the PIN.
    pub const GET_SERVER_CERT: &str = "getservercert";
    /// Step 5 (HTTPS): the new certificate is accepted.
    pub const PAIR_CHALLENGE: &str = "pairchallenge";
}

/// Query parameter names of `/pair`.
pub mod pair_param {
    pub const PHRASE: &str = "phrase";
    pub const SALT: &str = "salt";
    pub const CLIENT_CERT: &str = "clientcert";
    pub const CLIENT_CHALLENGE: &str = "clientchallenge";
    pub const SERVER_CHALLENGE_RESP: &str = "serverchallengeresp";
    pub const CLIENT_PAIRING_SECRET: &str = "clientpairingsecret";
}

/// Element names of `/pair` replies.
pub mod pair_field {
    pub const PAIRED: &str = "paired";
    pub const PLAIN_CERT: &str = "plaincert";
    pub const CHALLENGE_RESPONSE: &str = "challengeresponse";
    pub const PAIRING_SECRET: &str = "pairingsecret";
}

// --- /serverinfo ---

/// `appversion`: major 7 selects SHA-256 pairing, ≥ 7.1.431 the encrypted control stream, and
/// the negative last number marks a Sunshine-compatible host (enables its extensions).
pub const APP_VERSION: &str = "7.1.431.-1";
/// `GfeVersion`: one moonlight-qt knows (a newer one makes it refuse to stream).
pub const GFE_VERSION: &str = "3.23.0.74";
/// `MaxLumaPixelsHEVC` when HEVC is offered (moonlight-qt drops HEVC when it is 0).
pub const MAX_LUMA_PIXELS_HEVC: u64 = 1_869_449_984;
/// `state` while an app runs (clients look at the `_SERVER_BUSY` suffix).
pub const STATE_BUSY: &str = "SUNSHINE_SERVER_BUSY";
/// `state` while no app runs.
pub const STATE_FREE: &str = "SUNSHINE_SERVER_FREE";
/// `mac` over plain HTTP: clients ignore the all-zero address.
pub const MAC_UNKNOWN: &str = "00:00:00:00:00:00";

// --- XML replies ---

/// The XML declaration every reply starts with.
pub const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;

/// `status_code` values of `<root>` (the HTTP status line always says 200).
pub mod status {
    pub const OK: u16 = 200;
    pub const BAD_REQUEST: u16 = 400;
    pub const UNAUTHORIZED: u16 = 401;
    pub const FORBIDDEN: u16 = 403;
    pub const NOT_FOUND: u16 = 404;
    pub const SERVICE_UNAVAILABLE: u16 = 503;
}

// --- Queries ---

/// Longest query string accepted (a step-1 `clientcert` is about 2.5 KB of hex).
pub const MAX_QUERY_LEN: usize = 16 * 1024;
/// Most parameters accepted in one query (Moonlight's `/launch` sends about 20).
pub const MAX_QUERY_PARAMS: usize = 64;

/// Query parameter names of `/launch` and `/resume`.
pub mod launch_param {
    pub const APP_ID: &str = "appid";
    pub const MODE: &str = "mode";
    pub const RI_KEY: &str = "rikey";
    pub const RI_KEY_ID: &str = "rikeyid";
    pub const SOPS: &str = "sops";
    pub const LOCAL_AUDIO_PLAY_MODE: &str = "localAudioPlayMode";
    pub const SURROUND_AUDIO_INFO: &str = "surroundAudioInfo";
    pub const HDR_MODE: &str = "hdrMode";
    pub const CORE_VERSION: &str = "corever";
    pub const GAMEPAD_MAP: &str = "gcmap";
}

/// `mode` separates width, height and frame rate with this.
pub const MODE_SEPARATOR: char = 'x';
/// `rikey`: the 16-byte AES-128 session key.
pub const RI_KEY_LEN: usize = 16;
/// `surroundAudioInfo` when absent: stereo (channel mask 0x3 ≪ 16 | 2 channels).
pub const DEFAULT_SURROUND_AUDIO_INFO: u32 = 0x0003_0002;
/// `corever` from which the client speaks encrypted RTSP (`rtspenc://`).
pub const CORE_VERSION_ENCRYPTED_RTSP: u32 = 1;
