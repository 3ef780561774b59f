//! Marks, on every thread of the pool, where each stage of a run ends, so that an instruction
//! profile can be cut into stages per thread; nothing is marked unless `STATELEAK_STAGE_MARKS` is
//! set.
//!
//! With the variable set, every thread calls [`stage_ended`] as a stage (or a step of the link)
//! ends: `valgrind --tool=callgrind --separate-threads=yes --dump-after='*stage_ended*'` then
//! writes one profile per thread and stage, and a stage's longest thread is its share of the
//! run's critical path (BENCHMARKS.md, "Round 26: threads"). The marks wait for every thread to
//! be free, so they are meant for runs without the cache (whose writing overlaps the link).

use std::sync::OnceLock;

/// Marks the end of `stage` on every thread of the current pool, when marks were asked for.
pub fn end_of_stage(stage: &'static str) {
    static WANTED: OnceLock<bool> = OnceLock::new();
    if *WANTED.get_or_init(|| std::env::var_os("STATELEAK_STAGE_MARKS").is_some()) {
        rayon::broadcast(|_| stage_ended(stage));
    }
}

/// What a profiler splits its counts on (never inlined, so that it keeps its name).
#[inline(never)]
fn stage_ended(stage: &'static str) {
    std::hint::black_box(stage);
}
