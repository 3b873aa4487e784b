//! `freelanceflow`: one binary, one subcommand per role of the platform.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// Settings that may come from a file instead (`FF_DATABASE_URL_FILE`, e.g. a mounted Secret): the
/// file's content, trimmed, when the variable itself is not set.
const FROM_FILE: [&str; 1] = ["FF_DATABASE_URL"];

fn main() -> ExitCode {
    for var in FROM_FILE {
        let file_var = format!("{var}_FILE");
        if let (None, Some(path)) = (std::env::var_os(var), std::env::var_os(&file_var)) {
            match std::fs::read_to_string(&path) {
                // still one thread: setting the environment is safe here
                Ok(value) => std::env::set_var(var, value.trim()),
                Err(e) => {
                    eprintln!(
                        "error: {file_var}={}: {e}",
                        std::path::Path::new(&path).display()
                    );
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let args = cli::Cli::parse();
    cli::init_tracing(args.log_format);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
