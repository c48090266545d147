//! The `simplejwt` server binary: parse the command line, run one command,
//! exit with its status (0 ok, 1 failure, 2 bad configuration or usage).
//! All the work is in the library and in [`cli`].

mod cli;

/// mimalloc returns freed memory to the system promptly (glibc keeps large
/// freed blocks in per-thread arenas): the server's footprint follows its load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
