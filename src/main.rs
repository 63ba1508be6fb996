use clap::Parser;
use idhub::cli::{self, Cli, Command};
use idhub::config::Settings;
use idhub::startup::Application;

fn main() -> std::process::ExitCode {
    // glibc raises its mmap threshold to the size of any large block freed, so
    // after the first Argon2 work area (19 MiB) is freed the next ones come from
    // the heap and stay resident. A fixed 1 MiB threshold keeps them mmapped,
    // so freeing them gives the memory back to the system.
    // SAFETY: called once, before any other thread exists.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
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
        other => cli::run(other, &settings).map(|printed| println!("{printed}")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("idhub: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    init_logging(&settings.log);
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone())?;
        tracing::info!(
            listen = %settings.listen,
            port = app.port(),
            database = %idhub::config::redact_url(&settings.database_url),
            "idhub is serving"
        );
        app.run_until_stopped().await?;
        tracing::info!("idhub stopped");
        Ok(())
    })
}

fn init_logging(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}
