use std::process::ExitCode;

use clap::Parser;
use parley::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The template sandbox is a short-lived child: no runtime, no configuration, no threads.
    if matches!(cli.command, Some(Command::RenderSandbox)) {
        return parley::email::render::sandbox_main();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(parley::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
