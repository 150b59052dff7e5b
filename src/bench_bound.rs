//! `cognate bench-bound` (hidden): the cryptographic bound the benchmark harness
//! (`bench/run`) compares every figure with, measured in-process with the exact
//! backends and parameters the server uses: RS256 signatures (aws-lc-rs, a 2048-bit key
//! parsed once, as pools sign) and argon2id hashes (the pool's parameters). Each is run
//! on one thread for a fixed time and divided by that thread's CPU time; argon2id also on
//! as many threads at once as the server has hashing slots.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// This thread's CPU time so far (`/proc/thread-self/schedstat`, in nanoseconds).
fn thread_cpu() -> anyhow::Result<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let ns: u64 = text.split_whitespace().next().unwrap_or_default().parse()?;
    Ok(Duration::from_nanos(ns))
}

/// Runs `op` for about `seconds` of wall time; operations per CPU-second of this thread.
fn per_cpu_second(seconds: f64, mut op: impl FnMut()) -> anyhow::Result<(u64, f64)> {
    let (wall, cpu) = (Instant::now(), thread_cpu()?);
    let mut n = 0u64;
    while n == 0 || wall.elapsed().as_secs_f64() < seconds {
        op();
        n += 1;
    }
    let used = (thread_cpu()? - cpu).as_secs_f64();
    Ok((n, n as f64 / used.max(1e-9)))
}

/// Both bounds as JSON: `rs256_sign_per_cpu_s` and `argon2id_hash_per_cpu_s`.
pub fn run(seconds: f64) -> anyhow::Result<Value> {
    let keys = crate::keys::bench_keys()?;
    // A signing input the size of a typical ID token's header and payload.
    let input = "x".repeat(900);
    let (signs, sign_rate) = per_cpu_second(seconds, || {
        std::hint::black_box(keys.sign_raw(input.as_bytes()));
    })?;
    let (hashes, hash_rate) = hashing(seconds, 1)?;
    // As the server hashes under load: every slot at once, sharing caches and memory
    // bandwidth, which makes each hash cost more CPU than one alone.
    let slots = crate::users::password::slot_count();
    let (all_hashes, all_rate) = hashing(seconds, slots)?;
    Ok(json!({
        "rs256_sign_per_cpu_s": sign_rate,
        "rs256_signs": signs,
        "argon2id_hash_per_cpu_s": hash_rate,
        "argon2id_hashes": hashes,
        "argon2id_hash_per_cpu_s_all_slots": all_rate,
        "argon2id_hashes_all_slots": all_hashes,
        "argon2id_slots": slots,
        "argon2id_params": crate::users::password::PARAMS_DESCRIPTION,
    }))
}

/// argon2id hashes on `threads` threads at once, each in reused memory as the server's
/// hashing slots hash: their total and their rate per CPU-second of those threads.
fn hashing(seconds: f64, threads: usize) -> anyhow::Result<(u64, f64)> {
    let runs = std::thread::scope(|scope| {
        let running: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut memory = crate::users::hash_memory::Memory::default();
                    per_cpu_second(seconds, || {
                        let hash =
                            crate::users::password::hash_blocking(&mut memory, "Correct-horse-9");
                        std::hint::black_box(hash.ok());
                    })
                })
            })
            .collect();
        running
            .into_iter()
            .map(|run| {
                run.join()
                    .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))?
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let hashes: u64 = runs.iter().map(|(n, _)| n).sum();
    let cpu: f64 = runs.iter().map(|(n, rate)| *n as f64 / rate).sum();
    Ok((hashes, hashes as f64 / cpu.max(1e-9)))
}
