//! The `cognate` binary: parse the command line, set up logging, run.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Each argon2id hash allocates a 19 MiB block. glibc's malloc maps the first one, then
/// raises its mmap threshold to that size and keeps later blocks in per-thread arenas,
/// resident after they are freed: hundreds of MiB once many blocking threads have hashed.
/// A fixed threshold keeps every block mapped and unmapped. glibc reads it only from the
/// environment at start (and `mallopt` would need `unsafe`), so the server re-executes
/// itself once with the tunable set, unless the operator set tunables of their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fix_the_mmap_threshold() {
    use std::os::unix::process::CommandExt;
    const TUNABLES: &str = "GLIBC_TUNABLES";
    if std::env::var_os(TUNABLES).is_some() {
        return;
    }
    if let Ok(exe) = std::env::current_exe() {
        // `exec` returns only when it fails; then the server runs with glibc's defaults.
        let _ = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(TUNABLES, "glibc.malloc.mmap_threshold=131072")
            .exec();
    }
}

fn main() -> ExitCode {
    let cli = cognate::cli::Cli::parse();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if matches!(cli.command, cognate::cli::Command::Serve(_)) {
        fix_the_mmap_threshold();
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(run(cli))
}

async fn run(cli: cognate::cli::Cli) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        // A log line that cannot be written (a full log volume) is dropped; by default
        // tracing reports it with `eprintln!`, which panics the request on that disk.
        .log_internal_errors(false)
        .init();
    match cognate::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
