//! Links the `chartimpact` CLI as a position-dependent executable on Linux.
//!
//! A position-independent executable has its data tables (vtables, string tables, the regex
//! and Unicode tables of its dependencies) patched at every start: about 46,000 relocations
//! that dirty 800 KB of memory before `main`, which is 0.4 ms of a 4 ms `chartimpact render`
//! of a small chart (docs/BENCHMARKS.md). Linked at a fixed address, those tables are used
//! straight from the file. The cost is that the executable's own code is not placed at a
//! random address (libraries, heap and stack still are): acceptable for a command that runs
//! for milliseconds, on the caller's own input. The long-running server,
//! `chartimpact-server`, stays position-independent. `CHARTIMPACT_PIE=1` at build time keeps
//! the CLI position-independent too (docs/SECURITY.md).
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CHARTIMPACT_PIE");
    let pie = std::env::var("CHARTIMPACT_PIE").is_ok_and(|v| v == "1");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") && !pie {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
