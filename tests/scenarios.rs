//! The scenario suite (`cargo test --test scenarios`): one trial per YAML file
//! under `scenarios/`. This is the whole file, as in a user's own crate with
//! endpoint-harness as a dev-dependency (`harness = false` in Cargo.toml).

fn main() -> std::process::ExitCode {
    endpoint_harness::run::main()
}
