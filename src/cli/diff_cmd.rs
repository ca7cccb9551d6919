//! `emp-seal diff ENV --from FILE --key KEY...`: which keys of FILE differ from ENV's sealed
//! values (`spec.encryptedData`), never the values. Exit 0 when they agree, 1 when any key
//! differs. A key `spec.template.data` also sets is marked: the controller's Secret holds the
//! template's result there, whatever is sealed.

use crate::recover;
use crate::workspace::rel;

use super::args::DiffArgs;
use super::exit::{CliError, Outcome};
use super::{Ctx, write_stdout};

pub(super) fn run(ctx: &Ctx, a: &DiffArgs) -> Result<Outcome, CliError> {
    let root = ctx.root()?;
    let (from, _) = crate::workspace::resolve_from(&root, &a.from, std::slice::from_ref(&a.env))?;
    // `.` typed in an overlay directory is that overlay, as for `seal` and `check --release`.
    let env = &crate::workspace::env_name(&root, &a.env);
    let d = recover::diff(&root, env, (&from, a.name.as_deref()), &a.keys)?;
    let mut lines: Vec<(&String, char, &str)> = [
        (&d.same, '=', "same"),
        (
            &d.overridden,
            '!',
            "same sealed value, but spec.template.data sets the key in the Secret",
        ),
        (&d.changed, '~', "changed"),
        (&d.added, '+', "only in the env file (not sealed yet)"),
        (&d.removed, '-', "sealed, not in the env file"),
        (&d.placeholders, '?', "placeholder in the SealedSecret"),
    ]
    .into_iter()
    .flat_map(|(keys, mark, what)| keys.iter().map(move |k| (k, mark, what)))
    .collect();
    lines.sort();
    let mut out = format!("{} {} vs {}\n", env, rel(&root, &d.file), rel(&root, &from));
    for (k, mark, what) in &lines {
        // The Secret holds a rendered template under such a key, whatever is sealed.
        let note = match *mark != '!' && d.templated.contains(k) {
            true => " (spec.template.data sets the key in the Secret)",
            false => "",
        };
        out.push_str(&format!("{mark} {k}  {what}{note}\n"));
    }
    write_stdout(out.as_bytes())?;
    if !ctx.quiet {
        let overridden = match d.overridden.len() {
            0 => String::new(),
            n => format!(", {n} set by spec.template.data"),
        };
        say!(
            "{}: {} same, {} changed, {} to add, {} only sealed, {} placeholder(s){overridden}",
            env,
            d.same.len(),
            d.changed.len(),
            d.added.len(),
            d.removed.len(),
            d.placeholders.len()
        );
    }
    Ok(if d.is_clean() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
