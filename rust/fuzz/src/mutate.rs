//! Byte-level mutations, AFL's "havoc" stage in miniature: a few random edits
//! stacked on a corpus input. Structure is left to the targets' generators;
//! these edits find what a generator would never write (cut varints, a length
//! field one past the data, a flipped bit under a CRC).

use crate::rng::Rng;

/// Values that sit on boundaries: sign changes, byte and varint widths, the
/// ends of the integer types.
const INTERESTING: [u64; 18] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x3fff,
    0x4000,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
];

/// Edits `data` in place with 1 to 8 stacked mutations, keeping it at most
/// `max_len` bytes. `other` is another corpus input to splice from;
/// `dictionary` holds tokens of the target's format.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], dictionary: &[&[u8]], max_len: usize) {
    let rounds = 1 << rng.below(4);
    for _ in 0..rounds {
        mutate_once(rng, data, other, dictionary);
    }
    data.truncate(max_len);
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], dictionary: &[&[u8]]) {
    if data.is_empty() {
        insert_random(rng, data);
        return;
    }
    match rng.below(12) {
        0 => {
            let i = rng.below(data.len() * 8);
            data[i / 8] ^= 1 << (i % 8);
        }
        1 => {
            let i = rng.below(data.len());
            data[i] = rng.next_u64() as u8;
        }
        2 => {
            // Add or subtract a little: counts and lengths one off.
            let i = rng.below(data.len());
            let delta = 1 + rng.below(16) as u8;
            data[i] = if rng.one_in(2) { data[i].wrapping_add(delta) } else { data[i].wrapping_sub(delta) };
        }
        3 => overwrite_interesting(rng, data),
        4 => insert_random(rng, data),
        5 => {
            let at = rng.below(data.len());
            let n = 1 + rng.small(data.len() - at - 1);
            data.drain(at..at + n);
        }
        6 => {
            // Duplicate a block: repeated records and frames.
            let at = rng.below(data.len());
            let n = 1 + rng.small((data.len() - at - 1).min(256));
            let block = data[at..at + n].to_vec();
            let to = rng.below(data.len() + 1);
            data.splice(to..to, block);
        }
        7 => {
            // Copy a block over another place.
            let from = rng.below(data.len());
            let n = 1 + rng.small(data.len() - from - 1);
            let to = rng.below(data.len() - n + 1);
            data.copy_within(from..from + n, to);
        }
        8 | 9 if !dictionary.is_empty() => {
            let token = *rng.pick(dictionary);
            let at = rng.below(data.len() + 1);
            if rng.one_in(2) {
                data.splice(at..at, token.iter().copied());
            } else {
                let end = (at + token.len()).min(data.len());
                data.splice(at..end, token.iter().copied());
            }
        }
        10 if !other.is_empty() => {
            // Splice: the head of this input and the tail of another.
            let cut = rng.below(data.len() + 1);
            let from = rng.below(other.len());
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        _ => {
            // Insert a block of another input anywhere.
            let src: &[u8] = if other.is_empty() { data } else { other };
            let from = rng.below(src.len());
            let n = 1 + rng.small((src.len() - from - 1).min(512));
            let block = src[from..from + n].to_vec();
            let at = rng.below(data.len() + 1);
            data.splice(at..at, block);
        }
    }
}

fn insert_random(rng: &mut Rng, data: &mut Vec<u8>) {
    let n = 1 + rng.small(32);
    let at = rng.below(data.len() + 1);
    let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
    data.splice(at..at, bytes);
}

/// Writes an interesting value, possibly negated, as 1, 2, 4 or 8 bytes of
/// either endianness (chunk headers are big-endian, protobuf fixed fields
/// little-endian), or as a protobuf varint.
fn overwrite_interesting(rng: &mut Rng, data: &mut Vec<u8>) {
    let mut v = *rng.pick(&INTERESTING);
    if rng.one_in(4) {
        v = v.wrapping_neg();
    }
    let bytes: Vec<u8> = match rng.below(5) {
        0 => vec![v as u8],
        1 => (v as u16).to_be_bytes().to_vec(),
        2 => (v as u32).to_be_bytes().to_vec(),
        3 if rng.one_in(2) => v.to_le_bytes().to_vec(),
        3 => v.to_be_bytes().to_vec(),
        _ => varint(v),
    };
    let at = rng.below(data.len());
    let end = (at + bytes.len()).min(data.len());
    data.splice(at..end, bytes);
}

pub fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_respect_the_length_limit_and_never_panic() {
        let mut rng = Rng::new(7);
        let dict: [&[u8]; 2] = [b"rate(", b"[5m]"];
        for i in 0..20_000 {
            let mut data = vec![0u8; i % 40];
            let other = vec![1u8; i % 7];
            mutate(&mut rng, &mut data, &other, &dict, 64);
            assert!(data.len() <= 64);
        }
    }

    #[test]
    fn varints_are_protobufs() {
        assert_eq!(varint(300), [0xac, 0x02]);
        assert_eq!(varint(u64::MAX).len(), 10);
    }
}
