//! The memory argon2 hashes run in: one block set per hashing slot, kept between hashes
//! and given back to the kernel once no hash has run for [`IDLE`].
//!
//! A hash at the pool's parameters fills 19 MiB. Allocating that for every hash costs
//! mapping, faulting in and unmapping it each time, a third of a sign-in's CPU time;
//! kept sets cost their memory only while sign-ins come in.
//!
//! Each set reserves more than 32 MiB and writes only the part it uses: glibc serves an
//! allocation that large from `mmap` and unmaps it when freed, however high its dynamic
//! mmap threshold has risen (at most to 32 MiB on 64-bit, mallopt(3)), and pages never
//! written cost no memory. A smaller set would, once a mapped one had been freed, come
//! from a per-thread arena and stay resident there after being freed.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use argon2::Block;

/// How long unused sets are kept: sign-ins that keep coming keep them, and an idle
/// server gives them back after this.
pub const IDLE: Duration = Duration::from_secs(5);

/// Blocks (of 1 KiB) each set reserves: above glibc's highest dynamic mmap threshold.
const RESERVED_BLOCKS: usize = 33 * 1024;

/// Argon2 memory for one hash at a time; empty until first used.
#[derive(Default)]
pub struct Memory(Vec<Block>);

impl Memory {
    /// At least `count` blocks, allocated only if this memory has fewer. Argon2 writes
    /// every block before it reads it, so what a previous hash left does not matter.
    pub fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0 = Vec::new(); // the old set is freed before the new one is written
            let mut blocks = Vec::with_capacity(count.max(RESERVED_BLOCKS));
            blocks.resize(count, Block::new());
            self.0 = blocks;
        }
        &mut self.0
    }
}

/// The sets not in use, and when one was last given back.
struct Kept {
    sets: Vec<Memory>,
    returned: Option<Instant>,
    sweeper: bool,
}

impl Kept {
    /// The kept sets, to be freed, if none was given back for [`IDLE`] by `now`;
    /// otherwise how much longer they are kept.
    fn expire(&mut self, now: Instant) -> Result<Vec<Memory>, Duration> {
        let idle = self
            .returned
            .map_or(IDLE, |at| now.saturating_duration_since(at));
        if idle < IDLE {
            return Err(IDLE - idle);
        }
        self.sweeper = false;
        Ok(std::mem::take(&mut self.sets))
    }
}

fn kept() -> MutexGuard<'static, Kept> {
    static KEPT: Mutex<Kept> = Mutex::new(Kept {
        sets: Vec::new(),
        returned: None,
        sweeper: false,
    });
    KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A kept set, or empty memory. Callers hold a hashing slot and give the memory back
/// before they release it, so there are at most as many sets as slots.
pub fn take() -> Memory {
    kept().sets.pop().unwrap_or_default()
}

/// Keeps `memory` for the next hash; starts the sweeper unless it runs.
pub fn give_back(memory: Memory) {
    let mut kept = kept();
    kept.sets.push(memory);
    kept.returned = Some(Instant::now());
    if !kept.sweeper {
        // A thread, not a task: it sleeps, and hashes also run outside the server's
        // runtime (bench-bound, tests). If none can start, the sets stay until next time.
        kept.sweeper = std::thread::Builder::new()
            .name("argon2-sweeper".into())
            .spawn(sweep)
            .is_ok();
    }
}

/// Frees the kept sets once none was given back for [`IDLE`].
fn sweep() {
    loop {
        let expired = kept().expire(Instant::now());
        match expired {
            Ok(sets) => return drop(sets),
            Err(wait) => std::thread::sleep(wait),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_reused_for_as_many_blocks_or_fewer_and_reserved_beyond_32_mib() {
        let mut memory = Memory::default();
        let first = memory.blocks(1024).as_ptr();
        assert_eq!(memory.0.len(), 1024);
        assert!(memory.0.capacity() * Block::SIZE > 32 << 20);
        assert_eq!(memory.blocks(256).as_ptr(), first);
        assert_eq!(memory.blocks(1024).len(), 1024);
        assert_eq!(memory.blocks(2048).len(), 2048);
    }

    #[test]
    fn sets_are_kept_until_none_was_given_back_for_the_idle_period() {
        let at = Instant::now();
        let mut kept = Kept {
            sets: vec![Memory::default(), Memory::default()],
            returned: Some(at),
            sweeper: true,
        };
        assert_eq!(
            kept.expire(at + IDLE / 4).map(|s| s.len()),
            Err(IDLE * 3 / 4)
        );
        assert_eq!(kept.sets.len(), 2);
        assert_eq!(kept.expire(at + IDLE).map(|s| s.len()), Ok(2));
        assert!(kept.sets.is_empty() && !kept.sweeper);
    }
}
