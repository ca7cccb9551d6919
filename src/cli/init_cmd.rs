//! `emp-seal init`.

use super::Ctx;
use super::args::InitArgs;
use super::exit::{CliError, Outcome};

pub(super) fn run(_ctx: &Ctx, _a: InitArgs) -> Result<Outcome, CliError> {
    Err(CliError::new(
        "`emp-seal init` is not implemented in this build",
    ))
}
