//! Files the tool owns on disk: TOML read with located errors, atomic rewrite,
//! advisory locking and the writable-directory preflight.
//!
//! The credentials and the state (posted ledger, cached time zone) both live in a
//! [`TomlStore`]: read-modify-write happens under an exclusive lock on a separate,
//! stable lock file (a lock on the data file itself would be lost when the rename
//! swaps its inode), and every write replaces the file atomically.

pub mod credentials;
pub mod ledger;
pub mod state;

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::marker::PhantomData;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::error::{Error, Result};

/// How long a second process waits for the lock before giving up with "try later".
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// How often a waiting process tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(25);

/// Parses TOML, turning a failure into a configuration error that names
/// `path:line:column` and what is wrong, on one line.
pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|err| located(path, text, &err))
}

/// The table `name` of a TOML document read as `T` (`None` when there is none), every
/// other key skipped; an error in it is located in the document as [`parse_toml`]'s are.
pub fn parse_table<T: DeserializeOwned>(path: &Path, text: &str, name: &str) -> Result<Option<T>> {
    toml::de::Deserializer::parse(text)
        .and_then(|document| {
            TableNamed {
                name,
                table: PhantomData,
            }
            .deserialize(document)
        })
        .map_err(|err| located(path, text, &err))
}

/// A TOML error as a configuration error that names `path:line:column`.
fn located(path: &Path, text: &str, err: &toml::de::Error) -> Error {
    let location = err
        .span()
        .map(|span| {
            let (line, column) = line_and_column(text, span.start);
            format!("{}:{line}:{column}", path.display())
        })
        .unwrap_or_else(|| path.display().to_string());
    // the message can quote the offending value (`invalid type: string "…"`), which in
    // the credentials file is a token or a webhook URL: it is named, never shown
    let what = without_quoted_strings(err.message().trim()).replace('\n', " ");
    Error::config(format!("{location}: {what}; fix the file and run again"))
}

/// Reads one table of a document, skipping the others, with the document's own
/// deserializer: an error keeps its place in the text.
struct TableNamed<'a, T> {
    name: &'a str,
    table: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for TableNamed<'_, T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, document: D) -> Result<Option<T>, D::Error> {
        document.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for TableNamed<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a TOML document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut document: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(key) = document.next_key::<String>()? {
            if key == self.name {
                found = Some(document.next_value()?);
            } else {
                document.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// `message` with every `string "…"` that serde quotes replaced by `a string`.
fn without_quoted_strings(message: &str) -> String {
    const QUOTED: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(QUOTED) {
        out.push_str(&rest[..at]);
        out.push_str("a string");
        let mut chars = rest[at + QUOTED.len()..].char_indices();
        let mut end = rest.len() - at - QUOTED.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &rest[at + QUOTED.len() + end..];
    }
    out.push_str(rest);
    out
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Writes `bytes` to `path` so that a crash at any instant leaves either the old or the
/// new file: temp file in the same directory created 0600, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    let temp = temp_path_in(dir, path);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        test_hooks::fail_if_disk_full(dir)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn temp_path_in(dir: &Path, target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    dir.join(format!(
        ".{name}.{}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ))
}

/// Proves that new files can be created in `dir` (create and remove a temp file), so a
/// caller can find out before it spends a single-use refresh token that it could not save.
pub fn ensure_writable(dir: &Path) -> Result<()> {
    let probe = temp_path_in(dir, Path::new("write-probe"));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&probe)
        .and_then(|_| fs::remove_file(&probe))
        .map_err(|err| {
            Error::config(format!(
                "cannot write in {}: {err}; make the directory writable for this user (under systemd, add it to ReadWritePaths=)",
                dir.display()
            ))
        })
}

/// Opens one of the tool's own files without following a symbolic link (someone who can
/// write in a shared directory could plant one to make us create or read a file where
/// they choose), without blocking on a FIFO, and refuses anything but a regular file
/// owned by this user. `options` says how to open it.
fn open_own(path: &Path, options: &mut OpenOptions) -> Result<Option<File>> {
    let file = match options
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) if err.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Error::config(format!(
                "{} is a symbolic link, and fitbit-notifier does not follow one to its own files: \
                 remove it (`rm {}`) and run again, or point the config at the real file",
                path.display(),
                path.display()
            )));
        }
        Err(err) => {
            return Err(Error::config(format!(
                "cannot open {}: {err}",
                path.display()
            )));
        }
    };
    let metadata = file
        .metadata()
        .map_err(|err| Error::config(format!("cannot read {}: {err}", path.display())))?;
    if !metadata.is_file() {
        return Err(Error::config(format!(
            "{} is not a regular file; remove it (`rm {}`) and run again",
            path.display(),
            path.display()
        )));
    }
    // SAFETY: geteuid has no preconditions and cannot fail
    let me = unsafe { libc::geteuid() };
    if metadata.uid() != me {
        return Err(Error::config(format!(
            "{} belongs to another user (uid {}), who could read or replace what is in it; \
             remove it and run again as its owner",
            path.display(),
            metadata.uid()
        )));
    }
    Ok(Some(file))
}

