//! Owner-only files and directories (review finding H-2): the vault, its evidence, the logs and
//! the configuration are created 0700/0600 whatever the umask, and a directory that already
//! existed with a looser mode is tightened. On Windows the same through an access list: a
//! protected list that lets the user alone in (`id_desk_windows::make_private`), written on the
//! directories and, because not every file system hands it down, on each file too.

use std::fs::{self, File, OpenOptions};
use std::path::Path;

use crate::{Error, Result};

/// From now on every file and directory this process creates is its owner's alone (umask 077):
/// also those the desk does not create itself, the daily log files (tracing-appender), SQLite's
/// `-wal`/`-shm` and the instance locks (issue 33, item 10). Called first thing by the desk and
/// the CLI. On Windows the access lists of [`private_dir`] do this.
pub fn owner_only_by_default() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates `dir` (and missing parents) and makes it owner-only, also when it already existed.
pub fn private_dir(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .map_err(|e| Error::Io(format!("cannot create {}: {e}", dir.display())))?;
    restrict(dir, 0o700)
}

/// Creates (or opens, keeping its content) a file readable by its owner only.
pub fn private_file(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let f = o
        .open(path)
        .map_err(|e| Error::Io(format!("cannot open {}: {e}", path.display())))?;
    restrict(path, 0o600)?;
    Ok(f)
}

/// chmod on Unix (`mode`); on Windows the user-only access list whatever `mode` says.
pub fn restrict(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    let done = {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    };
    #[cfg(windows)]
    let done = {
        let _ = mode;
        id_desk_windows::make_private(path)
    };
    #[cfg(not(any(unix, windows)))]
    let done: std::io::Result<()> = {
        let _ = (path, mode);
        Ok(())
    };
    done.map_err(|e| Error::Io(format!("cannot restrict {}: {e}", path.display())))
}
