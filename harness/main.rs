//! The `scenarios` test target (`cargo test --test scenarios`): one trial per
//! YAML file under `scenarios/`. All logic lives in `endpoint_harness::run`.

fn main() -> std::process::ExitCode {
    endpoint_harness::run::main()
}