/// Refuses a secrets file that group or others can read.
pub fn ensure_private(path: &Path) -> Result<()> {
    refuse_mode_bits(path, 0o077, "readable", "; it holds secrets", "600")
}

/// Refuses a file whose mode grants any of `bits` (`0o022`: writable by group or others):
/// it is `what` by other users, `why` that matters, and `chmod` the mode change that fixes it.
pub fn refuse_mode_bits(path: &Path, bits: u32, what: &str, why: &str, chmod: &str) -> Result<()> {
    let mode = fs::metadata(path)
        .map_err(|err| Error::config(format!("cannot read {}: {err}", path.display())))?
        .permissions()
        .mode();
    if mode & bits != 0 {
        return Err(Error::config(format!(
            "{} is {what} by other users (mode {:o}){why}: run `chmod {chmod} {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|err| Error::config(format!("cannot create {}: {err}", dir.display())))
}

/// A TOML file of `T` that is only rewritten atomically and under its lock file.
#[derive(Debug, Clone)]
pub struct TomlStore<T> {
    path: PathBuf,
    lock_path: PathBuf,
    private: bool,
    _data: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned + Default> TomlStore<T> {
    /// A store whose file holds secrets: created 0600 and refused when others can read it.
    pub fn private(path: PathBuf, lock_path: PathBuf) -> Self {
        Self::new(path, lock_path, true)
    }

    pub fn public(path: PathBuf, lock_path: PathBuf) -> Self {
        Self::new(path, lock_path, false)
    }

    fn new(path: PathBuf, lock_path: PathBuf, private: bool) -> Self {
        TomlStore {
            path,
            lock_path,
            private,
            _data: PhantomData,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file without the lock; a missing file reads as the default value.
    pub fn load(&self) -> Result<T> {
        match self.load_text()? {
            Some(text) => parse_toml(&self.path, &text),
            None => Ok(T::default()),
        }
    }

    /// The file's text, read without the lock and checked like [`TomlStore::load`]'s;
    /// `None` when there is no file.
    pub fn load_text(&self) -> Result<Option<String>> {
        let Some(mut file) = open_own(&self.path, OpenOptions::new().read(true))? else {
            return Ok(None);
        };
        let mut text = String::new();
        io::Read::read_to_string(&mut file, &mut text)
            .map_err(|err| Error::config(format!("cannot read {}: {err}", self.path.display())))?;
        if self.private {
            ensure_private(&self.path)?;
        }
        Ok(Some(text))
    }

    /// Takes the exclusive lock, waiting at most [`LOCK_WAIT`] for another process to finish.
    /// Blocks the thread: for code that is not async.
    pub fn lock(&self) -> Result<Locked<'_, T>> {
        let file = self.open_lock_file()?;
        let deadline = Instant::now() + LOCK_WAIT;
        while !self.take_before(&file, deadline)? {
            std::thread::sleep(LOCK_POLL);
        }
        Ok(self.held(file))
    }

    /// Takes the exclusive lock like [`TomlStore::lock`], but waits with the async timer,
    /// so that a timeout around the caller (the `[http] deadline`) can end the wait.
    pub async fn lock_async(&self) -> Result<Locked<'_, T>> {
        let file = self.open_lock_file()?;
        let deadline = Instant::now() + LOCK_WAIT;
        while !self.take_before(&file, deadline)? {
            tokio::time::sleep(LOCK_POLL).await;
        }
        Ok(self.held(file))
    }

    /// One try at the lock on `file`: `true` when it is ours, `false` to wait
    /// [`LOCK_POLL`] and try again, an error once `deadline` has passed.
    fn take_before(&self, file: &File, deadline: Instant) -> Result<bool> {
        if self.try_take(file)? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Err(self.held_too_long());
        }
        Ok(false)
    }

    fn open_lock_file(&self) -> Result<File> {
        create_private_dir(parent_dir(&self.lock_path))?;
        open_own(
            &self.lock_path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600),
        )?
        .ok_or_else(|| {
            Error::config(format!(
                "cannot create lock file {}",
                self.lock_path.display()
            ))
        })
    }

    /// Whether the lock on `file` was free and is now ours.
    fn try_take(&self, file: &File) -> Result<bool> {
        match file.try_lock() {
            Ok(()) => Ok(true),
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(err)) => Err(Error::other(format!(
                "cannot lock {}: {err}",
                self.lock_path.display()
            ))),
        }
    }

    fn held_too_long(&self) -> Error {
        Error::try_later(format!(
            "another fitbit-notifier process has held {} for over {}s; try again when it has finished",
            self.lock_path.display(),
            LOCK_WAIT.as_secs()
        ))
    }

    /// Proves the file's directory writable before a caller does something it could not undo.
    pub fn ensure_writable(&self) -> Result<()> {
        ensure_writable(parent_dir(&self.path))
    }

    /// Reads, changes and writes back under the lock, returning what `change` returned.
    pub fn update<R>(&self, change: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        Self::change_under(&self.lock()?, change)
    }

    /// Like [`TomlStore::update`], but only if the lock is free now: `None` when another
    /// process holds it, for a change that is not worth waiting for (a run's outcome,
    /// which the run holding the lock records for itself).
    pub fn try_update<R>(&self, change: impl FnOnce(&mut T) -> Result<R>) -> Result<Option<R>> {
        let file = self.open_lock_file()?;
        if !self.try_take(&file)? {
            return Ok(None);
        }
        Self::change_under(&self.held(file), change).map(Some)
    }

    fn change_under<R>(
        locked: &Locked<'_, T>,
        change: impl FnOnce(&mut T) -> Result<R>,
    ) -> Result<R> {
        let mut value = locked.read()?;
        let out = change(&mut value)?;
        locked.write(&value)?;
        Ok(out)
    }

    /// The store under the lock held through `file`.
    fn held(&self, file: File) -> Locked<'_, T> {
        Locked {
            store: self,
            spare: std::sync::Mutex::new(None),
            _lock: file,
        }
    }
}

/// Room kept free beyond the current file's size for the next save: a save adds a
/// token pair or a few ledger entries, far less than this.
const SPARE_MARGIN: u64 = 4096;

/// Proof that this process holds the store's lock; released on drop.
pub struct Locked<'a, T> {
    store: &'a TomlStore<T>,
    /// The reserved spare file ([`Locked::reserve`]) the next save writes over.
    spare: std::sync::Mutex<Option<File>>,
    _lock: File,
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        let spare = self.spare.get_mut().map(Option::take).unwrap_or_default();
        if spare.is_some() {
            let _ = fs::remove_file(spare_path(&self.store.path));
        }
    }
}

