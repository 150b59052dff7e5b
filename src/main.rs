//! The `cognate` binary: parse the command line, set up logging, run.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = cognate::cli::Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(run(cli))
}

async fn run(cli: cognate::cli::Cli) -> ExitCode {
    let format = match &cli.command {
        cognate::cli::Command::Serve(args) => args.log_format,
        _ => cognate::config::LogFormat::Text,
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        // A log line that cannot be written (a full log volume) is dropped; by default
        // tracing reports it with `eprintln!`, which panics the request on that disk.
        .log_internal_errors(false);
    match format {
        // The request span's fields (request id, method, path) go on every line.
        cognate::config::LogFormat::Json => logs.json().with_current_span(true).init(),
        cognate::config::LogFormat::Text => logs.init(),
    }
    match cognate::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
