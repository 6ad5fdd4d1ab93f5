//! Rebuilds the crate when a shipped mock behaviour changes: `mocks/` is built
//! into the binary (include_dir), which cargo does not track by itself.

fn main() {
    println!("cargo:rerun-if-changed=mocks");
}
