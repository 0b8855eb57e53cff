//! `lvmkit`: map the executable in bulk, then run one command (see [`cli`]; the recovery
//! kit's `lvmkit kit …` in [`cli_kit`], the Pacemaker agent's `lvmkit ocf …` and `lvmvg` in
//! [`cli_ocf`]).

/// `eprintln!` in one `write`: stderr is unbuffered, and std's `eprintln!` writes each piece
/// of its format separately (a warning naming a missing PV took 20 system calls, costly where
/// each is a round trip through a host, as under user-mode-linux). Shadows std's in this crate.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = std::io::stderr().write_all(format!("{}\n", format_args!($($arg)*)).as_bytes());
    }};
}

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
