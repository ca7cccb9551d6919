//! `emp-seal cert [ENV|PATH] [--fetch [URL] [--ca-cert PATH]] [--json]`: inspect sealing
//! certificates, or fetch a controller's certificate (from URL, else from the URL the config file
//! names for the environment) and save it after checking it. Exit 1 when a certificate is expired
//! or expires within 30 days.

use std::fmt::Write as _;

use crate::certinfo::{self, CertReport, SealedState};
use crate::workspace::rel;

use super::args::CertArgs;
use super::exit::{CliError, Outcome};
use super::{Ctx, write_stdout};

/// What to do after `--fetch` replaced `target`'s certificate: the command that re-encrypts the
/// values sealed with the old one (`reseal`, as `check`'s `stale-certificate` names it).
fn rotation_note(target: &str) -> String {
    // A certificate file named on its own belongs to no one environment.
    let env = match std::path::Path::new(target).is_file() {
        true => "ENV",
        false => target,
    };
    format!(
        "values sealed with the old certificate still decrypt while the controller keeps its old key; `emp-seal reseal {env} --key OLD_KEY.pem` re-encrypts them with the new one"
    )
}

pub(super) fn run(ctx: &Ctx, a: &CertArgs) -> Result<Outcome, CliError> {
    let root = ctx.root()?;
    let now = super::now();
    if let Some(given) = &a.fetch {
        // `cert --fetch prod`: clap hands `prod` to --fetch. A word with no scheme is no URL, so
        // with no other target it is the environment, and the URL comes from the config.
        let (target, given) = match (a.target.as_deref(), given.as_deref()) {
            (None, Some(word)) if !word.contains("://") => (Some(word), None),
            (target, given) => (target, given),
        };
        let target = &super::env_or_file(
            &root,
            target.ok_or(certinfo::CertInfoError::FetchNeedsTarget)?,
        );
        let url = &certinfo::fetch_url(&root, target, given)?;
        if given.is_none() && !ctx.quiet {
            say!("fetching {url} (the certificate URL the config file names for {target})");
        }
        if a.ca_cert.is_some() && !ctx.quiet && !certinfo::is_https(url) {
            say!("note: --ca-cert applies to https URLs only; {url} is fetched without it");
        }
        let opts = certinfo::FetchOptions {
            ca_cert: a.ca_cert.clone(),
        };
        let saved = certinfo::save_fetched(&root, target, url, &opts, now)?;
        if !ctx.quiet {
            let (what, was) = match &saved.replaced {
                Some(old) if *old == saved.info.sha256 => {
                    ("unchanged (same certificate)", String::new())
                }
                Some(old) => ("replaced", format!("\n  was      sha256 {old}")),
                None => ("saved", String::new()),
            };
            say!(
                "{}: {what}\n  subject  {}\n  sha256   {}{was}\n  expires  {} ({})",
                rel(&root, &saved.path),
                saved.info.subject,
                saved.info.sha256,
                crate::cert::rfc3339(saved.info.not_after),
                left(saved.info.days_left)
            );
            if !was.is_empty() {
                say!("note: {}", rotation_note(target));
            }
        }
        return Ok(Outcome::Clean);
    }
    let target = a.target.as_deref().map(|t| super::env_or_file(&root, t));
    let (reports, not_there) = certinfo::inspect(&root, target.as_deref(), now)?;
    for (env, path) in not_there {
        say!("note: {env}: no sealing certificate at {path}, not inspected");
    }
    for (path, label) in reports.iter().flat_map(|r| &r.private_keys) {
        say!(
            "warning: {}",
            super::seal_cmd::private_key_warning(&rel(&root, path), label)
        );
    }
    let out = if a.json {
        json(&root, &reports)
    } else {
        text(&root, &reports)
    };
    write_stdout(out.as_bytes())?;
    if reports.iter().any(|r| r.info.needs_attention()) {
        Ok(Outcome::Findings)
    } else {
        Ok(Outcome::Clean)
    }
}

