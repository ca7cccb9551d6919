//! `emp-seal cert`.

use super::Ctx;
use super::args::CertArgs;
use super::exit::{CliError, Outcome};

pub(super) fn run(_ctx: &Ctx, _a: CertArgs) -> Result<Outcome, CliError> {
    Err(CliError::new(
        "`emp-seal cert` is not implemented in this build",
    ))
}
