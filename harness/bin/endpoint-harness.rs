//! The `endpoint-harness` command; everything it does lives in [`endpoint_harness::cli`].

fn main() -> std::process::ExitCode {
    endpoint_harness::cli::main()
}
