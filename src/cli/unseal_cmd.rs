//! `emp-seal unseal`.

use super::Ctx;
use super::args::UnsealArgs;
use super::exit::{CliError, Outcome};

pub(super) fn run(_ctx: &Ctx, _a: UnsealArgs) -> Result<Outcome, CliError> {
    Err(CliError::new(
        "`emp-seal unseal` is not implemented in this build",
    ))
}
