//! `callpark`: serve, or migrate.

use std::process::ExitCode;

use callpark_app::config::{Cli, Command, args_with_config_file};
use callpark_app::{Application, telemetry};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let args = match args_with_config_file(std::env::args().collect()) {
        Ok(args) => args,
        Err(e) => return fail(&e),
    };
    let cli = Cli::parse_from(args);
    telemetry::init(cli.log_format);
    match cli.command {
        Command::Serve(args) => {
            let settings = match args.settings() {
                Ok(settings) => settings,
                Err(e) => return fail(&e),
            };
            let app = match Application::build(settings).await {
                Ok(app) => app,
                Err(e) => return fail(&e),
            };
            announce(&app);
            match app.run_until_stopped().await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Command::Migrate(args) => match callpark_app::migrate(&args.database).await {
            Ok(()) => {
                tracing::info!("migrations applied");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
    }
}

#[allow(
    clippy::print_stdout,
    reason = "the sandbox's sign-in links are for the person who started it"
)]
fn announce(app: &Application) {
    let url = app.public_url();
    tracing::info!(%url, sandbox = app.is_sandbox(), "callpark is listening");
    if let Some(demo) = app.demo() {
        println!("\ncallpark sandbox: simulated calls, nothing leaves this machine.");
        println!("Organisation '{}' (number {}).", demo.org, demo.number);
        if demo.agents.is_empty() {
            println!(
                "Its agents were created on an earlier start; their sign-in links were shown then."
            );
        }
        for (identity, token) in &demo.agents {
            println!("  {identity:<6} {url}/#token={token}");
        }
        println!(
            "Open two of these links in two browser windows, press \"Simulate incoming call\", and park it.\n"
        );
    }
}

fn fail(error: &dyn std::error::Error) -> ExitCode {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!("{message}");
    #[allow(
        clippy::print_stderr,
        reason = "the error must reach the operator even without logs"
    )]
    {
        eprintln!("callpark: {message}");
    }
    ExitCode::FAILURE
}
