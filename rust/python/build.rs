//! Records the compiler and target that built `_core`, for the querier's
//! `/api/v1/status/buildinfo` (where Prometheus and Thanos give Go's version).

use std::process::Command;

fn main() {
    // Cargo names the compiler it builds with in RUSTC; a new compiler
    // rebuilds every crate, this script included.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=THANOS_RS_RUSTC_VERSION={version}");
    println!("cargo:rustc-env=THANOS_RS_TARGET={}", std::env::var("TARGET").unwrap_or_default());
    println!("cargo:rerun-if-env-changed=RUSTC");
}
