//! Links the CLI as a position-dependent executable on Linux.
//!
//! A position-independent executable is relocated by the dynamic loader at every start:
//! about 44,000 relocations and 190 copy-on-write page faults for the vtables and static
//! tables, a millisecond or so of a render that takes a few (`chartimpact render` of a small
//! chart). A fixed load address needs none of that, as Go binaries such as `helm` do. The
//! server binary stays position-independent.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && (env == "gnu" || env == "musl") {
        println!("cargo:rustc-link-arg-bin=chartimpact=-no-pie");
    }
}
