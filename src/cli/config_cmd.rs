//! `emp-seal config`: the effective layout (environments, directories, certificates, how each
//! was found), from the config file or discovery.

use serde_json::json;

use crate::workspace::{self, CertSource, Environment, Workspace, rel};

use super::Ctx;
use super::args::{ConfigArgs, ConfigFormat};
use super::exit::{CliError, Outcome};

pub(super) fn run(ctx: &Ctx, a: &ConfigArgs) -> Result<Outcome, CliError> {
    let root = ctx.root()?;
    let ws = workspace::load_cached(&root).map_err(|e| CliError::new(e.to_string()))?;
    crate::check::usable_workspace(&ws)?;
    let text = match a.format {
        ConfigFormat::Text => text(&ws),
        ConfigFormat::Json => {
            serde_json::to_string_pretty(&as_json(&ws)).unwrap_or_default() + "\n"
        }
    };
    super::write_stdout(text.as_bytes())?;
    Ok(Outcome::Clean)
}

fn cert_line(ws: &Workspace, e: &Environment) -> String {
    let source = match e.cert_source {
        CertSource::Default => "default",
        CertSource::Config { .. } => "from the config file",
    };
    let state = if e.cert.is_file() { "" } else { ", missing" };
    let shared: Vec<&str> = ws
        .envs
        .iter()
        .filter(|o| o.name != e.name && o.cert == e.cert)
        .map(|o| o.name.as_str())
        .collect();
    let shared = if shared.is_empty() {
        String::new()
    } else {
        format!(", shared with {}", shared.join(", "))
    };
    format!("{} ({source}{state}{shared})", rel(&ws.root, &e.cert))
}

fn text(ws: &Workspace) -> String {
    let mut out = format!("root          {}\n", ws.root.display());
    out.push_str(&match &ws.config_file {
        Some(f) => format!("config        {f}\n"),
        None => {
            "config        none (environments discovered from the kustomization graph)\n".to_owned()
        }
    });
    for e in &ws.envs {
        out.push_str(&format!("\n{}\n", e.name));
        out.push_str(&format!("  directory   {}\n", e.rel));
        out.push_str(&format!("  found       {}\n", e.found));
        out.push_str(&format!("  certificate {}\n", cert_line(ws, e)));
        if let Some(u) = &e.cert_url {
            out.push_str(&format!("  fetch from  {u}\n"));
        }
        if let Some(s) = e.scope {
            out.push_str(&format!("  scope       {}\n", s.as_str()));
        }
        if !e.variants.is_empty() {
            out.push_str(&format!("  variants    {}\n", e.variants.join(", ")));
        }
    }
    out
}

fn as_json(ws: &Workspace) -> serde_json::Value {
    let envs: Vec<serde_json::Value> = ws
        .envs
        .iter()
        .map(|e| {
            json!({
                "name": e.name,
                "directory": e.rel,
                "found": e.found.to_string(),
                "certificate": rel(&ws.root, &e.cert),
                "certificate_source": match e.cert_source {
                    CertSource::Default => "default",
                    CertSource::Config { .. } => "config",
                },
                "certificate_exists": e.cert.is_file(),
                "certificate_url": e.cert_url,
                "scope": e.scope.map(|s| s.as_str()),
                "variants": e.variants,
            })
        })
        .collect();
    json!({
        "root": ws.root.display().to_string(),
        "config": ws.config_file,
        "environments": envs,
    })
}