fn state_text(s: &SealedState) -> String {
    match s {
        SealedState::WithThis => "sealed with this certificate".to_owned(),
        SealedState::WithOther { sha256 } => {
            format!("sealed with another certificate (sha256 {sha256})")
        }
        SealedState::RecordButValuesDiffer { keys } => format!(
            "recorded as sealed with this certificate, but {} cannot come from its key",
            keys.join(", ")
        ),
        SealedState::NotThis { keys } => format!(
            "not sealed with this certificate ({} cannot come from its key)",
            keys.join(", ")
        ),
        SealedState::Unknown => {
            "unknown, not verified (no emp-seal.dev/cert-sha256 record; the values fit this key's size, which does not show they were sealed for it)"
                .to_owned()
        }
        SealedState::NotSealed => "not sealed yet (placeholders)".to_owned(),
        SealedState::Unreadable { reason } => {
            format!("cannot be read, so not compared with this certificate: {reason}")
        }
    }
}

fn state_code(s: &SealedState) -> &'static str {
    match s {
        SealedState::WithThis => "this",
        SealedState::WithOther { .. } => "other",
        SealedState::RecordButValuesDiffer { .. } => "record-mismatch",
        SealedState::NotThis { .. } => "not-this",
        SealedState::Unknown => "unknown",
        SealedState::NotSealed => "not-sealed",
        SealedState::Unreadable { .. } => "unreadable",
    }
}

/// `12 days left`, `1 day left`, `EXPIRED 3 days ago`.
fn left(days_left: i64) -> String {
    let days = crate::cert::days(days_left.unsigned_abs());
    if days_left < 0 {
        format!("EXPIRED {days} ago")
    } else {
        format!("{days} left")
    }
}

fn text(root: &std::path::Path, reports: &[CertReport]) -> String {
    let mut o = String::new();
    for (i, r) in reports.iter().enumerate() {
        let c = &r.info;
        if i > 0 {
            o.push('\n');
        }
        let left = left(c.days_left);
        let _ = writeln!(o, "{}", rel(root, &c.path));
        let _ = writeln!(o, "  subject      {}", c.subject);
        let _ = writeln!(o, "  key          RSA {} bits", c.key_bits);
        let _ = writeln!(o, "  not before   {}", crate::cert::rfc3339(c.not_before));
        let _ = writeln!(
            o,
            "  not after    {} ({left})",
            crate::cert::rfc3339(c.not_after)
        );
        let _ = writeln!(o, "  sha256       {}", c.sha256);
        let _ = writeln!(o, "  key sha256   {}", c.ssh_fingerprint);
        if c.demo {
            let _ = writeln!(
                o,
                "  demo         yes: its private key is public, so nothing sealed with it is secret"
            );
        }
        let used = match r.used_by.len() {
            0 => "no overlay".to_owned(),
            1 => r.used_by.join(", "),
            n => format!(
                "{} (shared: these {n} environments seal with this one certificate)",
                r.used_by.join(", ")
            ),
        };
        let _ = writeln!(o, "  used by      {used}");
        // One line per SealedSecret each overlay renders: NAMESPACE/NAME in FILE.
        for s in &r.sealed {
            let what = match &s.name {
                Some(name) => format!("{name} in {}", rel(root, &s.file)),
                None => rel(root, &s.file),
            };
            let _ = writeln!(o, "  {:<12} {what}: {}", "sealed", state_text(&s.state));
        }
    }
    o
}

fn json(root: &std::path::Path, reports: &[CertReport]) -> String {
    let certs: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let c = &r.info;
            serde_json::json!({
                "path": rel(root, &c.path),
                "subject": c.subject,
                "key_bits": c.key_bits,
                "not_before": crate::cert::rfc3339(c.not_before),
                "not_after": crate::cert::rfc3339(c.not_after),
                "days_left": c.days_left,
                "sha256": c.sha256,
                "ssh_fingerprint": c.ssh_fingerprint,
                "demo": c.demo,
                // The label of a private-key block the file also holds (never its content).
                "private_key": r.private_keys.iter().find(|(p, _)| *p == c.path).map(|(_, l)| l),
                "used_by": r.used_by,
                "sealed": r.sealed.iter().map(|s| serde_json::json!({
                    "env": s.env,
                    "name": s.name,
                    "file": rel(root, &s.file),
                    "state": state_code(&s.state),
                    "detail": state_text(&s.state),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&serde_json::json!({
        "version": 1,
        "certificates": certs,
    }))
    .unwrap_or_default();
    s.push('\n');
    s
}
