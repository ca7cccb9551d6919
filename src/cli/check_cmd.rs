//! `emp-seal check`.

use super::Ctx;
use super::args::CheckArgs;
use super::exit::{CliError, Outcome};

pub(super) fn run(_ctx: &Ctx, _a: CheckArgs) -> Result<Outcome, CliError> {
    Err(CliError::new(
        "`emp-seal check` is not implemented in this build",
    ))
}
