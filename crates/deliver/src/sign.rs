//! The webhook signature: what the deliverer sends and what a receiver checks.
//!
//! `X-Fanzha-Signature: sha256=<hex>` is HMAC-SHA256, under the institution's secret, of the
//! `X-Fanzha-Timestamp` value (Unix seconds), a `.`, and the body's bytes. Signing the
//! timestamp with the body lets a receiver refuse a replayed request by its age; how old is
//! too old is the receiver's choice (a retry is signed afresh, so five minutes is ample).

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-fanzha-signature";
pub const TIMESTAMP_HEADER: &str = "x-fanzha-timestamp";
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

const PREFIX: &str = "sha256=";

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC is defined for keys of any length; the error type exists only for other MACs.
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The header value for `body` sent at `timestamp`: `sha256=` and 64 lowercase hex digits.
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    let mut out = String::with_capacity(PREFIX.len() + tag.len() * 2);
    out.push_str(PREFIX);
    for b in tag {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `header` is the signature of `body` at `timestamp` under `secret`. The comparison
/// takes the same time wherever the first wrong byte is, so a forger learns nothing from it.
pub fn verify(secret: &[u8], timestamp: &str, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix(PREFIX) else {
        return false;
    };
    let Some(tag) = decode_hex(hex) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&tag).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let bytes = s.as_bytes();
    if bytes.len() % 2 != 0 {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec-test-0123456789abcdef";
    const BODY: &[u8] = br#"{"idempotency_key":"fzw1-00"}"#;

    /// Computed independently: Python's `hmac.new(SECRET, b"1700000000." + BODY, sha256)`.
    const EXPECTED: &str =
        "sha256=fc0a61e79eb384df97a1de9341386f44793f00cd4270b5c2e3e8b641e810c22b";

    #[test]
    fn signature_matches_an_independent_hmac() {
        assert_eq!(signature(SECRET, "1700000000", BODY), EXPECTED);
    }

    #[test]
    fn verify_accepts_the_signature_and_nothing_else() {
        assert!(verify(SECRET, "1700000000", BODY, EXPECTED));
        assert!(verify(
            SECRET,
            "1700000000",
            BODY,
            &EXPECTED.to_ascii_uppercase().replace("SHA256=", "sha256=")
        ));
        assert!(
            !verify(SECRET, "1700000001", BODY, EXPECTED),
            "timestamp is signed"
        );
        assert!(
            !verify(SECRET, "1700000000", b"{}", EXPECTED),
            "body is signed"
        );
        assert!(!verify(
            b"another-secret-0123456",
            "1700000000",
            BODY,
            EXPECTED
        ));
        assert!(
            !verify(SECRET, "1700000000", BODY, &EXPECTED[7..]),
            "prefix needed"
        );
        assert!(
            !verify(SECRET, "1700000000", BODY, &EXPECTED[..70]),
            "truncated"
        );
        assert!(!verify(SECRET, "1700000000", BODY, "sha256=zz"));
    }

    #[test]
    fn the_dot_separates_timestamp_from_body() {
        // Without a separator "17.0" + "0{..}" and "17.00" + "{..}" would sign alike.
        assert_ne!(
            signature(SECRET, "170", b"0{}"),
            signature(SECRET, "1700", b"{}")
        );
    }
}
