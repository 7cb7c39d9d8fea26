//! The built bootstrap binaries under cargo-lambda's Lambda runtime emulator: `cargo lambda
//! watch --only-lambda-apis` serves the Runtime API, the binary polls it like on AWS, and
//! `cargo lambda invoke` sends the event.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when dropped, so a failing test leaves nothing running.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_owned()
}

/// A function binary of the workspace, built by `make test` (dev profile).
pub fn function_binary(name: &str) -> PathBuf {
    built_binary("debug", name, &format!("cargo build -p {name}` (make test does)"))
}

/// `name` as the cargo profile directory `profile` holds it; `build` says how to build it.
fn built_binary(profile: &str, name: &str, build: &str) -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    let binary = target.join(profile).join(name);
    assert!(binary.exists(), "{} is not built: run `{build}", binary.display());
    binary
}

/// cargo-lambda from the project virtualenv (or PATH).
pub fn cargo_lambda() -> PathBuf {
    let local = workspace_root().join(".venv/bin/cargo-lambda");
    if local.exists() {
        local
    } else {
        PathBuf::from("cargo-lambda")
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, within: Duration) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < within, "nothing listens on port {port} after {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A function running under the emulator.
pub struct LocalLambda {
    port: u16,
    _emulator: Running,
    _function: Running,
}

impl LocalLambda {
    /// Starts the emulator, then the binary with `env` (plus the Runtime API variables).
    pub fn start(binary: &Path, env: &[(&str, String)]) -> LocalLambda {
        LocalLambda::start_logging(binary, env, None)
    }

    /// As [`LocalLambda::start`], with the function's output written to `log`.
    pub fn start_logging(binary: &Path, env: &[(&str, String)], log: Option<&Path>) -> LocalLambda {
        let port = free_port();
        let emulator = Running(
            Command::new(cargo_lambda())
                .args([
                    "lambda",
                    "watch",
                    "--only-lambda-apis",
                    "--timeout",
                    "30",
                    "-A",
                    "127.0.0.1",
                    "-P",
                    &port.to_string(),
                ])
                .current_dir(workspace_root())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cargo-lambda runs (make tools installs it)"),
        );
        wait_for_port(port, Duration::from_secs(30));
        let mut command = Command::new(binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        match log {
            Some(path) => {
                let file = std::fs::File::create(path).unwrap();
                command.stdout(file.try_clone().unwrap()).stderr(file);
            }
            None => {
                command.stdout(Stdio::null());
            }
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let function = Running(command.spawn().expect("the function binary starts"));
        LocalLambda { port, _emulator: emulator, _function: function }
    }

    /// Invokes the function with `event` through `cargo lambda invoke`; returns its JSON answer.
    pub fn invoke(&self, event: &serde_json::Value) -> serde_json::Value {
        let (ok, output) = self.invoke_result(event);
        assert!(ok, "invoke failed: {output}");
        let output = output.trim();
        serde_json::from_str(output).unwrap_or_else(|e| panic!("answer is not JSON ({e}): {output}"))
    }

    /// Invokes and returns whether the function succeeded, with everything `cargo lambda invoke`
    /// printed (the answer, or the function's error).
    pub fn invoke_result(&self, event: &serde_json::Value) -> (bool, String) {
        let file = std::env::temp_dir().join(format!("snapback-event-{}-{}.json", std::process::id(), self.port));
        std::fs::write(&file, event.to_string()).unwrap();
        let output = Command::new(cargo_lambda())
            .args([
                "lambda",
                "invoke",
                "_",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &self.port.to_string(),
                "--data-file",
            ])
            .arg(&file)
            .output()
            .expect("cargo lambda invoke runs");
        let _ = std::fs::remove_file(&file);
        let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.success(), printed)
    }
}

/// A bootstrap of the release build (`cargo build --release -p <name>` first).
pub fn release_binary(name: &str) -> PathBuf {
    built_binary("release", name, &format!("cargo build --release -p {name}`"))
}

/// The release bootstrap `name` polling `api`, with the world's settings and then `env`.
pub fn spawn_release(
    name: &str,
    api: &crate::runtime_api::RuntimeApi,
    world: &crate::World,
    env: &[(&str, String)],
) -> Running {
    Running(
        Command::new(release_binary(name))
            .envs(world.function_env())
            .envs(env.iter().cloned())
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", api.port))
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// The `p` quantile (0..=1) of sorted timings; NaN for none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted.is_empty() {
        true => f64::NAN,
        false => sorted[((sorted.len() as f64 - 1.0) * p).round() as usize],
    }
}
