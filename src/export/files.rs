//! The files beside posts in a static export: byte copies at `files/{path}`, the path
//! their `/files/` URLs decode to, so any static server answers the same URLs. Each copy is
//! checked against what was hashed (a file replaced meanwhile fails the export rather than
//! publish bytes its ETag does not name) and given the file's modification time, which a
//! static server sends as `Last-Modified`.

use std::fs::{self, File};
use std::io;
use std::path::Path;

use super::folder::{io_at, ExportError};
use crate::load::FileStamp;
use crate::snapshot::{FileResource, Files};

/// Copies every file of the snapshot under `root/files/`.
pub fn write_files(root: &Path, files: &Files) -> Result<(), ExportError> {
    let mut sorted: Vec<&FileResource> = files.values().map(|f| &**f).collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for resource in sorted {
        // A posts-folder path: no `..`, no dot segments, `/`-separated (see post::links).
        let to = root.join("files").join(&resource.path);
        copy(resource, &to)?;
    }
    Ok(())
}

fn copy(resource: &FileResource, to: &Path) -> Result<(), ExportError> {
    let from = &resource.file.real_path;
    let mut source = File::open(from).map_err(io_at(from))?;
    let stamp = FileStamp::of(&source.metadata().map_err(io_at(from))?);
    if stamp != resource.file.stamp {
        let changed = io::Error::other("changed while the site was built: run the build again");
        return Err(io_at(from)(changed));
    }
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
    }
    let mut copy = File::create(to).map_err(io_at(to))?;
    io::copy(&mut source, &mut copy).map_err(io_at(to))?;
    if let Some(modified) = resource.last_modified {
        copy.set_modified(modified).map_err(io_at(to))?;
    }
    Ok(())
}
