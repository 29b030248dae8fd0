//! What the end-to-end test binaries (tests/cli.rs, tests/fetch.rs, tests/health.rs) share:
//! a sandbox with an archive folder, the real binary run on it without proxies, what one
//! run did, and a few small helpers for files and hashes.

// Each test binary compiles this module on its own and uses only part of it, so whatever
// one binary leaves unused would otherwise warn there.
#![allow(dead_code)]

use rusqlite::Connection;
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tempfile::TempDir;

const PROXY_VARIABLES: [&str; 6] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

/// A temporary working folder with an archive folder inside it.
pub struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn archive(&self) -> PathBuf {
        self.root().join("archive")
    }

    pub fn db_path(&self) -> PathBuf {
        self.archive().join("archive.db")
    }

    /// The binary as a std command, run in the sandbox, with no archive chosen and
    /// without proxies.
    pub fn bare_std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_slidearchive"));
        cmd.current_dir(self.root())
            .env_remove("SLIDEARCHIVE_ARCHIVE")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        for var in PROXY_VARIABLES {
            cmd.env_remove(var);
        }
        cmd
    }

    /// The binary as a std command: run in the sandbox, on its archive, without proxies.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = self.bare_std_cmd();
        cmd.arg("--archive").arg(self.archive());
        cmd
    }

    /// The binary, run in the sandbox, with no archive chosen.
    pub fn bare_cmd(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.bare_std_cmd())
    }

    /// The binary, run in the sandbox, on the sandbox's archive, without proxies.
    pub fn cmd(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.std_cmd())
    }

    /// `slidearchive --archive <archive> <args>`
    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(self.cmd().args(args))
    }

    /// Writes `bytes` at `rel` (folders created) and returns the full path.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn db(&self) -> Connection {
        Connection::open(self.db_path()).expect("archive.db opens")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// One text column of every row.
    pub fn texts(&self, sql: &str) -> Vec<String> {
        let db = self.db();
        let mut stmt = db.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

/// What one run of the binary did.
pub struct Run {
    pub code: Option<i32>,
    /// The bytes written, as they were (exports need not be UTF-8); see `stdout()`.
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn of(cmd: &mut assert_cmd::Command) -> Run {
        let started = Instant::now();
        let out = cmd.output().expect("binary runs");
        Run {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
            elapsed: started.elapsed(),
        }
    }

    /// Stdout as text.
    pub fn stdout(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("stdout is UTF-8")
    }

    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "exit status; stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        );
        self
    }

    pub fn ok(&self) -> &Run {
        self.expect_code(0)
    }
}

/// A tiny but real PNG (signature + IHDR chunk) of the given size; `seed` varies the
/// bytes, `padding` adds trailing bytes (the type is sniffed from the head).
pub fn png(width: u32, height: u32, seed: u8, padding: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, seed]);
    bytes.extend(std::iter::repeat_n(seed, padding));
    bytes
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}
