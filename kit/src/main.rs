//! `lvmkit`: map the executable in bulk, then run one command (see [`cli`]; the recovery
//! kit's `lvmkit kit …` in [`cli_kit`], the Pacemaker agent's `lvmkit ocf …` and `lvmvg` in
//! [`cli_ocf`]).

mod cli;
mod cli_kit;
mod cli_ocf;

use std::process::ExitCode;

fn main() -> ExitCode {
    lvmkit::startup::prefault();
    // Installed as OCF_ROOT/resource.d/lvmkit/lvmvg: the agent (`lvmvg ACTION`).
    if let Some(code) = cli_ocf::invoked_as_agent() {
        return code;
    }
    cli::run()
}
