// The parser allocates a node per expression and the extractor many small names; mimalloc makes
// that markedly cheaper than the system allocator (measured in BENCHMARKS.md). mimalloc's own
// purge delay is kept while files are parsed: the pages of a freed syntax tree stay mapped for the
// next file's tree to reuse, instead of going back to the system and faulting in again (purging at
// once there cost 60-79 k page faults and 0.14-0.21 s of system time on the benchmark corpus; see
// BENCHMARKS.md). After the parse stage freed pages are returned at once (`src/allocator.rs`).
// `MIMALLOC_PURGE_DELAY` still overrides both. With the `heap-stats` feature the allocator also
// counts the bytes live, printed as each stage ends (`src/allocator.rs`).
#[global_allocator]
static ALLOCATOR: stateleak::Allocator = stateleak::Allocator;

fn main() -> std::process::ExitCode {
    stateleak::cli::main()
}
