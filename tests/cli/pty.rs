//! The binary on a real pseudo-terminal (openpty, 80x24, its own session with the pty
//! as controlling terminal, so prompts that read /dev/tty work): type answers, wait
//! for text, keep the whole screen output to look at.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Pty {
    master: File,
    child: Child,
    seen: Arc<Mutex<Vec<u8>>>,
    /// Where the next `expect` starts looking.
    cursor: usize,
}

impl Pty {
    pub fn spawn(mut cmd: Command) -> Self {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors into the given ints
        let opened = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(opened, 0, "openpty failed");
        // SAFETY: both descriptors are fresh and owned here
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let stdio = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
        cmd.stdin(stdio(&slave))
            .stdout(stdio(&slave))
            .stderr(stdio(&slave));
        // SAFETY: only async-signal-safe calls between fork and exec
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop(slave);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once the child and every copy of the slave are gone
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            master,
            child,
            seen,
            cursor: 0,
        }
    }

    /// Everything the terminal showed so far, with the pty's CRLF as LF.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).replace("\r\n", "\n")
    }

    /// Waits (up to 30 s) for `needle` after what earlier calls matched; returns the
    /// text up to and including it.
    pub fn expect(&mut self, needle: &str) -> String {
        let mut deadline = Instant::now() + Duration::from_secs(30);
        let mut exited = false;
        loop {
            let screen = self.screen();
            if let Some(at) = screen[self.cursor.min(screen.len())..].find(needle) {
                let end = self.cursor + at + needle.len();
                let text = screen[self.cursor..end].to_string();
                self.cursor = end;
                return text;
            }
            if Instant::now() > deadline {
                panic!("never saw {needle:?}; the screen:\n{}", self.screen());
            }
            // once the program has ended, the reader still drains what it wrote last
            if !exited && self.child.try_wait().unwrap().is_some() {
                exited = true;
                deadline = deadline.min(Instant::now() + Duration::from_secs(2));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types `line` and Enter once the program has turned the terminal's echo off, as a
    /// prompt for a secret does just after printing itself: typed sooner, a person's
    /// keystrokes would be echoed too, but no person types that fast.
    pub fn send_hidden(&mut self, line: &str) {
        use std::os::fd::AsRawFd;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut termios = unsafe { std::mem::zeroed::<libc::termios>() };
            let read = unsafe { libc::tcgetattr(self.master.as_raw_fd(), &mut termios) };
            if read == 0 && termios.c_lflag & libc::ECHO == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "the terminal's echo stayed on");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.send(line);
    }

    /// Types `line` and Enter.
    pub fn send(&mut self, line: &str) {
        self.master
            .write_all(format!("{line}\r").as_bytes())
            .unwrap();
    }

    /// Waits for the program to end; returns its status and the whole screen.
    pub fn finish(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "still running:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // the reader drains what is left
        std::thread::sleep(Duration::from_millis(200));
        (status, self.screen())
    }
}
