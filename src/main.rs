//! The `simplejwt` server binary: parse the command line, run one command,
//! exit with its status (0 ok, 1 failure, 2 bad configuration or usage).
//! All the work is in the library and in [`cli`].

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
