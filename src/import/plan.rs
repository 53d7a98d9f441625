//! Deciding what to write for each item, then writing it: ids into the ledger first (so a
//! server watching the folder never issues its own id for a file that is about to get its
//! original one), then the post files, then the import record.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use super::body::{post_text, slug_of};
use super::record::{hash, write_atomically, Imported, Record};
use super::{ImportError, Item};
use crate::config::Config;
use crate::ids::{ImportedIdTaken, Ledger};
use crate::load::parse_context;
use crate::post::{self, ParseContext};

/// What an import did with one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Written to a new file.
    Imported,
    /// Its file, untouched by its author, rewritten because the source changed.
    Updated,
    /// Its file is as the source says already.
    Unchanged,
    /// Left alone, and why.
    Skipped(String),
}

/// One item's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// The post file (relative to the posts folder), when there is one.
    pub file: Option<String>,
    /// The item's title, or its key when it has none.
    pub title: String,
    /// What happened.
    pub action: Action,
}

/// A file to write.
struct PendingWrite {
    key: String,
    file: String,
    text: String,
    new: bool,
}

/// Imports items into a posts folder (see the module doc for the order of writes).
pub fn import_items(
    posts: &Path,
    config: &Config,
    items: Vec<Item>,
) -> Result<Vec<Done>, ImportError> {
    let io_error = |path: &Path| {
        let path = path.display().to_string();
        move |error| ImportError::Io { path, error }
    };
    fs::create_dir_all(posts).map_err(io_error(posts))?;
    let mut ledger = Ledger::open(posts);
    if !ledger.health().get().issuing() {
        return Err(ImportedIdTaken::Unreadable.into());
    }
    let mut record = Record::open(posts).map_err(io_error(posts))?;
    let ctx = parse_context(config);
    let mut planner = Planner {
        posts,
        ctx: &ctx,
        ledger: &mut ledger,
        record: &record,
        taken: HashSet::new(),
        writes: Vec::new(),
    };
    let mut seen = HashSet::new();
    let mut done = Vec::new();
    for item in items {
        // The same item in two archive documents: the newer document's, read first, wins.
        if seen.insert(item.key()) {
            done.push(planner.plan(&item));
        } else {
            done.push(Done {
                file: None,
                title: item.title.clone().unwrap_or_else(|| item.key()),
                action: Action::Skipped("listed again further on in the source".into()),
            });
        }
    }
    let writes = std::mem::take(&mut planner.writes);
    ledger.save().map_err(io_error(posts))?;
    for write in writes {
        let path = posts.join(&write.file);
        let written = match write.new {
            true => create_new(&path, write.text.as_bytes()),
            false => write_atomically(&path, write.text.as_bytes()),
        };
        written.map_err(io_error(&path))?;
        let imported = Imported {
            file: write.file,
            hash: hash(write.text.as_bytes()),
        };
        record.items.insert(write.key, imported);
    }
    record.save(posts).map_err(io_error(posts))?;
    Ok(done)
}

fn create_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)
}

struct Planner<'a> {
    posts: &'a Path,
    ctx: &'a ParseContext,
    ledger: &'a mut Ledger,
    record: &'a Record,
    /// File names chosen in this import.
    taken: HashSet<String>,
    writes: Vec<PendingWrite>,
}

impl Planner<'_> {
    fn plan(&mut self, item: &Item) -> Done {
        let key = item.key();
        let title = item.title.clone().unwrap_or_else(|| key.clone());
        let (file, action) = match self.record.items.get(&key) {
            Some(before) => (Some(before.file.clone()), self.again(item, &key, before)),
            None => match self.first_time(item, &key) {
                Ok(file) => (Some(file), Action::Imported),
                Err(why) => (None, Action::Skipped(why)),
            },
        };
        Done {
            file,
            title,
            action,
        }
    }

    /// An item imported before: rewritten only if its file is as the import left it.
    fn again(&mut self, item: &Item, key: &str, before: &Imported) -> Action {
        // The record is ours, but it is a file in the posts folder: never follow it outside.
        let plain_name = !before.file.contains(['/', '\\']) && !before.file.starts_with('.');
        if !plain_name {
            return Action::Skipped(format!("the import record names `{}`", before.file));
        }
        let path = self.posts.join(&before.file);
        let on_disk = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Action::Skipped("deleted or moved since it was imported".into())
            }
            Err(e) => return Action::Skipped(format!("cannot be read: {e}")),
        };
        if hash(&on_disk) != before.hash {
            return Action::Skipped("edited since it was imported".into());
        }
        let text = post_text(item, &slug_in(&before.file));
        if text.as_bytes() == on_disk {
            return Action::Unchanged;
        }
        self.writes.push(PendingWrite {
            key: key.to_string(),
            file: before.file.clone(),
            text,
            new: false,
        });
        Action::Updated
    }

    /// A new item: a free file name, its id recorded, its file to write.
    fn first_time(&mut self, item: &Item, key: &str) -> Result<String, String> {
        if let Some(source) = item.id.as_deref().and_then(|id| self.ledger.source_of(id)) {
            return Err(format!("its id is already that of {source}"));
        }
        let (file, slug) = self.free_name(item);
        let text = post_text(item, &slug);
        let post = post::parse(&file, Path::new(&file), &text, self.ctx)
            .map_err(|e| format!("could not be written as a post: {e}"))?;
        if let Some(id) = &item.id {
            self.ledger
                .record_imported(id, &post)
                .map_err(|e| e.to_string())?;
        }
        self.taken.insert(file.clone());
        self.writes.push(PendingWrite {
            key: key.to_string(),
            file: file.clone(),
            text,
            new: true,
        });
        Ok(file)
    }

    /// `YYYY-MM-DD-slug.md`, or `-2`, `-3`… when a file (or a ledger entry) has the name.
    fn free_name(&self, item: &Item) -> (String, String) {
        let slug = slug_of(item);
        let day = item
            .published
            .or(item.updated)
            .map(|d| d.format("%Y-%m-%d-").to_string())
            .unwrap_or_default();
        for n in 1.. {
            let slug = if n == 1 {
                slug.clone()
            } else {
                format!("{slug}-{n}")
            };
            let file = format!("{day}{slug}.md");
            let free = !self.taken.contains(&file)
                && self.ledger.id_of(&file).is_none()
                && fs::symlink_metadata(self.posts.join(&file)).is_err();
            if free {
                return (file, slug);
            }
        }
        unreachable!("some name is free")
    }
}

/// The slug a file was written with: its name without the date and `.md`.
fn slug_in(file: &str) -> String {
    let stem = file.strip_suffix(".md").unwrap_or(file);
    match post::date::date_prefix(stem) {
        Some((_, rest)) if !rest.is_empty() => rest.to_string(),
        _ => stem.to_string(),
    }
}
