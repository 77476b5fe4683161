//! Identifiers that pass `fanzha_core`'s parsers: resident ids and residence permits with their
//! ISO 7064 MOD 11-2 check character, unified social credit codes (GB 32100), Luhn-valid card
//! numbers, mobile numbers with real prefixes, IMEIs and IP addresses.
//!
//! Uniqueness comes from counters, randomness from a bijection: a counter is scrambled by an
//! affine map modulo 10^k, which is one-to-one, so numbers look random yet never collide.

/// ISO 7064 MOD 11-2 weights and check characters (as in `fanzha_core::id`).
const MOD11_2_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const MOD11_2_CHECK: &[u8; 11] = b"10X98765432";

/// An 18-character id in the resident layout: `prefix6 + yyyymmdd + seq3 + check`.
pub fn layout18(prefix6: &str, yyyymmdd: &str, seq: u32) -> String {
    let mut s = format!("{prefix6}{yyyymmdd}{:03}", seq % 1000);
    let sum: u32 = s
        .bytes()
        .zip(MOD11_2_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    s.push(char::from(MOD11_2_CHECK[(sum % 11) as usize]));
    s
}

const CREDIT_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A unified social credit code: `91` (an enterprise), the region, a 9-character
/// organisation code derived from `n`, and the GB 32100 check character.
pub fn credit_code(region6: &str, n: u64) -> String {
    let mut s = format!("91{region6}");
    let mut x = scramble(n, 31u64.pow(9) as u128, 0x2F_1A_3D);
    for _ in 0..9 {
        s.push(char::from(CREDIT_CHARSET[(x % 31) as usize]));
        x /= 31;
    }
    let sum: u32 = s
        .bytes()
        .zip(CREDIT_WEIGHTS)
        .map(|(b, w)| {
            let v = CREDIT_CHARSET.iter().position(|&c| c == b).unwrap_or(0) as u32;
            v * w
        })
        .sum();
    s.push(char::from(CREDIT_CHARSET[((31 - sum % 31) % 31) as usize]));
    s
}

/// An affine bijection on `0..modulus` (the multiplier is prime to 2 and 5, hence to any
/// power of ten, and to 31).
fn scramble(n: u64, modulus: u128, salt: u64) -> u64 {
    const A: u128 = 7_777_777_771; // odd, not a multiple of 5, ≡ 4 mod 31
    ((u128::from(n) * A + u128::from(salt)) % modulus) as u64
}

/// A Luhn-valid card number of `len` digits (16–19) starting with the bank's `bin`; distinct
/// `n` give distinct numbers for one (bin, len).
pub fn card(bin: &str, len: usize, n: u64) -> String {
    let body_len = len - 1 - bin.len();
    let modulus = 10u128.pow(body_len as u32);
    let body = scramble(n, modulus, 0x5EED);
    let mut s = format!("{bin}{body:0width$}", width = body_len);
    // The bin is one of our digit constants, so a check digit always exists.
    if let Some(d) = fanzha_core::luhn_digit_for(&s) {
        s.push(d);
    }
    s
}

/// An 11-digit mobile number: a 3-digit prefix and 8 scrambled digits; distinct `n` give
/// distinct numbers for one prefix.
pub fn msisdn(prefix3: &str, n: u64) -> String {
    format!("{prefix3}{:08}", scramble(n, 100_000_000, 0x1234_5678))
}

/// A 13-digit IoT number (`1440…`).
pub fn iot_msisdn(n: u64) -> String {
    format!("1440{:09}", scramble(n, 1_000_000_000, 0x0BAD))
}

/// A 15-digit IMEI-like device identity.
pub fn imei(n: u64) -> String {
    format!("86{:013}", scramble(n, 10_000_000_000_000, 0x1AE1))
}

/// Dotted-quad text of a packed IPv4 address.
pub fn write_ip(out: &mut Vec<u8>, ip: u32) {
    let mut buf = itoa::Buffer::new();
    for (i, shift) in [24, 16, 8, 0].into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        out.extend_from_slice(buf.format((ip >> shift) & 0xFF).as_bytes());
    }
}

pub const fn ipv4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    (a as u32) << 24 | (b as u32) << 16 | (c as u32) << 8 | d as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanzha_core::{CardNumber, CreditCode, IdKind, Msisdn, PersonId};

    #[test]
    fn generated_ids_pass_the_core_parsers() {
        for seq in 0..200 {
            let id = layout18("330106", "19460812", seq);
            assert!(PersonId::parse(IdKind::Resident, &id).is_ok(), "{id}");
            let fp = layout18("933106", "19800101", seq);
            assert!(
                PersonId::parse(IdKind::ForeignPermanent, &fp).is_ok(),
                "{fp}"
            );
            let hmt = layout18("810000", "19900505", seq);
            assert!(PersonId::parse(IdKind::HmtPermit, &hmt).is_ok(), "{hmt}");
            let cc = credit_code("330106", u64::from(seq));
            assert!(CreditCode::parse(&cc).is_ok(), "{cc}");
            for len in [16, 19] {
                let c = card("622202", len, u64::from(seq));
                assert!(CardNumber::parse(&c).is_ok(), "{c}");
            }
            assert!(Msisdn::parse(&msisdn("138", u64::from(seq))).is_ok());
            assert!(Msisdn::parse(&iot_msisdn(u64::from(seq))).is_ok());
        }
    }

    #[test]
    fn counters_give_distinct_numbers() {
        let mut v: Vec<String> = (0..10_000).map(|n| card("621700", 19, n)).collect();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), 10_000);
        let mut m: Vec<String> = (0..10_000).map(|n| msisdn("139", n)).collect();
        m.sort();
        m.dedup();
        assert_eq!(m.len(), 10_000);
    }
}
