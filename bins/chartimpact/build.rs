//! Links the `chartimpact` CLI for a fast start on Linux: position-dependent, with the
//! unwinder linked in.
//!
//! A position-independent executable has its data tables (vtables, string tables, the regex
//! and Unicode tables of its dependencies) patched at every start: about 46,000 relocations
//! that dirty 800 KB of memory before `main`, which is 0.4 ms of a 4 ms `chartimpact render`
//! of a small chart (docs/BENCHMARKS.md). Linked at a fixed address, those tables are used
//! straight from the file. The cost is that the executable's own code is not placed at a
//! random address (libraries, heap and stack still are): acceptable for a command that runs
//! for milliseconds, on the caller's own input. The long-running server,
//! `chartimpact-server`, stays position-independent.
//!
//! Rust's standard library unwinds panics with libgcc's unwinder, linked as the shared
//! `libgcc_s.so.1` unless the C runtime is static. Loading it is one more library to map and
//! relocate at every start, and its constructor probes the CPU with a dozen `cpuid`
//! instructions, each a trip to the hypervisor on a virtual machine (~8 µs apiece on the CI
//! machine): 0.1–0.15 ms of every run. The same unwinder comes as a static archive,
//! `libgcc_eh.a`, which static Rust builds use; the script points the linker's `-lgcc_s` at
//! it, through a one-line linker script, when the C compiler can name it (else the shared one
//! stays).
//!
//! `CHARTIMPACT_PIE=1` at build time links the CLI the default way (docs/SECURITY.md).
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CHARTIMPACT_PIE");
    println!("cargo::rerun-if-env-changed=CC");
    let default_linking = std::env::var("CHARTIMPACT_PIE").is_ok_and(|v| v == "1");
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if !linux_gnu || default_linking {
        return;
    }
    println!("cargo::rustc-link-arg-bins=-no-pie");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Some(archive) = static_unwinder() {
        let dir = out.join("unwind");
        let script = format!("INPUT({})\n", archive.display());
        if std::fs::create_dir_all(&dir).is_ok()
            && std::fs::write(dir.join("libgcc_s.a"), script).is_ok()
        {
            // Searched before the system's directories, and in each directory the linker
            // takes `libgcc_s.a` when there is no `libgcc_s.so`.
            println!("cargo::rustc-link-search=native={}", dir.display());
        }
    }
}

/// The C compiler's `libgcc_eh.a`, when it has one.
fn static_unwinder() -> Option<PathBuf> {
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let out = std::process::Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    // A compiler without the file prints its bare name back.
    (out.status.success() && path.is_absolute() && Path::new(&path).is_file()).then_some(path)
}