/// The spare of `path`: one name per store, used only under its lock, so a spare left by
/// a killed run is simply reused.
fn spare_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    parent_dir(path).join(format!(".{name}.reserved"))
}

/// Creates (or reuses) the spare file at `len` bytes of real data, synced: on a full
/// disk this fails now, where creating an empty file would not. (A copy-on-write or
/// compressing file system, btrfs or ZFS, can still fail a later overwrite.)
fn allocate_spare(spare: &Path, len: u64) -> io::Result<File> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(spare)?;
    let result = (|| {
        test_hooks::fail_if_disk_full(parent_dir(spare))?;
        let chunk = [b'\n'; 4096];
        let mut left = len;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            file.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(file),
        Err(err) => {
            let _ = fs::remove_file(spare);
            Err(err)
        }
    }
}

/// Overwrites the reserved `file` at `spare` with `bytes` and renames it to `path`: the
/// blocks are already allocated, so this needs no new space.
fn write_over_spare(mut file: File, spare: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    io::Seek::seek(&mut file, io::SeekFrom::Start(0))?;
    file.write_all(bytes)?;
    file.set_len(bytes.len() as u64)?;
    file.sync_all()?;
    fs::rename(spare, path)?;
    File::open(parent_dir(path))?.sync_all()
}

/// An injected full disk for the tests where no small file system can be mounted
/// (mounting a tmpfs needs root): in debug builds only, while a directory holds a file
/// of the name in `FITBIT_NOTIFIER_TEST_DISK_FULL`, every allocation of new space by
/// the store in that directory fails with ENOSPC. Release builds contain none of this.
mod test_hooks {
    use std::io;
    use std::path::Path;

