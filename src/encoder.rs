//! The encoder thread: compresses hot resources published in identity only, then swaps in a
//! snapshot holding the compressed variants. A change is served at once; its gzip, br and
//! zstd bytes follow as soon as they are ready, without ever blocking a request or the
//! watcher.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;

use crate::snapshot::{encode_many, Resource, SharedSnapshot};

/// Wakes the encoder thread; dropping every handle stops it.
#[derive(Debug, Clone)]
pub struct Encoder {
    wake: SyncSender<()>,
}

impl Encoder {
    /// Asks for whatever the current snapshot lacks to be compressed. Never blocks: wake-ups
    /// coalesce.
    pub fn kick(&self) {
        let _ = self.wake.try_send(());
    }
}

/// Starts the encoder thread for a shared snapshot.
pub fn spawn(shared: SharedSnapshot) -> std::io::Result<Encoder> {
    let (wake, woken) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("dropfeed-encode".into())
        .spawn(move || run(shared, woken))?;
    Ok(Encoder { wake })
}

fn run(shared: SharedSnapshot, woken: Receiver<()>) {
    while woken.recv().is_ok() {
        encode_pending(&shared);
    }
}

/// Compresses every hot resource of the current snapshot that lacks its variants and swaps
/// the result in. Returns how many were compressed.
pub fn encode_pending(shared: &SharedSnapshot) -> usize {
    let pending = shared.load().unencoded();
    if pending.is_empty() {
        return 0;
    }
    let before: HashMap<String, Arc<Resource>> = pending
        .iter()
        .map(|(route, r)| (route.clone(), Arc::clone(r)))
        .collect();
    let done: Vec<_> = encode_many(pending)
        .into_iter()
        .filter_map(|(route, encoded)| Some((Arc::clone(before.get(&route)?), encoded)))
        .collect();
    shared.rcu(|current| current.with_encoded(&done));
    done.len()
}
