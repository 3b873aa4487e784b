//! Exactly the next offset, or a seek: the consumer-side guard of effectively-once consumption.
//!
//! A worker resumes a partition at the offset stored in the warehouse. Two things can hand it a later
//! offset first: messages fetched under an earlier assignment, and brokers that, asked for an offset in
//! the middle of a record batch, answer from the next batch (tansu 0.6 does). Accepting that message
//! would silently skip the ones before it. The cursor instead asks for a seek further back, doubling the
//! distance, until the fetch starts at or before the expected offset; messages already committed are
//! skipped. A real gap in the log (compaction, transaction markers, retention) is accepted once a seek
//! back has shown the broker has nothing in between.

/// What to do with a consumed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// The next offset: process it.
    Accept,
    /// Already committed or a duplicate: ignore it.
    Skip,
    /// Offsets are missing before this one: seek the partition to this offset and ignore the message.
    SeekTo(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    expected: i64,
    /// distance of the last backward seek, while probing
    back: Option<i64>,
    /// a message before `expected` arrived since the last backward seek
    positioned: bool,
}

/// First backward step; record batches are usually larger.
const FIRST_STEP: i64 = 64;
/// Beyond this, a gap is accepted as real.
const MAX_STEP: i64 = 1 << 24;

impl Cursor {
    pub fn new(next_offset: i64) -> Self {
        Self {
            expected: next_offset,
            back: None,
            positioned: false,
        }
    }

    pub fn expected(&self) -> i64 {
        self.expected
    }

    /// The partition is idle although the broker holds offsets up to `high_watermark` (exclusive):
    /// the fetch skipped what we expect. Returns where to seek.
    pub fn stalled(&mut self, high_watermark: i64) -> Option<i64> {
        if high_watermark <= self.expected {
            return None;
        }
        let back = self.back.map_or(FIRST_STEP, |b| (b * 2).min(MAX_STEP));
        self.back = Some(back);
        self.positioned = false;
        Some((self.expected - back).max(0))
    }

    pub fn admit(&mut self, offset: i64) -> Admit {
        if offset < self.expected {
            if self.back.is_some() {
                self.positioned = true;
            }
            return Admit::Skip;
        }
        if offset > self.expected {
            let real_gap = self.positioned
                || self.expected == 0 && self.back.is_some()
                || self
                    .back
                    .is_some_and(|b| b >= MAX_STEP || self.expected - b <= 0);
            if !real_gap {
                let back = self.back.map_or(FIRST_STEP, |b| b * 2);
                self.back = Some(back);
                self.positioned = false;
                return Admit::SeekTo((self.expected - back).max(0));
            }
        }
        self.expected = offset + 1;
        self.back = None;
        self.positioned = false;
        Admit::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A broker that answers a fetch at `from` with whole batches: those whose base is at or after
    /// `from` (the tansu behaviour) or the batch containing `from` (Kafka), given batch bases.
    fn fetch(log: &[i64], bases: &[i64], from: i64, mid_batch_ok: bool) -> Vec<i64> {
        let start = if mid_batch_ok {
            bases
                .iter()
                .copied()
                .filter(|b| *b <= from)
                .max()
                .unwrap_or(0)
        } else {
            bases
                .iter()
                .copied()
                .filter(|b| *b >= from)
                .min()
                .unwrap_or(i64::MAX)
        };
        log.iter().copied().filter(|o| *o >= start).collect()
    }

    /// Consumes the log from `stored` with the cursor; returns the accepted offsets.
    fn consume(log: &[i64], bases: &[i64], stored: i64, mid_batch_ok: bool) -> Vec<i64> {
        let mut cursor = Cursor::new(stored);
        let mut accepted = Vec::new();
        let mut position = stored;
        for _ in 0..100 {
            let mut restarted = false;
            for o in fetch(log, bases, position, mid_batch_ok) {
                match cursor.admit(o) {
                    Admit::Accept => accepted.push(o),
                    Admit::Skip => {}
                    Admit::SeekTo(s) => {
                        position = s;
                        restarted = true;
                        break;
                    }
                }
            }
            if !restarted {
                // idle: ask the broker's high watermark, as the worker does
                match cursor.stalled(log.len() as i64) {
                    Some(s) => position = s,
                    None => return accepted,
                }
            }
        }
        panic!("the cursor never settled")
    }

    #[test]
    fn resumes_inside_a_batch_on_a_broker_that_skips_to_the_next_batch() {
        let log: Vec<i64> = (0..2000).collect();
        let bases: Vec<i64> = (0..2000).step_by(300).collect(); // 0, 300, 600, 900, 1200...
        assert_eq!(fetch(&log, &bases, 1000, false)[0], 1200);
        assert_eq!(
            consume(&log, &bases, 1000, false),
            (1000..2000).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_real_gap_is_accepted_after_one_probe() {
        let log: Vec<i64> = (0..100).chain(150..200).collect();
        let bases = vec![0, 150];
        assert_eq!(
            consume(&log, &bases, 120, true),
            (150..200).collect::<Vec<_>>()
        );
        let mut c = Cursor::new(120);
        assert_eq!(c.admit(150), Admit::SeekTo(56));
        assert_eq!(c.admit(99), Admit::Skip);
        assert_eq!(c.admit(150), Admit::Accept);
        assert_eq!(c.expected(), 151);
    }

    #[test]
    fn a_log_that_starts_late_is_accepted() {
        let mut c = Cursor::new(0);
        assert_eq!(c.admit(500), Admit::SeekTo(0));
        assert_eq!(c.admit(500), Admit::Accept);
    }

    #[test]
    fn an_idle_partition_behind_the_high_watermark_seeks_back() {
        let log: Vec<i64> = (0..100).collect();
        let bases = vec![0]; // one batch: a fetch from 40 returns nothing on a skipping broker
        assert!(fetch(&log, &bases, 40, false).is_empty());
        assert_eq!(
            consume(&log, &bases, 40, false),
            (40..100).collect::<Vec<_>>()
        );
        let mut c = Cursor::new(100);
        assert_eq!(c.stalled(100), None);
    }

    #[test]
    fn duplicates_are_skipped() {
        let mut c = Cursor::new(10);
        assert_eq!(c.admit(10), Admit::Accept);
        assert_eq!(c.admit(10), Admit::Skip);
        assert_eq!(c.admit(9), Admit::Skip);
        assert_eq!(c.admit(11), Admit::Accept);
    }

    proptest! {
        /// Whatever the batch layout and the resume point, every offset from the resume point on is
        /// accepted exactly once and in order, on both kinds of broker.
        #[test]
        fn every_offset_once_in_order(
            len in 1i64..3000,
            sizes in proptest::collection::vec(1i64..700, 1..40),
            stored_frac in 0.0f64..1.0,
            mid_batch_ok: bool,
        ) {
            let log: Vec<i64> = (0..len).collect();
            let mut bases = vec![0];
            let mut b = 0;
            for s in sizes.iter().cycle() {
                b += s;
                if b >= len { break; }
                bases.push(b);
            }
            let stored = ((len as f64) * stored_frac) as i64;
            prop_assert_eq!(consume(&log, &bases, stored, mid_batch_ok), (stored..len).collect::<Vec<_>>());
        }
    }
}
