// The parser allocates a node per expression and the extractor many small names; mimalloc makes
// that markedly cheaper than the system allocator (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    stateleak::cli::main()
}
