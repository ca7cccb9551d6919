//! Which `*.env.example` files describe a `SealedSecret` an overlay renders: the one rule both
//! `emp-seal seal` (the keys it asks for) and `check`'s `example-sealed-mismatch` (the
//! environment's key set) follow, so that the two never disagree (docs/check.md, "The
//! environment's key set").

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Overlay, SealedRef};
use crate::workspace::{MAX_FILE_BYTES, lexical};
use crate::{envfile, fsio};

/// The keys of the examples describing a `SealedSecret` ([`Overlay::sealed_example_keys`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleKeys {
    pub keys: BTreeSet<String>,
    /// Of `keys`, those an example gives on a line without `=` (kustomize v5 reads a key there),
    /// with that example and line: such a line may be a piece of a pasted value, so a message
    /// names it by its place, never by its content.
    pub bare: Vec<(String, PathBuf, usize)>,
    /// False when one of those examples could not be read or parsed: its keys are unknown.
    pub complete: bool,
}

/// One example's keys, as [`Overlay::sealed_example_keys`] takes them: every key kustomize v5
/// reads, and of those the keys of lines without `=` with their lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFile {
    pub keys: BTreeSet<String>,
    pub bare: Vec<(String, usize)>,
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
        examples_in: impl Fn(&Path) -> Vec<(PathBuf, Option<ExampleFile>)>,
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
                    bare: Vec::new(),
                    complete: true,
                });
                match keys {
                    Some(k) => {
                        f.keys.extend(k.keys);
                        let bare = k.bare.into_iter();
                        f.bare
                            .extend(bare.map(|(key, line)| (key, path.clone(), line)));
                    }
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
pub fn examples_on_disk(root: &Path, dir: &Path) -> Vec<(PathBuf, Option<ExampleFile>)> {
    (std::fs::read_dir(root.join(dir)).into_iter().flatten())
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".env.example"))
        .map(|n| (dir.join(&n), keys_on_disk(&root.join(dir).join(n))))
        .collect()
}

/// The keys of an example that reads and parses (read with the limit `check` reads the tree's
/// files with, so that both judge the same example).
fn keys_on_disk(path: &Path) -> Option<ExampleFile> {
    let bytes = fsio::read_limited(path, MAX_FILE_BYTES).ok()?;
    let parsed = envfile::parse(&bytes).ok()?;
    Some(ExampleFile {
        keys: parsed.key_entries().map(|e| e.key.clone()).collect(),
        bare: (parsed.key_entries().filter(|e| !e.has_equals))
            .map(|e| (e.key.clone(), e.line))
            .collect(),
    })
}
