//! The `modelsign` command; everything but the signal handlers is in the library.

fn main() -> std::process::ExitCode {
    // Ctrl-C and SIGTERM stop the work at its next check point, so no partial signature
    // or temporary file is left; without the handlers (should installing them fail) they
    // kill the process as before, which leaves an existing signature intact as well.
    let _ = modelsign::hashing::interrupt::stop_on_signals();
    std::process::ExitCode::from(modelsign_cli::run(std::env::args_os().collect()))
}
