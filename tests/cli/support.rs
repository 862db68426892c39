//! The test environment: a temporary home with a config file, and the binary run
//! inside it. Shared with the benchmark, which includes this file by path, so it holds
//! only what both use; what only the tests use is in `harness.rs`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

pub struct TestEnv {
    home: TempDir,
}

impl TestEnv {
    /// A fresh home with an empty config file.
    pub fn new() -> Self {
        let env = TestEnv {
            home: tempfile::tempdir().expect("temp dir"),
        };
        fs::create_dir_all(env.config_dir()).unwrap();
        env.write_config("");
        env
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home().join(".config/fitbit-notifier")
    }

    pub fn config_path(&self) -> PathBuf {
        self.config_dir().join("config.toml")
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.config_dir().join("credentials.toml")
    }

    pub fn state_path(&self) -> PathBuf {
        self.home().join(".local/state/fitbit-notifier/state.toml")
    }

    pub fn write_config(&self, text: &str) {
        fs::write(self.config_path(), text).unwrap();
    }

    /// Writes the credentials file as the tool would (mode 0600).
    pub fn write_credentials(&self, text: &str) {
        let path = self.credentials_path();
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// The binary, isolated from the real home and environment.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fitbit-notifier"));
        cmd.env_clear()
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_STATE_HOME", self.home().join(".local/state"))
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_BACKTRACE", "0")
            .current_dir(self.home());
        cmd
    }
}
