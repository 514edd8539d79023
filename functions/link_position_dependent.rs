//! Build script shared by the Lambda functions (and the cold-start yardstick
//! `bench/hello-lambda`, built the same way): link a position-dependent
//! executable.
//!
//! A position-independent one (Rust's default) carries ~22,000 relative
//! relocations (vtables, static tables of the SDKs), which the dynamic loader
//! applies at every cold start, writing ~90 pages of `.data.rel.ro` copies:
//! ~0.2–0.3 ms of a 1.5–2 ms init (docs/decisions.md, "Cold start and size").
//! Linux only: that is where the functions run (and `-no-pie` is a GNU/LLVM
//! linker flag).
//! The objects stay position-independent; only the link changes, so this is
//! a per-binary link argument, not a compiler flag (proc macros need PIC).
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
