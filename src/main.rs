// The parser allocates a node per expression and the extractor many small names; mimalloc makes
// that markedly cheaper than the system allocator (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Position of `mi_option_purge_delay` in mimalloc's `mi_option_e` (`mimalloc.h`; libmimalloc-sys
/// is pinned to the version it was read from, since its bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // The trees of finished files are freed while the facts of every file are kept: return freed
    // memory to the system at once rather than after a delay, so that the peak resident set is the
    // facts and the trees being parsed (see also .cargo/config.toml).
    // SAFETY: setting an option is thread-safe and takes effect for later purges.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
    stateleak::cli::main()
}
