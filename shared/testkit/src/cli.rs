//! The `snapback` binary as a user runs it.

use std::path::Path;
use std::process::Command;

/// What a run of the binary answered: exit status, stdout, stderr.
#[derive(Debug)]
pub struct Ran {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `binary` with `args` and these environment variables added.
pub fn run(binary: &Path, args: &[&str], env: &[(&str, String)]) -> Ran {
    let output = Command::new(binary)
        .args(args)
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .output()
        .unwrap_or_else(|error| panic!("{} cannot run: {error}", binary.display()));
    Ran {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
