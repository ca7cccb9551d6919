//! Which `*.env.example` files describe a `SealedSecret` an overlay renders: the one rule both
//! `emp-seal seal` (the keys it asks for) and `check`'s `example-sealed-mismatch` (the
//! environment's key set) follow, so that the two never disagree (docs/check.md, "The
//! environment's key set").

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Overlay, SealedRef};
use crate::workspace::{MAX_INPUT_BYTES, lexical};
use crate::{envfile, fsio};

/// The keys of the examples describing a `SealedSecret` ([`Overlay::sealed_example_keys`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleKeys {
    pub keys: BTreeSet<String>,
    /// False when one of those examples could not be read or parsed: its keys are unknown.
    pub complete: bool,
}

impl Overlay {
    /// The keys of the `*.env.example` files describing the `SealedSecret` named `name` (as
    /// written) in `file` (absolute, or as the build names it): those of the overlay's own
    /// directory if one belongs to it, else those beside its file when a base holds it. An
    /// example that an overlay's generator reads (`<env file>.example`, or the example itself)
    /// describes the generated object, never a `SealedSecret`. One named `<name>.env.example`
    /// belongs to the `SealedSecret` whose `metadata.name` as written is `<name>`; any other
    /// belongs to the `SealedSecret` only when it is the only one the overlay renders (in the
    /// overlay's directory) or the only one of the overlay's in that base directory.
    ///
    /// `examples_in` lists the `*.env.example` files directly in a directory (named as the
    /// build names files: relative to `root` when inside it), each with its keys (`None` when
    /// it could not be read or parsed). `None` when no example belongs to it.
    pub fn sealed_example_keys(
        &self,
        root: &Path,
        (file, name): (&Path, &str),
        examples_in: impl Fn(&Path) -> Vec<(PathBuf, Option<BTreeSet<String>>)>,
    ) -> Option<ExampleKeys> {
        let all: Vec<SealedRef> = self.sealed_secret_sources().collect();
        let read: BTreeSet<PathBuf> = (self.generated().iter())
            .flat_map(|g| g.specs.iter().flat_map(|s| &s.envs))
            .flat_map(|e| [lexical(&e.path), with_example(&lexical(&e.path))])
            .collect();
        let own = self.dir.strip_prefix(root).unwrap_or(&self.dir);
        let file = file.strip_prefix(root).unwrap_or(file);
        let beside = lexical(file.parent().unwrap_or(Path::new("")));
        let beside = (beside != own).then_some(beside.as_path());
        for dir in std::iter::once(own).chain(beside) {
            let owners = (all.iter())
                .filter(|s| dir == own || s.file.parent().map(lexical).as_deref() == Some(dir))
                .count();
            let belongs = |p: &Path| match all.iter().find(|s| stem(p) == s.name_in_file) {
                Some(s) => s.name_in_file == name,
                None => owners == 1,
            };
            let mut found = None::<ExampleKeys>;
            for (path, keys) in examples_in(dir) {
                if read.contains(&lexical(&path)) || !belongs(&path) {
                    continue;
                }
                let f = found.get_or_insert_with(|| ExampleKeys {
                    keys: BTreeSet::new(),
                    complete: true,
                });
                match keys {
                    Some(k) => f.keys.extend(k),
                    None => f.complete = false,
                }
            }
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

/// `<path>.example`.
fn with_example(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".example");
    PathBuf::from(s)
}

/// The `<name>` of `<dir>/<name>.env.example`.
fn stem(path: &Path) -> &str {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.strip_suffix(".env.example").unwrap_or(name)
}

/// The `*.env.example` files directly in `dir` (relative to `root`, or absolute) as they are on
/// disk, each with its keys (`None` when it cannot be read or parsed): the listing
/// [`Overlay::sealed_example_keys`] takes, for `seal`, and for `check` where a directory is
/// outside the tree it loaded (beside a base above the root).
pub fn examples_on_disk(root: &Path, dir: &Path) -> Vec<(PathBuf, Option<BTreeSet<String>>)> {
    (std::fs::read_dir(root.join(dir)).into_iter().flatten())
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".env.example"))
        .map(|n| (dir.join(&n), keys_on_disk(&root.join(dir).join(n))))
        .collect()
}

/// The keys of an example that reads and parses. A line without `=` may be a piece of a value,
/// however key-like it looks: never a key to ask for or to list as missing.
fn keys_on_disk(path: &Path) -> Option<BTreeSet<String>> {
    let bytes = fsio::read_limited(path, MAX_INPUT_BYTES).ok()?;
    let parsed = envfile::parse(&bytes).ok()?;
    let keys = parsed.key_entries().filter(|e| e.has_equals);
    Some(keys.map(|e| e.key.clone()).collect())
}
