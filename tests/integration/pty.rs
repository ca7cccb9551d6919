//! Issue 6: interactive prompts driven through a real pseudo-terminal (python's `pty` module
//! forks the binary with the pty as its controlling terminal, stdin, stdout and stderr). The
//! typed values travel to the driver over its stdin as JSON, never argv, and must not be echoed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common;
use crate::fixtures;
use crate::lifecycle::{env_text, read, run, s, tree, unsealed, write};

/// Forks `argv` on a pty; for each step waits until `expect` appears in the output after the
/// previous match, then types `send`. Reads to the end and reports the transcript and exit code.
/// The timeout only stops a hung child; it is not a timing assertion.
const DRIVER: &str = r#"
import json, os, pty, select, signal, sys, termios, time
hidden = []
req = json.loads(sys.stdin.readline())
pid, fd = pty.fork()
if pid == 0:
    os.chdir(req["cwd"])
    os.execve(req["argv"][0], req["argv"], req["env"])
out = b""
pos = 0
def pump(deadline):
    global out
    r, _, _ = select.select([fd], [], [], max(0.0, min(1.0, deadline - time.time())))
    if not r:
        return True
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        return False
    if not chunk:
        return False
    out += chunk
    return True
alive = True
for step in req["steps"]:
    want = step["expect"].encode()
    deadline = time.time() + 60
    while alive and out.find(want, pos) < 0 and time.time() < deadline:
        alive = pump(deadline)
    i = out.find(want, pos)
    if i < 0:
        break
    pos = i + len(want)
    # Type only once the program has switched terminal echo off: input typed earlier would be
    # echoed by the line discipline (and flushed when the program changes the mode).
    while alive and termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < deadline:
        alive = pump(time.time() + 0.01)
    hidden.append(not termios.tcgetattr(fd)[3] & termios.ECHO)
    os.write(fd, step["send"].encode())
deadline = time.time() + 60
while alive and time.time() < deadline:
    alive = pump(deadline)
if alive:
    os.kill(pid, signal.SIGKILL)
_, status = os.waitpid(pid, 0)
print(json.dumps({"transcript": out.decode("utf-8", "replace"), "code": os.waitstatus_to_exitcode(status), "hidden": hidden}))
"#;

struct Step<'a> {
    expect: &'a str,
    send: String,
}

struct PtyRun {
    transcript: String,
    code: i32,
    /// For each step: terminal echo was off when the answer was typed.
    hidden: Vec<bool>,
}

fn python() -> Option<PathBuf> {
    let venv = common::repo_root().join(".venv-peer/bin/python");
    if venv.is_file() {
        return Some(venv);
    }
    common::which("python3")
}

