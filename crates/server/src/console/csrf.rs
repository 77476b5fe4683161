//! The per-session token every console form carries, checked on every console POST.
//!
//! The token is an HMAC-SHA256 keyed with the session token itself. That secret lives only
//! in the browser's HttpOnly cookie: the store keeps its SHA-256, from which the form token
//! cannot be computed, and another site can neither read the cookie nor the page. Keyed this
//! way the token needs no server-side secret, so it survives a restart and works the same on
//! every server behind a load balancer.
//!
//! It is the third wall, beside the SameSite=Strict cookie and the server's refusal of
//! cross-site writes (`Origin`, `Sec-Fetch-Site`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Binds the token to its use, so the same key never signs anything else.
const PURPOSE: &[u8] = b"fanzha console form v1";

fn mac(session_token: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(session_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(PURPOSE);
    mac
}

/// The token for forms of this session (hex).
pub fn token(session_token: &str) -> String {
    hex(&mac(session_token).finalize().into_bytes())
}

/// Whether `given` is this session's token; compared in constant time.
pub fn verify(session_token: &str, given: &str) -> bool {
    let Some(bytes) = unhex(given) else {
        return false;
    };
    mac(session_token).verify_slice(&bytes).is_ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_for_its_session_only() {
        let t = token("a".repeat(64).as_str());
        assert_eq!(t.len(), 64);
        assert!(verify(&"a".repeat(64), &t));
        assert!(!verify(&"b".repeat(64), &t));
        assert!(!verify(&"a".repeat(64), ""));
        assert!(!verify(&"a".repeat(64), &t[..62]));
        assert!(!verify(&"a".repeat(64), &"é".repeat(32)));
        let mut flipped = t.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        assert!(!verify(
            &"a".repeat(64),
            &String::from_utf8(flipped).unwrap()
        ));
    }
}
