//! Kafka partitioning by freelancer id (contract 1).
//!
//! - `Range { upper_bounds }`: `upper_bounds[i]` is the inclusive upper bound of partition `i`; partition 0
//!   starts at id 1. Ids above the last bound go to the last partition (`partitions - 1`); ids <= 0 (or a
//!   missing key, which callers map to 0) go to partition 0; when a bound's index exceeds the partition count
//!   the id is clamped to the last partition. Default: `[500, 1000]` (1-500 -> 0, 501-1000 -> 1).
//! - `Hash`: exactly the Java client's default partitioner for a keyed record:
//!   `(murmur2(key bytes) & 0x7fffffff) % partitions`, the key being the id in decimal ASCII (`"245"`).
//!
//! A partition count <= 0 is treated as 1 (everything in partition 0).

use std::fmt;
use std::str::FromStr;

/// How records are assigned to partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Partitioner {
    /// Ranges of ids, by inclusive upper bounds.
    Range { upper_bounds: Vec<i64> },
    /// Kafka's default murmur2 hash of the decimal key.
    Hash,
}

/// The default range bounds of the original design.
pub const DEFAULT_UPPER_BOUNDS: [i64; 2] = [500, 1000];

impl Default for Partitioner {
    fn default() -> Self {
        Partitioner::Range {
            upper_bounds: DEFAULT_UPPER_BOUNDS.to_vec(),
        }
    }
}

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`), as a signed 32-bit value like Java's.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

impl Partitioner {
    /// The partition (always in `0..partitions`) of a freelancer id.
    pub fn partition(&self, id: i64, partitions: i32) -> i32 {
        let last = partitions.max(1) - 1;
        match self {
            Partitioner::Range { upper_bounds } => {
                if id <= 0 {
                    return 0;
                }
                let idx = upper_bounds
                    .iter()
                    .position(|&b| id <= b)
                    .map_or(last as usize, |i| i.min(last as usize));
                idx as i32
            }
            Partitioner::Hash => {
                let h = murmur2(id.to_string().as_bytes()) & 0x7fff_ffff;
                h % (last + 1)
            }
        }
    }

    /// One human description per partition, for the master's `/assignment`:
    /// `["1-500", "501-1000+"]` for the default; `+` marks the partition that also takes the ids above;
    /// `none` marks a partition that gets no id; hash partitions read `murmur2(id) % n = p`.
    pub fn ranges_description(&self, partitions: i32) -> Vec<String> {
        let n = partitions.max(1) as usize;
        match self {
            Partitioner::Hash => (0..n).map(|p| format!("murmur2(id) % {n} = {p}")).collect(),
            Partitioner::Range { upper_bounds: b } => (0..n)
                .map(|p| {
                    let lower = if p == 0 {
                        1
                    } else {
                        b.get(p - 1).map(|x| x + 1).unwrap_or(0)
                    };
                    let is_last = p == n - 1;
                    if is_last {
                        let lower = if p <= b.len() {
                            lower
                        } else {
                            b.last().map_or(1, |x| x + 1)
                        };
                        if p + 1 == b.len() {
                            format!("{lower}-{}+", b[p])
                        } else {
                            format!("{lower}+")
                        }
                    } else if p < b.len() {
                        format!("{lower}-{}", b[p])
                    } else {
                        "none".to_string()
                    }
                })
                .collect(),
        }
    }
}

/// A partitioner specification that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid partitioner {input:?}: {reason} (expected `range`, `range:500,1000` or `hash`)")]
pub struct PartitionerParseError {
    pub input: String,
    pub reason: String,
}

impl FromStr for Partitioner {
    type Err = PartitionerParseError;

    /// `range` (default bounds), `range:500,1000` (strictly increasing positive bounds), `hash`;
    /// case-insensitive, spaces ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| PartitionerParseError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        match t.split_once(':') {
            None if t == "range" => Ok(Partitioner::default()),
            None if t == "hash" => Ok(Partitioner::Hash),
            Some(("range", list)) => {
                let mut bounds = Vec::new();
                for part in list.split(',') {
                    let b: i64 = part.parse().map_err(|_| err("a bound is not an integer"))?;
                    if b < 1 {
                        return Err(err("bounds must be >= 1"));
                    }
                    if bounds.last().is_some_and(|&prev| b <= prev) {
                        return Err(err("bounds must be strictly increasing"));
                    }
                    bounds.push(b);
                }
                Ok(Partitioner::Range {
                    upper_bounds: bounds,
                })
            }
            _ => Err(err("unknown kind")),
        }
    }
}

impl fmt::Display for Partitioner {
    /// The `FromStr` syntax: `range:500,1000` or `hash`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partitioner::Hash => f.write_str("hash"),
            Partitioner::Range { upper_bounds } => {
                let list: Vec<String> = upper_bounds.iter().map(i64::to_string).collect();
                write!(f, "range:{}", list.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn murmur2_matches_kafka() {
        // The reference values of Kafka's UtilsTest.testMurmur2.
        let cases: &[(&[u8], i32)] = &[
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (data, want) in cases {
            assert_eq!(murmur2(data), *want, "{}", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn hash_partition_matches_formula() {
        let p = Partitioner::Hash;
        // (murmur2("21") & 0x7fffffff) % n, from the reference value above.
        let positive = -973_932_308_i32 & 0x7fff_ffff;
        for n in 1..=12 {
            assert_eq!(p.partition(21, n), positive % n);
        }
        assert_eq!(p.partition(21, 0), 0);
    }

    #[test]
    fn default_range() {
        let p = Partitioner::default();
        assert_eq!(
            p,
            Partitioner::Range {
                upper_bounds: vec![500, 1000]
            }
        );
        for (id, want) in [
            (1, 0),
            (245, 0),
            (500, 0),
            (501, 1),
            (1000, 1),
            (1001, 1),
            (i64::MAX, 1),
            (0, 0),
            (-5, 0),
            (i64::MIN, 0),
        ] {
            assert_eq!(p.partition(id, 2), want, "{id}");
        }
        assert_eq!(
            p.partition(1001, 3),
            2,
            "above the range goes to the last partition"
        );
        assert_eq!(p.partition(700, 3), 1);
        assert_eq!(p.partition(700, 1), 0, "clamped");
        assert_eq!(p.partition(700, 0), 0);
        let empty = Partitioner::Range {
            upper_bounds: vec![],
        };
        assert_eq!(empty.partition(5, 2), 1);
        assert_eq!(empty.partition(0, 2), 0);
    }

    #[test]
    fn parse_and_display() {
        assert_eq!(
            "range".parse::<Partitioner>().unwrap(),
            Partitioner::default()
        );
        assert_eq!(
            " Range ".parse::<Partitioner>().unwrap(),
            Partitioner::default()
        );
        assert_eq!("hash".parse::<Partitioner>().unwrap(), Partitioner::Hash);
        assert_eq!("HASH".parse::<Partitioner>().unwrap(), Partitioner::Hash);
        assert_eq!(
            "range:100, 200,300".parse::<Partitioner>().unwrap(),
            Partitioner::Range {
                upper_bounds: vec![100, 200, 300]
            }
        );
        for bad in [
            "",
            "ranges",
            "range:",
            "range:500,400",
            "range:0",
            "range:a",
            "range:5,5",
            "hash:1",
            "murmur",
        ] {
            assert!(bad.parse::<Partitioner>().is_err(), "{bad:?}");
        }
        for p in [
            Partitioner::default(),
            Partitioner::Hash,
            Partitioner::Range {
                upper_bounds: vec![10],
            },
        ] {
            assert_eq!(p.to_string().parse::<Partitioner>().unwrap(), p);
        }
        assert_eq!(Partitioner::default().to_string(), "range:500,1000");
    }

    #[test]
    fn descriptions() {
        let p = Partitioner::default();
        assert_eq!(p.ranges_description(2), vec!["1-500", "501-1000+"]);
        assert_eq!(p.ranges_description(3), vec!["1-500", "501-1000", "1001+"]);
        assert_eq!(p.ranges_description(1), vec!["1+"]);
        assert_eq!(
            p.ranges_description(4),
            vec!["1-500", "501-1000", "none", "1001+"]
        );
        let r = Partitioner::Range {
            upper_bounds: vec![100, 200, 300],
        };
        assert_eq!(r.ranges_description(2), vec!["1-100", "101+"]);
        assert_eq!(
            Partitioner::Hash.ranges_description(2),
            vec!["murmur2(id) % 2 = 0", "murmur2(id) % 2 = 1"]
        );
    }

    proptest! {
        #[test]
        fn default_range_ownership(id in 1i64..=1000) {
            let want = if id <= 500 { 0 } else { 1 };
            prop_assert_eq!(Partitioner::default().partition(id, 2), want);
        }

        #[test]
        fn always_in_range(
            id in any::<i64>(),
            n in 1i32..64,
            mut bounds in proptest::collection::vec(1i64..100_000, 0..6),
        ) {
            bounds.sort_unstable();
            bounds.dedup();
            let r = Partitioner::Range { upper_bounds: bounds };
            let pr = r.partition(id, n);
            prop_assert!((0..n).contains(&pr));
            let ph = Partitioner::Hash.partition(id, n);
            prop_assert!((0..n).contains(&ph));
            prop_assert_eq!(ph, Partitioner::Hash.partition(id, n));
            prop_assert_eq!(r.ranges_description(n).len(), n as usize);
        }
    }
}
