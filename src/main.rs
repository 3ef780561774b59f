fn main() -> std::process::ExitCode {
    stateleak::cli::main()
}
