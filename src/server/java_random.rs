//! A bit-exact port of the parts of `java.util.Random` the server needs.
//!
//! Session passwords are not stored anywhere: every server regenerates them
//! from the session id with `java.util.Random`, so a client that got its
//! password from a Java server can reconnect to us and vice versa. That
//! only works if our generator produces the same bytes as the JDK's, which
//! is specified exactly (a 48-bit linear congruential generator).
//!
//! Pure code, no threads. Mirrors: `java.util.Random` (seed scrambling,
//! `next(32)`, `nextBytes`).

/// The LCG multiplier of `java.util.Random`.
const MULTIPLIER: i64 = 0x5_DEEC_E66D;
/// The LCG increment.
const ADDEND: i64 = 0xB;
/// The generator keeps 48 bits of state.
const MASK: i64 = (1 << 48) - 1;

/// `java.util.Random`, reduced to what password generation uses.
#[derive(Debug, Clone)]
pub struct JavaRandom {
    /// The 48-bit state, as the JDK keeps it after scrambling the seed.
    seed: i64,
}

impl JavaRandom {
    /// `new Random(seed)`: the seed is scrambled with the multiplier.
    pub fn new(seed: i64) -> JavaRandom {
        JavaRandom {
            seed: (seed ^ MULTIPLIER) & MASK,
        }
    }

    /// `next(bits)`: advances the state and returns its top `bits` bits.
    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(MULTIPLIER).wrapping_add(ADDEND)) & MASK;
        (self.seed >> (48 - bits)) as i32
    }

    /// `nextInt()`.
    pub fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `nextBytes(bytes)`: each 32-bit value fills up to four bytes, least
    /// significant byte first.
    pub fn next_bytes(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(4) {
            let mut rnd = self.next_int();
            for b in chunk {
                *b = rnd as u8;
                rnd >>= 8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::JavaRandom;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{:02x}", b)).collect()
    }

    /// Session password test vectors, produced by the
    /// JDK: `new Random(id ^ 0xB3415C00L).nextBytes(new byte[16])`.
    #[test]
    fn session_password_vectors_match_the_jdk() {
        let cases = [
            (
                0x0001_0000_0000_0000_i64,
                "f22acd4a97e69d6d20a49bb638eadb38",
            ),
            (
                0x17f3_a2b4_c5d0_0001_i64,
                "9536b3e287716d7325bcef9edc8af388",
            ),
        ];
        for (id, expected) in cases {
            let mut r = JavaRandom::new(id ^ 0xB341_5C00);
            let mut p = [0u8; 16];
            r.next_bytes(&mut p);
            assert_eq!(hex(&p), expected, "session id {:#x}", id);
        }
    }

    /// `new Random(0).nextInt()` is -1155484576 in every JDK.
    #[test]
    fn next_int_of_seed_zero_matches_the_jdk() {
        let mut r = JavaRandom::new(0);
        assert_eq!(r.next_int(), -1155484576);
        assert_eq!(r.next_int(), -723955400);
    }

    #[test]
    fn next_bytes_fills_a_partial_last_chunk() {
        let mut a = JavaRandom::new(42);
        let mut b = JavaRandom::new(42);
        let mut five = [0u8; 5];
        a.next_bytes(&mut five);
        let first = b.next_int().to_le_bytes();
        let second = b.next_int().to_le_bytes();
        assert_eq!(&five[..4], &first);
        assert_eq!(five[4], second[0]);
    }
}