fn on_pty(root: &Path, args: &[&str], steps: &[Step<'_>]) -> Option<PtyRun> {
    let Some(py) = python() else {
        common::missing("python3 (pty driver)");
        return None;
    };
    let bin = assert_cmd::cargo::cargo_bin("emp-seal");
    let mut argv = vec![bin.display().to_string(), "-C".into(), s(root).into()];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("PATH".into(), std::env::var("PATH").unwrap_or_default());
    env.insert("TERM".into(), "xterm".into());
    env.insert("HOME".into(), s(root).into());
    let req = serde_json::json!({
        "cwd": s(root),
        "argv": argv,
        "env": env,
        "steps": steps.iter().map(|st| serde_json::json!({"expect": st.expect, "send": st.send})).collect::<Vec<_>>(),
    });
    let mut child = Command::new(py)
        .arg("-c")
        .arg(DRIVER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pty driver");
    writeln!(child.stdin.take().expect("stdin"), "{req}").expect("send request");
    let out = child.wait_with_output().expect("pty driver");
    assert!(
        out.status.success(),
        "pty driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("driver JSON");
    Some(PtyRun {
        transcript: v["transcript"].as_str().unwrap_or("").to_owned(),
        code: i32::try_from(v["code"].as_i64().unwrap_or(-1)).unwrap_or(-1),
        hidden: v["hidden"]
            .as_array()
            .map(|a| a.iter().map(|b| b.as_bool() == Some(true)).collect())
            .unwrap_or_default(),
    })
}

#[test]
fn issue_6_init_dev_asks_each_value_hidden() {
    let t = tree();
    let root = t.path();
    let typed_pg = "typed-postgres-pw";
    let typed_api = "typed api key # not a comment";
    let steps = [
        Step {
            expect: "POSTGRES_PASSWORD",
            send: format!("{typed_pg}\n"),
        },
        Step {
            expect: "REDIS_PASSWORD",
            send: "\n".into(),
        },
        Step {
            expect: "API_KEY",
            send: format!("{typed_api}\n"),
        },
    ];
    let Some(r) = on_pty(root, &["init", "dev"], &steps) else {
        return;
    };
    assert_eq!(r.code, 0, "{}", r.transcript);
    assert_eq!(r.hidden, [true; 3], "echo was on at a prompt");
    for v in [typed_pg, typed_api] {
        assert!(!r.transcript.contains(v), "echoed: {}", r.transcript);
    }
    let dev = root.join("k8s/overlays/dev");
    let example = read(&dev.join("dev-secrets.env.example"));
    let want = example
        .replace(
            "POSTGRES_PASSWORD=change-me-postgres",
            &format!("POSTGRES_PASSWORD={typed_pg}"),
        )
        .replace("API_KEY=change-me-api-key", &format!("API_KEY={typed_api}"));
    assert_eq!(read(&dev.join("dev-secrets.env")), want);
    if common::kubectl().is_some() {
        let rendered = common::kustomize(&dev);
        assert!(rendered.contains("kind: Secret"), "dev renders its Secret");
    }
}

#[test]
fn issue_6_seal_prompts_for_missing_keys_hidden() {
    let t = tree();
    let root = t.path();
    let partial = root.join("work/partial.env");
    write(&partial, &env_text(&[("API_KEY", "file-api-key")]));
    let steps = [
        Step {
            expect: "POSTGRES_PASSWORD",
            send: "typed-pg-value\n".into(),
        },
        Step {
            expect: "REDIS_PASSWORD",
            send: "typed redis value\n".into(),
        },
    ];
    let Some(r) = on_pty(root, &["paper", "--from", s(&partial)], &steps) else {
        return;
    };
    assert_eq!(r.code, 0, "{}", r.transcript);
    assert_eq!(r.hidden, [true; 2], "echo was on at a prompt");
    for v in ["typed-pg-value", "typed redis value", "file-api-key"] {
        assert!(!r.transcript.contains(v), "echoed: {}", r.transcript);
    }
    let got = unsealed(root);
    assert_eq!(got["API_KEY"], b"file-api-key");
    assert_eq!(got["POSTGRES_PASSWORD"], b"typed-pg-value");
    assert_eq!(got["REDIS_PASSWORD"], b"typed redis value");
}

#[test]
fn issue_6_unseal_refuses_a_terminal_without_reveal() {
    let t = tree();
    let root = t.path();
    let from = root.join("work/in.env");
    write(
        &from,
        &env_text(&[
            ("API_KEY", "shown-only-with-reveal"),
            ("POSTGRES_PASSWORD", "p"),
            ("REDIS_PASSWORD", "r"),
        ]),
    );
    let o = run(root, &["paper", "--from", s(&from)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let key = root.join("work/k.pem");
    write(&key, &fixtures::demo_key_pem());
    let Some(r) = on_pty(
        root,
        &["unseal", "paper", "--key", s(&key), "--format", "env"],
        &[],
    ) else {
        return;
    };
    assert_eq!(r.code, 2, "{}", r.transcript);
    assert!(r.transcript.contains("--reveal"), "{}", r.transcript);
    assert!(!r.transcript.contains("shown-only-with-reveal"));
    let Some(r) = on_pty(
        root,
        &[
            "unseal",
            "paper",
            "--key",
            s(&key),
            "--format",
            "env",
            "--reveal",
        ],
        &[],
    ) else {
        return;
    };
    assert_eq!(r.code, 0, "{}", r.transcript);
    assert!(
        r.transcript.contains("API_KEY=shown-only-with-reveal"),
        "{}",
        r.transcript
    );
}

/// An example's key written without `=` that a workload of the overlay reads by name is asked
/// for on a terminal (it was refused, naming the example's line), and the answer is sealed.
#[test]
fn seal_prompts_for_a_bare_example_key_a_workload_reads() {
    let t = tree();
    let root = t.path();
    crate::lifecycle::bare_example_key_read_by_a_workload(root);
    let from = root.join("work/in.env");
    write(
        &from,
        &env_text(&[
            ("API_KEY", "file-api-key"),
            ("POSTGRES_PASSWORD", "file-pg"),
            ("REDIS_PASSWORD", "file-redis"),
        ]),
    );
    let steps = [Step {
        expect: "paper: value for API_TOKEN",
        send: "typed-token\n".into(),
    }];
    let Some(r) = on_pty(root, &["paper", "--from", s(&from)], &steps) else {
        return;
    };
    assert_eq!(r.code, 0, "{}", r.transcript);
    assert_eq!(r.hidden, [true], "echo was on at the prompt");
    assert!(!r.transcript.contains("typed-token"), "{}", r.transcript);
    assert_eq!(unsealed(root)["API_TOKEN"], b"typed-token");
}

/// Issue 14 item 9: end of input (Ctrl-D) at the hidden prompt abandons the run with exit 2 and
/// writes nothing; it is not an empty value.
#[test]
fn issue_14_eof_at_the_seal_prompt_aborts_and_writes_nothing() {
    let t = tree();
    let root = t.path();
    let target = root.join("k8s/overlays/paper/sealedsecret.yaml");
    let before = read(&target);
    let partial = root.join("work/partial.env");
    write(&partial, &env_text(&[("API_KEY", "file-api-key")]));
    // Ctrl-D at the first prompt; then Ctrl-D after typing part of an answer at the second.
    for steps in [
        vec![Step {
            expect: "POSTGRES_PASSWORD",
            send: "\u{4}".into(),
        }],
        vec![
            Step {
                expect: "POSTGRES_PASSWORD",
                send: "typed-pg\n".into(),
            },
            Step {
                expect: "REDIS_PASSWORD",
                send: "half-typed\u{4}\u{4}".into(),
            },
        ],
    ] {
        let Some(r) = on_pty(root, &["paper", "--from", s(&partial)], &steps) else {
            return;
        };
        assert_eq!(r.code, 2, "{}", r.transcript);
        assert!(
            r.transcript.contains("end of input at the prompt for `")
                && r.transcript.contains("nothing was written"),
            "{}",
            r.transcript
        );
        assert!(!r.transcript.contains("wrote"), "{}", r.transcript);
        for v in ["typed-pg", "half-typed", "file-api-key"] {
            assert!(!r.transcript.contains(v), "echoed: {}", r.transcript);
        }
        assert_eq!(read(&target), before, "the file changed");
    }
}

/// Issue 14 item 9: an empty answer is asked again (a sealed empty value would quietly weaken
/// the secret); the second answer is the one sealed.
#[test]
fn issue_14_empty_answer_at_the_seal_prompt_is_asked_again() {
    let t = tree();
    let root = t.path();
    let partial = root.join("work/partial.env");
    write(
        &partial,
        &env_text(&[
            ("API_KEY", "file-api-key"),
            ("REDIS_PASSWORD", "file-redis"),
        ]),
    );
    let steps = [
        Step {
            expect: "paper: value for POSTGRES_PASSWORD",
            send: "\n".into(),
        },
        Step {
            expect: "`POSTGRES_PASSWORD` needs a value",
            send: String::new(),
        },
        Step {
            expect: "paper: value for POSTGRES_PASSWORD",
            send: "second-answer\n".into(),
        },
    ];
    let Some(r) = on_pty(root, &["paper", "--from", s(&partial)], &steps) else {
        return;
    };
    assert_eq!(r.code, 0, "{}", r.transcript);
    assert_eq!(r.hidden, [true; 3], "echo was on at a prompt");
    assert!(!r.transcript.contains("second-answer"), "{}", r.transcript);
    assert_eq!(unsealed(root)["POSTGRES_PASSWORD"], b"second-answer");
}

/// A paste over several lines at the hidden prompt (a PEM key) is discarded whole and asked
/// again: its lines never become the next keys' answers, nor wait in the terminal for the shell.
/// A blank answer is asked again like an empty one; edge whitespace is kept, with a warning.
#[test]
fn a_paste_over_several_lines_at_the_prompt_is_discarded_and_asked_again() {
    let t = tree();
    let root = t.path();
    let partial = root.join("work/partial.env");
    write(&partial, &env_text(&[("POSTGRES_PASSWORD", "file-pg")]));
    let pasted = [
        "pasted-first-line",
        "pasted-second-line",
        "pasted-third-line",
    ];
    let steps = [
        Step {
            expect: "paper: value for API_KEY",
            send: format!("{}\n", pasted.join("\n")),
        },
        Step {
            expect: "ran over several lines",
            send: String::new(),
        },
        Step {
            expect: "paper: value for API_KEY",
            send: " \t \n".into(),
        },
        Step {
            expect: "`API_KEY` needs a value",
            send: String::new(),
        },
        Step {
            expect: "paper: value for API_KEY",
            send: "typed-api\n".into(),
        },
        Step {
            expect: "paper: value for REDIS_PASSWORD",
            send: "typed-redis \n".into(),
        },
    ];
    let Some(r) = on_pty(root, &["paper", "--from", s(&partial)], &steps) else {
        return;
    };
    assert_eq!(r.code, 0, "{}", r.transcript);
    assert!(r.hidden.iter().all(|h| *h), "echo was on at a prompt");
    for v in pasted.iter().chain(&["typed-api", "typed-redis"]) {
        assert!(!r.transcript.contains(v), "echoed: {}", r.transcript);
    }
    assert!(
        r.transcript
            .contains("the value for `REDIS_PASSWORD` begins or ends with whitespace"),
        "{}",
        r.transcript
    );
    let got = unsealed(root);
    assert_eq!(got["API_KEY"], b"typed-api");
    assert_eq!(got["REDIS_PASSWORD"], b"typed-redis ");
    assert_eq!(got["POSTGRES_PASSWORD"], b"file-pg");
}

/// Issue 17: `--from -` reads a pipe; on a terminal it refuses (values would be typed with echo
/// on) and points at piping or the hidden prompt, writing nothing.
#[test]
fn issue_17_from_dash_refuses_a_terminal() {
    let t = tree();
    let root = t.path();
    let target = root.join("k8s/overlays/paper/sealedsecret.yaml");
    let before = read(&target);
    let Some(r) = on_pty(root, &["paper", "--from", "-"], &[]) else {
        return;
    };
    assert_eq!(r.code, 2, "{}", r.transcript);
    assert!(
        r.transcript.contains("standard input is a terminal"),
        "{}",
        r.transcript
    );
    assert!(r.transcript.contains("--from -"), "{}", r.transcript);
    assert_eq!(read(&target), before);
}
