//! Who may call the management API: the admin token (loopback only, for `ctl`), console
//! sessions (password sign-in, HttpOnly cookie, CSRF token on every state-changing request).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use ring::rand::{SecureRandom, SystemRandom};

/// Files in the config dir.
pub const TOKEN_FILE: &str = "admin-token";
pub const PASSWORD_FILE: &str = "console-password.argon2";
/// The console session cookie and the CSRF header.
pub const SESSION_COOKIE: &str = "pf_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A console session lasts this long after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Console sessions at most (a sign-in beyond drops the oldest).
const MAX_SESSIONS: usize = 256;

/// Which credentials a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Anyone (sign-in, health).
    Public,
    /// A signed-in console only (sign-out, the console's own session).
    Console,
    /// The operator: the admin token from loopback, or a signed-in console.
    Operator,
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut b = vec![0u8; bytes];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Compares secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The admin token in the config dir, made on first start (owner-only file).
pub fn load_or_create_token(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) if t.trim().len() == 64 => Ok(t.trim().to_owned()),
        Ok(_) => anyhow::bail!(
            "{} is damaged; delete it to make a new token",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = random_hex(32)?;
            punktfunk_net::store::write_private(&path, format!("{token}\n").as_bytes())?;
            Ok(token)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// A password people can type: 4 groups of 5 from an alphabet without look-alikes (~100 bits).
fn new_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let rng = SystemRandom::new();
    let mut out = String::new();
    while out.len() < 23 {
        if out.len() % 6 == 5 {
            out.push('-');
            continue;
        }
        let mut b = [0u8; 1];
        rng.fill(&mut b)
            .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
        // Rejection sampling keeps every letter equally likely.
        if usize::from(b[0]) < 256 / ALPHABET.len() * ALPHABET.len() {
            out.push(char::from(ALPHABET[usize::from(b[0]) % ALPHABET.len()]));
        }
    }
    Ok(out)
}

/// Stores an argon2id hash of `password` (atomically, owner-only).
pub fn store_password(dir: &Path, password: &str) -> anyhow::Result<()> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string();
    punktfunk_net::store::write_private(&dir.join(PASSWORD_FILE), format!("{hash}\n").as_bytes())
}

/// Makes a console password on first start; returns it then (to show once), else `None`.
pub fn ensure_password(dir: &Path) -> anyhow::Result<Option<String>> {
    if dir.join(PASSWORD_FILE).exists() {
        return Ok(None);
    }
    let password = new_password()?;
    store_password(dir, &password)?;
    Ok(Some(password))
}

/// A fresh random console password, stored and returned (`punktfunk-host web password`).
pub fn reset_password(dir: &Path) -> anyhow::Result<String> {
    let password = new_password()?;
    store_password(dir, &password)?;
    Ok(password)
}

/// Checks a console password against the stored hash (slow on purpose: run off the runtime).
pub fn verify_password(dir: &Path, candidate: &str) -> anyhow::Result<bool> {
    let path = dir.join(PASSWORD_FILE);
    let stored = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let hash =
        PasswordHash::new(stored.trim()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Argon2::default()
        .verify_password(candidate.as_bytes(), &hash)
        .is_ok())
}

struct ConsoleSession {
    csrf: String,
    expires: Instant,
}

/// Signed-in consoles: a random 256-bit id (the cookie) → its CSRF token.
#[derive(Default)]
pub struct ConsoleSessions {
    sessions: Mutex<HashMap<String, ConsoleSession>>,
}

impl ConsoleSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ConsoleSession>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session: (cookie value, CSRF token).
    pub fn create(&self) -> anyhow::Result<(String, String)> {
        let (id, csrf) = (random_hex(32)?, random_hex(32)?);
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, s| s.expires > now);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            id.clone(),
            ConsoleSession {
                csrf: csrf.clone(),
                expires: now + SESSION_TTL,
            },
        );
        Ok((id, csrf))
    }

    /// The CSRF token of a live session.
    pub fn csrf(&self, id: &str) -> Option<String> {
        let sessions = self.lock();
        sessions
            .iter()
            .find(|(k, s)| {
                constant_time_eq(k.as_bytes(), id.as_bytes()) && s.expires > Instant::now()
            })
            .map(|(_, s)| s.csrf.clone())
    }

    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// The session cookie's value in a `Cookie` header.
pub fn session_cookie(header: &str) -> Option<&str> {
    header
        .split(';')
        .map(str::trim)
        .find_map(|pair| pair.strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
}

/// The `Set-Cookie` value for a new session (and for clearing it with `None`).
pub fn set_cookie(id: Option<&str>) -> String {
    match id {
        Some(id) => format!(
            "{SESSION_COOKIE}={id}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
            SESSION_TTL.as_secs()
        ),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"),
    }
}

/// Whether the admin token may be used from this address.
pub fn token_allowed_from(peer: SocketAddr) -> bool {
    match peer.ip() {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let dir = std::env::temp_dir().join(format!("pf-auth-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = ensure_password(&dir).unwrap().expect("made on first start");
        assert_eq!(first.len(), 23);
        assert!(ensure_password(&dir).unwrap().is_none(), "only once");
        assert!(verify_password(&dir, &first).unwrap());
        assert!(!verify_password(&dir, "wrong").unwrap());
        assert!(punktfunk_net::store::is_private(&dir.join(PASSWORD_FILE)));
        let stored = std::fs::read_to_string(dir.join(PASSWORD_FILE)).unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        let second = reset_password(&dir).unwrap();
        assert!(!verify_password(&dir, &first).unwrap());
        assert!(verify_password(&dir, &second).unwrap());
        let token = load_or_create_token(&dir).unwrap();
        assert_eq!(load_or_create_token(&dir).unwrap(), token);
    }

    #[test]
    fn cookies_sessions_and_addresses() {
        assert_eq!(session_cookie("a=1; pf_session=abc; b=2"), Some("abc"));
        assert_eq!(session_cookie("pf_sessionx=abc"), None);
        let s = ConsoleSessions::default();
        let (id, csrf) = s.create().unwrap();
        assert_eq!(s.csrf(&id), Some(csrf));
        assert_eq!(s.csrf("nope"), None);
        s.remove(&id);
        assert_eq!(s.csrf(&id), None);
        assert!(set_cookie(Some("x")).contains("HttpOnly; Secure; SameSite=Strict"));
        assert!(token_allowed_from("127.0.0.1:1".parse().unwrap()));
        assert!(token_allowed_from("[::1]:1".parse().unwrap()));
        assert!(token_allowed_from("[::ffff:127.0.0.1]:1".parse().unwrap()));
        assert!(!token_allowed_from("192.0.2.2:1".parse().unwrap()));
        assert!(
            constant_time_eq(b"abc", b"abc")
                && !constant_time_eq(b"abc", b"abd")
                && !constant_time_eq(b"ab", b"abc")
        );
    }
}