    #[cfg(debug_assertions)]
    pub fn fail_if_disk_full(dir: &Path) -> io::Result<()> {
        match std::env::var_os("FITBIT_NOTIFIER_TEST_DISK_FULL") {
            Some(flag) if dir.join(&flag).exists() => {
                Err(io::Error::from_raw_os_error(libc::ENOSPC))
            }
            _ => Ok(()),
        }
    }

    #[cfg(not(debug_assertions))]
    pub fn fail_if_disk_full(_dir: &Path) -> io::Result<()> {
        Ok(())
    }
}

impl<T: Serialize + DeserializeOwned + Default> Locked<'_, T> {
    pub fn read(&self) -> Result<T> {
        self.store.load()
    }

    /// Reserves the disk space the next save needs (the file's size and a margin) in a
    /// spare file that the save then writes over, so that a caller about to do
    /// something it cannot undo (spend a single-use refresh token, post) finds out
    /// before, not after, that the result could not be saved. After each save the spare
    /// is reserved again; calling this when it is held does nothing.
    pub fn reserve(&self) -> Result<()> {
        let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
        if spare.is_some() {
            return Ok(());
        }
        let path = &self.store.path;
        let dir = parent_dir(path);
        create_private_dir(dir)?;
        let len = fs::metadata(path).map_or(0, |m| m.len()) + SPARE_MARGIN;
        let file = allocate_spare(&spare_path(path), len).map_err(|err| {
            if matches!(err.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT)) {
                Error::try_later(format!(
                    "cannot reserve the {len} bytes that saving {} needs: {err}; nothing was sent; free disk space in {} and run again",
                    path.display(),
                    dir.display()
                ))
            } else {
                Error::config(format!(
                    "cannot write in {}: {err}; make the directory writable for this user (under systemd, add it to ReadWritePaths=)",
                    dir.display()
                ))
            }
        })?;
        *spare = Some(file);
        Ok(())
    }

    pub fn write(&self, value: &T) -> Result<()> {
        let text = toml::to_string(value).map_err(|err| {
            Error::other(format!(
                "cannot encode {}: {err}",
                self.store.path.display()
            ))
        })?;
        let path = &self.store.path;
        create_private_dir(parent_dir(path))?;
        let reserved = self.spare.lock().unwrap_or_else(|p| p.into_inner()).take();
        let reserved_before = reserved.is_some();
        let saved = match reserved {
            Some(file) => write_over_spare(file, &spare_path(path), path, text.as_bytes()),
            None => write_atomic(path, text.as_bytes()),
        };
        saved.map_err(|err| {
            Error::config(format!(
                "cannot save {}: {err}; the previous file is unchanged",
                path.display()
            ))
        })?;
        if reserved_before {
            // the rename freed the old file's space: take it for the next save at once
            if let Err(err) = self.reserve() {
                log::debug!("{err}");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::process::{Command, Stdio};

    use super::*;

    type Map = BTreeMap<String, String>;

    fn store_in(dir: &Path) -> TomlStore<Map> {
        TomlStore::private(dir.join("data.toml"), dir.join("data.toml.lock"))
    }

    #[test]
    fn a_type_error_names_the_key_but_never_quotes_the_value() {
        #[derive(Debug, serde::Deserialize)]
        struct Webhook {
            #[allow(dead_code)]
            webhook_url: String,
        }
        #[derive(Debug, serde::Deserialize)]
        struct File {
            #[allow(dead_code)]
            slack: Option<Webhook>,
        }
        let text = "slack = \"https://hooks.slack.com/services/T/B/sekrit\\\"more\"\n";
        let err = parse_toml::<File>(Path::new("credentials.toml"), text).unwrap_err();
        let message = err.to_string();
        assert!(
            !message.contains("sekrit") && !message.contains("more"),
            "{message}"
        );
        assert!(
            message.starts_with("credentials.toml:1:9: invalid type: a string"),
            "{message}"
        );
    }

    #[test]
    fn a_lock_file_of_another_user_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let lock = dir.path().join("data.toml.lock");
        fs::write(&lock, "").unwrap();
        // only root can give a file away; elsewhere the test has nothing to set up
        if std::os::unix::fs::chown(&lock, Some(65534), Some(65534)).is_err() {
            eprintln!("skipped: cannot chown a file to another user here (not root)");
            return;
        }
        let started = Instant::now();
        let err = store.lock().err().expect("refused");
        assert_eq!(err.kind(), crate::error::Kind::Config);
        assert!(
            err.to_string()
                .contains("belongs to another user (uid 65534)"),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn round_trip_creates_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        assert!(store.load().unwrap().is_empty());
        store
            .update(|map| {
                map.insert("a".into(), "1".into());
                Ok(())
            })
            .unwrap();
        assert_eq!(store.load().unwrap()["a"], "1");
        let mode = fs::metadata(store.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "temp files left behind: {leftovers:?}"
        );
    }

    #[test]
    fn a_file_others_can_read_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        fs::write(store.path(), "a = \"1\"\n").unwrap();
        fs::set_permissions(store.path(), fs::Permissions::from_mode(0o644)).unwrap();
        let err = store.load().unwrap_err();
        assert_eq!(err.kind(), crate::error::Kind::Config);
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn toml_errors_name_line_and_column() {
        let err = parse_toml::<Map>(Path::new("/x/c.toml"), "a = \"1\"\nb = = 2\n").unwrap_err();
        assert!(err.to_string().starts_with("/x/c.toml:2:5:"), "{err}");
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn the_preflight_reports_an_unwritable_directory() {
        let dir = tempfile::tempdir().unwrap();
        let locked_dir = dir.path().join("ro");
        fs::create_dir(&locked_dir).unwrap();
        fs::set_permissions(&locked_dir, fs::Permissions::from_mode(0o500)).unwrap();
        let probe = ensure_writable(&locked_dir);
        fs::set_permissions(&locked_dir, fs::Permissions::from_mode(0o700)).unwrap();
        // root bypasses permission bits, so only an unprivileged run can see the refusal
        if is_root() {
            assert!(probe.is_ok());
        } else {
            assert!(probe.unwrap_err().to_string().contains("ReadWritePaths"));
        }
        assert!(ensure_writable(dir.path()).is_ok());
    }

    fn is_root() -> bool {
        fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false)
    }

    // The tests below run this test binary again as child processes (real processes,
    // real SIGKILL): the child takes its instructions from the environment.
    const CHILD_DIR: &str = "FN_STORE_CHILD_DIR";
    const CHILD_KEY: &str = "FN_STORE_CHILD_KEY";
    const CHILD_LOOP: &str = "FN_STORE_CHILD_LOOP";

    #[test]
    fn child_writer() {
        let Ok(dir) = std::env::var(CHILD_DIR) else {
            return;
        };
        let store = store_in(Path::new(&dir));
        let key = std::env::var(CHILD_KEY).unwrap();
        if std::env::var(CHILD_LOOP).is_ok() {
            // rewrite forever, alternating between two complete contents, until killed
            for round in 0u64.. {
                store
                    .update(|map| {
                        map.clear();
                        let value = if round % 2 == 0 { "old" } else { "new" };
                        for i in 0..200 {
                            map.insert(format!("k{i:03}"), value.repeat(20));
                        }
                        Ok(())
                    })
                    .unwrap();
            }
        }
        store
            .update(|map| {
                map.insert(key, "present".into());
                Ok(())
            })
            .unwrap();
    }

    fn spawn_child(dir: &Path, key: &str, looping: bool) -> std::process::Child {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", "store::tests::child_writer", "--nocapture"])
            .env(CHILD_DIR, dir)
            .env(CHILD_KEY, key)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if looping {
            cmd.env(CHILD_LOOP, "1");
        }
        cmd.spawn().unwrap()
    }

    #[test]
    fn concurrent_writers_never_lose_an_update() {
        let dir = tempfile::tempdir().unwrap();
        let children: Vec<_> = (0..8)
            .map(|i| spawn_child(dir.path(), &format!("writer{i}"), false))
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        let map = store_in(dir.path()).load().unwrap();
        for i in 0..8 {
            assert_eq!(
                map.get(&format!("writer{i}")).map(String::as_str),
                Some("present")
            );
        }
    }

    #[test]
    fn sigkill_mid_rewrite_leaves_the_old_or_the_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let mut seen_new = 0;
        for iteration in 0..120u64 {
            let mut child = spawn_child(dir.path(), "unused", true);
            // a random moment of death, from 'before the first write' to 'many writes in'
            std::thread::sleep(Duration::from_millis(rand::random_range(5..65)));
            child.kill().unwrap();
            child.wait().unwrap();
            let map = store.load().unwrap();
            if map.is_empty() {
                continue; // killed before the first rename: no file yet is fine
            }
            assert_eq!(map.len(), 200, "torn file at iteration {iteration}");
            let first = map.values().next().unwrap().clone();
            assert!(first == "old".repeat(20) || first == "new".repeat(20));
            assert!(map.values().all(|v| *v == first), "mixed contents");
            seen_new += usize::from(first.starts_with("new"));
        }
        assert!(seen_new > 0, "the child never got to a second write");
    }
}
