//! `lvmkit`: map the executable in bulk, then run one command (see [`cli`]; the recovery
//! kit's `lvmkit kit …` in [`cli_kit`]).

mod cli;
mod cli_kit;

use std::process::ExitCode;

fn main() -> ExitCode {
    lvmkit::startup::prefault();
    cli::run()
}
