// A panic reachable from a request is a bug: unwrap, expect and panic! only in tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
use clap::Parser;
use idhub::cli::{self, Cli, Command};
use std::io::IsTerminal;

use idhub::config::{LogFormat, Settings};
use idhub::startup::Application;

fn main() -> std::process::ExitCode {
    // glibc raises its mmap threshold to the size of any large block freed, so
    // after the first Argon2 work area (19 MiB) is freed the next ones come from
    // the heap and stay resident. A fixed 1 MiB threshold keeps them mmapped,
    // so freeing them gives the memory back to the system.
    // Every thread that allocates gets a glibc arena of its own, up to eight
    // per core, each keeping freed memory for reuse: the database threads
    // alone held several megabytes that way. Two arenas serve two workers.
    // SAFETY: called once, before any other thread exists.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("idhub: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        other => cli::run(other, &settings).and_then(|printed| print_out(&printed)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("idhub: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Prints a command's result. A reader that stopped reading (`| head`) is
/// no failure: the output was wanted up to there.
fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    init_logging(&settings.log, settings.log_format);
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone())?;
        tracing::info!(
            listen = %settings.listen,
            port = app.port(),
            database = %idhub::db::DatabaseLocation::parse(&settings.database_url)
                .map(|location| location.shown())
                .unwrap_or_default(),
            "idhub is serving"
        );
        for warning in settings.issuer_warnings() {
            tracing::warn!("{warning}");
        }
        app.run_until_stopped().await?;
        tracing::info!("idhub stopped");
        Ok(())
    })
}

/// Logs to stdout, in colour only on a terminal. idhub says itself when it
/// starts and stops, so actix's own lines are left out unless the filter
/// names `actix_server`.
fn init_logging(filter: &str, format: LogFormat) {
    let directives = match filter.contains("actix_server") {
        true => filter.to_owned(),
        false => format!("{filter},actix_server=warn"),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(directives));
    let logger = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => logger.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => logger.json().flatten_event(true).init(),
    }
}
