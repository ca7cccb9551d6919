//! `emp-seal seal ENV --from FILE --migrate`: move an overlay from a SecretGenerator to a
//! SealedSecret.

use super::Ctx;
use super::args::SealArgs;
use super::exit::{CliError, Outcome};

pub(super) fn run(_ctx: &Ctx, _a: &SealArgs) -> Result<Outcome, CliError> {
    Err(CliError::new(
        "`--migrate` is not implemented in this build",
    ))
}
