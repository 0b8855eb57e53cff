//! `lvmkit`: map the executable in bulk, then run one command (see [`cli`]).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    lvmkit::startup::prefault();
    cli::run()
}
