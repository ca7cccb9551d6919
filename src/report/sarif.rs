//! SARIF 2.1.0 (OASIS), as GitHub code scanning reads it: one run, the tool's rules under
//! `tool.driver.rules`, one result per finding, suppressed findings carrying `suppressions`, and
//! one invocation whose `toolExecutionNotifications` are the report's notes.
//!
//! Mapping: severity error/warning/note → `level` error/warning/note; rule `helpUri` is the
//! rule's section of docs/rules.md at the package's repository, left out when Cargo.toml names
//! none (SARIF requires an absolute URI there, and a relative one would point into the checked
//! repository); artifact URIs are the paths from the repository's top (the checked root's
//! place in its git repository before them: GitHub resolves them from its checkout),
//! percent-encoded, relative to `%SRCROOT%`. Validated against the official schema in
//! tests/integration/report.rs.

use serde_json::{Value, json};

use super::{Report, TOOL_NAME, TOOL_VERSION};

/// The `repository` of Cargo.toml (empty when unset).
const TOOL_REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");
use crate::finding::{Finding, Location};

/// The `$schema` written into every log.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Percent-encodes a repo-relative path for a URI reference (RFC 3986 unreserved characters,
/// `/` and the sub-delimiters SARIF consumers accept are kept).
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(report: &Report, l: &Location) -> Value {
    let mut region = json!({"startLine": l.line, "startColumn": l.column});
    if let Some(r) = &l.bytes {
        region["byteOffset"] = json!(r.start);
        region["byteLength"] = json!(r.end.saturating_sub(r.start));
    }
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri_path(&report.from_top(&l.path)), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }
    })
}

fn result(report: &Report, f: &Finding, rule_index: Option<usize>) -> Value {
    let text = match &f.unverified {
        Some(why) => format!("{}\nunverified: {why}\nhelp: {}", f.message, f.hint),
        None => format!("{}\nhelp: {}", f.message, f.hint),
    };
    let mut r = json!({
        "ruleId": f.rule.id,
        "level": f.severity.as_str(),
        "message": {"text": text},
        "locations": [location(report, &f.primary)],
    });
    if let Some(why) = &f.unverified {
        r["properties"] = json!({"unverified": why});
    }
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if !f.related.is_empty() {
        let related: Vec<Value> = (f.related.iter().enumerate())
            .map(|(i, l)| {
                let mut v = location(report, l);
                v["id"] = json!(i);
                v
            })
            .collect();
        r["relatedLocations"] = Value::Array(related);
    }
    if let Some(s) = &f.suppressed {
        let mut sup = json!({"kind": "inSource", "status": "accepted"});
        if let Some(j) = &s.justification {
            sup["justification"] = json!(j);
        }
        r["suppressions"] = json!([sup]);
    }
    r
}

pub fn log(report: &Report) -> Value {
    let rules: Vec<Value> = (report.rules.iter())
        .map(|m| {
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": {"text": m.summary},
                "help": {"text": m.hint},
                "defaultConfiguration": {"level": m.default_severity.as_str()},
            })
        })
        .collect();
    let rules: Vec<Value> = (rules.into_iter().zip(&report.rules))
        .map(|(mut r, m)| {
            if !TOOL_REPOSITORY.is_empty() {
                let repo = TOOL_REPOSITORY.trim_end_matches('/');
                r["helpUri"] = json!(format!("{repo}/blob/HEAD/{}", m.help_uri()));
            }
            r
        })
        .collect();
    let results: Vec<Value> = (report.findings.iter())
        .map(|f| {
            result(
                report,
                f,
                report.rules.iter().position(|m| m.id == f.rule.id),
            )
        })
        .collect();
    let mut driver = json!({
        "name": TOOL_NAME,
        "version": TOOL_VERSION,
        "fullDescription": {"text": env!("CARGO_PKG_DESCRIPTION")},
        "rules": rules,
    });
    // `informationUri` is this tool's home page: the package's repository when Cargo.toml names
    // one, else left out (SARIF 2.1.0 §3.19.17 makes it optional) rather than pointing elsewhere.
    if !TOOL_REPOSITORY.is_empty() {
        driver["informationUri"] = json!(TOOL_REPOSITORY);
    }
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            // Columns count characters (SARIF 2.1.0 §3.14.17: without this, UTF-16 code units).
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the repository's top level"}}},
            "invocations": [invocation(report)],
            "results": results,
        }]
    })
}

/// The run's invocation: it completed (findings are results, not a failed execution), and each
/// note of what it could not look at is a tool execution notification (SARIF 2.1.0 §3.20.21).
fn invocation(report: &Report) -> Value {
    let notifications: Vec<Value> = (report.notes.iter())
        .map(|n| {
            json!({
                "level": "note",
                "message": {"text": n.message},
                "descriptor": {"id": n.kind},
            })
        })
        .collect();
    json!({
        "executionSuccessful": true,
        "toolExecutionNotifications": notifications,
    })
}
