//! `emp-seal unseal ENV|FILE --key KEY...`: print the Secret the controller would create (YAML)
//! or its values as an env file. Refuses to print values to a terminal without `--reveal`.

use std::io::IsTerminal;
use std::path::Path;

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
    template_warnings(&root, &secret, a.format);
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

/// Warnings about `spec.template.data`, which the controller renders after decrypting and which
/// emp-seal does not render: a key it also sets holds the template's result in the controller's
/// Secret (left out of `--format yaml`; printed with its sealed value by `--format env`, which
/// `--from` reads back), and its other keys are not included. Printed under `-q` too: they say
/// what the output is not.
fn template_warnings(root: &Path, secret: &recover::UnsealedSecret, format: UnsealFormat) {
    let file = rel(root, &secret.file);
    let overridden = secret.overridden();
    if !overridden.is_empty() {
        say!(
            "warning: {file}: spec.template.data also sets {}: the controller's Secret holds the template's result there, not the sealed value; emp-seal does not render templates, so {}",
            overridden.join(", "),
            match format {
                UnsealFormat::Yaml => "the Secret printed here leaves those keys out",
                UnsealFormat::Env => "the lines printed here hold the sealed values",
            }
        );
    }
    let only = secret.template_only();
    if !only.is_empty() {
        say!(
            "warning: {file}: spec.template.data sets {}: templates the controller renders; not included",
            only.join(", ")
        );
    }
}
