//! `emp-seal unseal ENV|FILE --key KEY...`: print the Secret the controller would create (YAML)
//! or its values as an env file. Refuses to print values to a terminal without `--reveal`.

use std::io::IsTerminal;

use crate::recover;
use crate::workspace::rel;

use super::args::{UnsealArgs, UnsealFormat};
use super::exit::{CliError, Outcome};
use super::{Ctx, write_stdout};

pub(super) fn run(ctx: &Ctx, a: &UnsealArgs) -> Result<Outcome, CliError> {
    let root = ctx.root()?;
    if std::io::stdout().is_terminal() && !a.reveal {
        return Err(
            CliError::new("refusing to print secret values to a terminal").with_hint(
                "redirect stdout to a file or a pipe, or add --reveal to show them here",
            ),
        );
    }
    let target = super::env_or_file(&root, &a.target);
    let secret = recover::unseal(&root, &target, a.name.as_deref(), &a.keys)?;
    let out = match a.format {
        UnsealFormat::Yaml => secret.to_yaml(),
        UnsealFormat::Env => secret.to_env()?,
    };
    if !secret.template_data_keys.is_empty() && !ctx.quiet {
        say!(
            "warning: {}: spec.template.data ({}) holds templates the controller renders; they are not included",
            rel(&root, &secret.file),
            secret.template_data_keys.join(", ")
        );
    }
    write_stdout(&out)?;
    if !ctx.quiet {
        say!(
            "{}: {} key(s) decrypted for {}",
            rel(&root, &secret.file),
            secret.data.len(),
            crate::seal::describe_identity(secret.scope, &secret.identity)
        );
    }
    Ok(Outcome::Clean)
}
