//! The `emp-seal` binary.
fn main() {}
