//! A full disk (issue 14, finding 3): the space a save needs is reserved before the
//! request that makes the save necessary, so a full disk stops a run before a
//! single-use refresh token is spent or a post is made. On a 64 KiB tmpfs when the tests
//! may mount one (root, as in CI); elsewhere through the debug-build-only injected
//! failure `FITBIT_NOTIFIER_TEST_DISK_FULL` (see src/store/mod.rs).

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use test_case::test_case;

use crate::harness::stderr_of;
use crate::harness::{Daily, Options};
use crate::mocks::SingleUseTokens;
use crate::mocks::google::{Day, REFRESH_TOKEN};
use crate::mocks::x::created;
use crate::support::TestEnv;

/// The name of the injected failure's flag file.
const FLAG: &str = "disk-full";

/// The directory that holds the credentials and the state, on a file system the test
/// can fill.
struct SmallDisk {
    dir: PathBuf,
    /// The injected failure's flag file in `dir`, used when no tmpfs could be mounted.
    flag: PathBuf,
    mounted: bool,
}

impl SmallDisk {
    fn new(env: &TestEnv) -> Self {
        let dir = env.home().join("small");
        fs::create_dir_all(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
            .arg(&dir)
            .output()
            .is_ok_and(|out| out.status.success());
        if !mounted {
            eprintln!("cannot mount a tmpfs here (not root?): the full disk is injected instead");
        }
        SmallDisk {
            flag: dir.join(FLAG),
            dir,
            mounted,
        }
    }

    /// Fills the file system to the last byte (or raises the injected failure).
    fn fill(&self) {
        if !self.mounted {
            fs::write(&self.flag, "").unwrap();
            return;
        }
        let mut filler = fs::File::create(self.dir.join("filler")).unwrap();
        let chunk = [0u8; 512];
        while filler.write_all(&chunk).is_ok() {}
        while filler.write_all(&chunk[..1]).is_ok() {}
    }

    fn free(&self) {
        let _ = fs::remove_file(self.dir.join("filler"));
        let _ = fs::remove_file(&self.flag);
    }

    fn run(&self, env: &TestEnv) -> Output {
        env.std_cmd()
            .args(["run", "--date", "2026-11-25"])
            .env("FITBIT_NOTIFIER_TEST_DISK_FULL", FLAG)
            .output()
            .unwrap()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.dir).status();
        }
    }
}

#[test_case(true, "credentials_file" ; "a refresh token is not spent")]
#[test_case(false, "state_file" ; "nothing is posted")]
#[tokio::test]
async fn a_full_disk_stops_the_run_before_anything_it_could_not_save(expired: bool, key: &str) {
    let tokens = SingleUseTokens::start(REFRESH_TOKEN, "ya29.single-use", Duration::from_millis(1));
    let top = format!(
        "{key} = \"../../small/{}.toml\"",
        key.trim_end_matches("_file")
    );
    let options = Options {
        top: &top,
        http: "",
        tables: "",
        tokens: expired.then_some(&tokens),
    };
    let s = Daily::start(Day::standard(), options).await;
    s.x.answer_posts(created(), None).await;
    let disk = SmallDisk::new(&s.env);
    let credentials = if expired {
        let on_disk = disk.dir.join("credentials.toml");
        fs::copy(s.env.credentials_path(), &on_disk).unwrap();
        fs::set_permissions(&on_disk, fs::Permissions::from_mode(0o600)).unwrap();
        on_disk
    } else {
        s.env.credentials_path()
    };
    let stored = fs::read_to_string(&credentials).unwrap();
    disk.fill();

    let output = disk.run(&s.env);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("nothing was sent; free disk space in")
            && stderr.contains("/small and run again"),
        "{stderr}"
    );
    assert!(tokens.grants().is_empty(), "a refresh was sent: {stderr}");
    assert!(s.x.posts().await.is_empty(), "a post was made: {stderr}");
    assert_eq!(fs::read_to_string(&credentials).unwrap(), stored);

    // with room again, the same token and the ledger work as if nothing had happened
    disk.free();
    let output = disk.run(&s.env);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(s.x.posts().await.len(), 2);
    if expired {
        assert!(
            fs::read_to_string(&credentials)
                .unwrap()
                .contains(&tokens.current())
        );
    }
    if !expired {
        let state = fs::read_to_string(disk.dir.join("state.toml")).unwrap();
        assert!(state.contains("[posted.2026-11-25.x"), "{state}");
    }
    let leftovers: Vec<_> = fs::read_dir(&disk.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.') && !name.ends_with(".lock"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
