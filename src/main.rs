//! The `emp-seal` binary: everything lives in the library's `cli` module.

/// musl builds (the Linux release binary, docs/performance.md) allocate with mimalloc, for Rust
/// and, through the crate's `override` feature, for C (AWS-LC): with musl's own allocator a 1-key
/// seal took 2.4 ms instead of 1.8 ms, and with only AWS-LC left on it, 100 keys took 7.2 ms
/// instead of 6.3 ms. glibc builds keep glibc's malloc, which measured the same as mimalloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    emp_seal::cli::main()
}
