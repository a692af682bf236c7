//! The `visage` binary: the desktop app when run without a subcommand, the CLI otherwise.

use clap::Parser;
use std::process::ExitCode;
use visage::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    visage::timing::init();
    visage::device::set_choice(cli.device);
    visage::cli::set_detector(cli.detector, cli.min_face);
    let result = match &cli.command {
        Some(command) => command.run(),
        None => visage::app::run(cli.app.clone()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the outermost context and its causes.
            let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", dedup_chain(&chain));
            ExitCode::FAILURE
        }
    }
}

/// Joins an error chain with ": ", skipping causes already quoted by the message before them.
fn dedup_chain(chain: &[String]) -> String {
    let mut line = String::new();
    for part in chain {
        if !line.contains(part.as_str()) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(part);
        }
    }
    line
}
