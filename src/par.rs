//! Parallel maps that stay on the calling thread for small inputs.

use rayon::prelude::*;

/// `items` mapped through `f`, in input order: on rayon's pool, or on the calling thread when
/// `here`. For a few small jobs, starting the pool (spawning its threads, which then spin
/// waiting for work) costs more than the jobs themselves; a small `seal` then starts no thread.
pub(crate) fn map<I, T, R>(items: I, here: bool, f: impl Fn(T) -> R + Sync + Send) -> Vec<R>
where
    I: IntoIterator<Item = T> + IntoParallelIterator<Item = T>,
    T: Send,
    R: Send,
{
    if here {
        items.into_iter().map(f).collect()
    } else {
        items.into_par_iter().map(f).collect()
    }
}
