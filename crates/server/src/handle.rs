//! Opaque handles: how every view refers to an entity without carrying its raw id.
//!
//! A masked page still has links, and a link that said `/entities/person/500103199001011234`
//! would undo the mask for anyone who reads the page source or a proxy log. A handle is
//! `base64url(nonce ‖ XChaCha20-Poly1305("kind:id"))` under a key drawn when the process
//! starts: unreadable without the key, unforgeable (the tag fails), and dead after a
//! restart, which only costs a user one new search.
//!
//! A handle proves nothing about permission: the scope is checked on every use, so a handle
//! passed between colleagues of different remits opens only what each may see.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use fanzha_store::{EntityKind, EntityRef};

/// XChaCha20's nonce: 24 random bytes, long enough that random nonces never repeat.
const NONCE_BYTES: usize = 24;
/// Poly1305's tag.
const TAG_BYTES: usize = 16;
/// Longer than any handle this server issues for an id of up to 200 bytes; anything longer
/// is refused before decoding.
pub const MAX_HANDLE_CHARS: usize = 400;

/// Seals and opens handles with this process's key.
pub struct Handles {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Handles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.write_str("Handles")
    }
}

impl Default for Handles {
    fn default() -> Self {
        Handles::new()
    }
}

impl Handles {
    /// A fresh random key: handles from another process (or a previous run) do not open.
    pub fn new() -> Handles {
        Handles {
            cipher: XChaCha20Poly1305::new(&XChaCha20Poly1305::generate_key(&mut OsRng)),
        }
    }

    /// The handle of an entity. Each call gives a different string (a fresh nonce), so two
    /// handles cannot be compared to learn that they name the same entity.
    pub fn seal(&self, entity: &EntityRef) -> String {
        let plain = format!("{}:{}", entity.kind.as_str(), entity.id);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encrypting a short in-memory buffer cannot fail; the error type exists for
        // buffers longer than the cipher's counter allows (256 GiB).
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .unwrap_or_default();
        let mut bytes = Vec::with_capacity(NONCE_BYTES + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The entity a handle names, or `None` for anything this process did not issue
    /// (malformed, truncated, altered, or from another key).
    pub fn open(&self, handle: &str) -> Option<EntityRef> {
        if handle.len() > MAX_HANDLE_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(handle).ok()?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), sealed)
            .ok()?;
        let plain = String::from_utf8(plain).ok()?;
        let (kind, id) = plain.split_once(':')?;
        Some(EntityRef {
            kind: EntityKind::parse(kind)?,
            id: id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str) -> EntityRef {
        EntityRef {
            kind: EntityKind::Person,
            id: id.to_owned(),
        }
    }

    #[test]
    fn a_handle_opens_to_its_entity_and_hides_the_id() {
        let h = Handles::new();
        for kind in EntityKind::ALL {
            let e = EntityRef {
                kind,
                id: "500103199001011234:with:colons".into(),
            };
            let handle = h.seal(&e);
            assert!(!handle.contains("1990"), "{handle}");
            assert!(handle.len() <= MAX_HANDLE_CHARS);
            assert!(handle
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert_eq!(h.open(&handle), Some(e));
        }
    }

    #[test]
    fn the_same_entity_gets_unlinkable_handles() {
        let h = Handles::new();
        let e = person("500103199001011234");
        assert_ne!(h.seal(&e), h.seal(&e));
    }

    #[test]
    fn forged_altered_and_foreign_handles_do_not_open() {
        let h = Handles::new();
        let handle = h.seal(&person("500103199001011234"));
        // Each byte flipped in turn: the tag catches every one.
        let bytes = URL_SAFE_NO_PAD.decode(&handle).unwrap();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 1;
            assert_eq!(h.open(&URL_SAFE_NO_PAD.encode(&b)), None, "byte {i}");
        }
        assert_eq!(h.open(&handle[..handle.len() - 2]), None);
        assert_eq!(Handles::new().open(&handle), None, "another process's key");
        for junk in [
            "",
            "person:500103199001011234",
            "../../etc/passwd",
            "' OR 1=1 --",
            "%00",
            &"A".repeat(MAX_HANDLE_CHARS + 1),
        ] {
            assert_eq!(h.open(junk), None, "{junk}");
        }
    }
}
