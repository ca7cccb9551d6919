//! The `emp-seal` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    emp_seal::cli::main()
}
