//! `emp-seal diff`.

use super::Ctx;
use super::args::DiffArgs;
use super::exit::{CliError, Outcome};

pub(super) fn run(_ctx: &Ctx, _a: DiffArgs) -> Result<Outcome, CliError> {
    Err(CliError::new(
        "`emp-seal diff` is not implemented in this build",
    ))
}
