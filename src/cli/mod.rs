//! Command line: `serve`, `migrate`, `createuser`, `changepassword`,
//! `setactive`, `sessions`, `logout`, `identities`, `flushexpiredtokens`, `import-django`, `keygen`, `keys`, `check`, `healthcheck`. Raw arguments ([`Cli`]) are kept
//! apart from the resolved configuration ([`config::Config`]) the commands
//! run on; every error ends in [`main`] with a message and an exit status.

mod audit;
mod config;
mod healthcheck;
mod identities;
mod import_django;
mod keygen;
mod keys;
mod serve;
mod sessions;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A failure with the exit status it maps to.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad configuration or usage: exit 2.
    Config(String),
    /// A request the command refuses (a password, a user name, a key step
    /// too early): exit 2, said as it is, not as a configuration error.
    Refused(String),
    /// Anything else: exit 1.
    Runtime(String),
}

impl Failure {
    /// What went wrong, whatever the exit status.
    pub(crate) fn message(self) -> String {
        match self {
            Failure::Config(m) | Failure::Refused(m) | Failure::Runtime(m) => m,
        }
    }
}

impl From<simplejwt::settings::SettingsError> for Failure {
    fn from(e: simplejwt::settings::SettingsError) -> Self {
        Failure::Config(e.to_string())
    }
}

impl From<simplejwt::store::StoreError> for Failure {
    fn from(e: simplejwt::store::StoreError) -> Self {
        Failure::Runtime(e.to_string())
    }
}

pub(crate) type CliResult<T = ()> = Result<T, Failure>;

#[derive(Parser, Debug)]
#[command(
    name = "simplejwt",
    version,
    about = "JWT access/refresh authentication server, wire-compatible with djangorestframework-simplejwt",
    long_about = "JWT access/refresh authentication server, wire-compatible with \
djangorestframework-simplejwt 5.5.1.\n\n\
Settings come from SIMPLE_JWT_<NAME> environment variables (e.g. \
SIMPLE_JWT_ACCESS_TOKEN_LIFETIME=5m, SIMPLE_JWT_ROTATE_REFRESH_TOKENS=true, \
SIMPLE_JWT_SIGNING_KEY_FILE=key.pem) and from a TOML file given with --config; \
the environment wins. The database is DATABASE_URL (default: \
sqlite://simplejwt.sqlite3 in the working directory, or postgres://...)."
)]
pub(crate) struct Cli {
    /// TOML configuration file ([simple_jwt] settings, [server] options).
    #[arg(long, global = true, value_name = "FILE", env = "SIMPLEJWT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum IdentitiesAction {
    /// List a user's identities: id, provider, issuer, subject, e-mail, linked at.
    List {
        /// Login name.
        name: String,
    },
    /// Unlink one identity (never the user's last way to sign in).
    Unlink {
        /// Login name.
        name: String,
        /// The identity's id (as `list` shows it).
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve {
        /// Address to listen on [env: SIMPLEJWT_BIND] (default 127.0.0.1:8000).
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Create a user (prompts for the password without echo in a terminal).
    Createuser {
        /// Login name.
        name: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// Create the account inactive (it cannot log in).
        #[arg(long)]
        inactive: bool,
        /// Mark the user as staff.
        #[arg(long)]
        staff: bool,
        /// Mark the user as superuser (and staff).
        #[arg(long)]
        superuser: bool,
        /// E-mail address.
        #[arg(long, value_name = "E")]
        email: Option<String>,
        /// Accept a password Django's default validators refuse (too short, too common,
        /// entirely numeric, too similar to the username).
        #[arg(long)]
        skip_password_validation: bool,
    },
    /// Set a user's password.
    Changepassword {
        /// Login name.
        name: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// Accept a password Django's default validators refuse.
        #[arg(long)]
        skip_password_validation: bool,
    },
    /// Activate or deactivate a user (takes effect at the user's next request).
    Setactive {
        /// Login name.
        name: String,
        /// true to activate, false to deactivate.
        #[arg(action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
        active: bool,
    },
    /// List a user's live sessions: id, created, last used, address, user agent.
    Sessions {
        /// Login name.
        name: String,
    },
    /// End a user's sessions (all, or the one --session names); their tokens are blacklisted.
    Logout {
        /// Login name.
        name: String,
        /// The id of the one session to end (as `sessions` lists it).
        #[arg(long, value_name = "ID")]
        session: Option<String>,
    },
    /// List or unlink the provider identities (social login) of a user.
    Identities {
        #[command(subcommand)]
        action: IdentitiesAction,
    },
    /// Delete outstanding (and blacklisted) tokens whose expiry (plus LEEWAY) has passed, and audit
    /// events older than AUDIT_RETENTION, in small batches.
    Flushexpiredtokens {
        /// Rows deleted per transaction.
        #[arg(long, default_value_t = 1000)]
        batch: i64,
    },
    /// Copy users and the token blacklist from a Django project's database into DATABASE_URL
    /// (idempotent: running it again changes nothing).
    #[command(name = "import-django")]
    ImportDjango {
        /// The Django database: a SQLite file (path or sqlite:///path) or a postgres:// URL.
        #[arg(long = "from", value_name = "DATABASE")]
        from: String,
        /// The users table (a custom user model's, with AbstractUser's columns).
        #[arg(long, value_name = "TABLE", default_value = simplejwt::django_import::DEFAULT_USERS_TABLE)]
        users_table: String,
    },
    /// Generate a signing key: an HMAC secret, or a PEM key pair.
    Keygen {
        /// HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA.
        #[arg(long, default_value = "HS256")]
        algorithm: String,
        /// Write <PREFIX>.key (private, mode 0600) [and <PREFIX>.pub] instead of printing.
        #[arg(long, value_name = "PREFIX")]
        out: Option<PathBuf>,
        /// Instead of a signing key: a self-signed TLS certificate for local
        /// development, written to <PREFIX>.crt and <PREFIX>.key (mode 0600)
        /// for TLS_CERT_FILE and TLS_KEY_FILE.
        #[arg(long, requires = "out", conflicts_with = "algorithm")]
        tls_cert: bool,
        /// With --tls-cert: a name or address it is for (repeatable;
        /// default localhost, 127.0.0.1 and ::1).
        #[arg(long = "host", value_name = "NAME", requires = "tls_cert")]
        hosts: Vec<String>,
        /// With --tls-cert: days the certificate is valid.
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=825), requires = "tls_cert")]
        days: u32,
    },
    /// Rotate keys in KEYS_DIR without logging anyone out: init, add, promote, retire, list.
    Keys {
        #[command(subcommand)]
        step: keys::KeysCommand,
    },
    /// Validate the configuration and the database; print the effective settings (secrets masked).
    Check,
    /// Ask a running server's GET /healthz (at BIND, or --address); exit 0 when it answers 200.
    Healthcheck {
        /// host:port to ask instead of BIND (a 0.0.0.0 bind is asked on 127.0.0.1).
        #[arg(long, value_name = "HOST:PORT")]
        address: Option<String>,
    },
    /// Print every setting and server option with its default and description.
    Settings {
        /// As the README's markdown tables.
        #[arg(long, conflicts_with = "toml")]
        markdown: bool,
        /// As an example configuration file (every setting commented out at its default).
        #[arg(long)]
        toml: bool,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("simplejwt: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(message)) => {
            eprintln!("simplejwt: configuration error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Refused(message)) => {
            eprintln!("simplejwt: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(message)) => {
            eprintln!("simplejwt: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> CliResult {
    if let Command::Keygen {
        algorithm,
        out,
        tls_cert,
        hosts,
        days,
    } = &cli.command
    {
        if *tls_cert {
            let out = out.as_deref().expect("clap requires --out with --tls-cert");
            return keygen::run_tls_cert(out, hosts, *days);
        }
        return keygen::run(algorithm, out.as_deref());
    }
    if let Command::Settings { markdown, toml } = &cli.command {
        use simplejwt::settings::docs;
        match (markdown, toml) {
            (_, true) => print!("{}", docs::toml_example()),
            _ => print!("{}", docs::readme_tables()),
        }
        return Ok(());
    }
    let config = config::Config::load(cli.config.as_deref())?;
    let _log_guard = config::init_logging(&config);
    match cli.command {
        Command::Serve { bind } => serve::run(config, bind).await,
        Command::Migrate => {
            let store = config.connect().await?;
            if let Err(e) = store.migrate().await {
                return Err(config.unreachable(e).await);
            }
            eprintln!("Database {} is up to date.", config.database_label());
            Ok(())
        }
        Command::Createuser {
            name,
            password_stdin,
            inactive,
            staff,
            superuser,
            email,
            skip_password_validation,
        } => {
            users::create(
                &config,
                users::NewUserArgs {
                    name,
                    password_stdin,
                    active: !inactive,
                    staff: staff || superuser,
                    superuser,
                    email: email.unwrap_or_default(),
                    skip_password_validation,
                },
            )
            .await
        }
        Command::Changepassword {
            name,
            password_stdin,
            skip_password_validation,
        } => users::change_password(&config, &name, password_stdin, skip_password_validation).await,
        Command::Setactive { name, active } => users::set_active(&config, &name, active).await,
        Command::Sessions { name } => sessions::list(&config, &name).await,
        Command::Logout { name, session } => {
            sessions::logout(&config, &name, session.as_deref()).await
        }
        Command::Identities { action } => match action {
            IdentitiesAction::List { name } => identities::list(&config, &name).await,
            IdentitiesAction::Unlink { name, id } => identities::unlink(&config, &name, id).await,
        },
        Command::Flushexpiredtokens { batch } => {
            if batch < 1 {
                return Err(Failure::Config("--batch must be at least 1".into()));
            }
            // Verification accepts a token up to LEEWAY past its `exp`: its
            // blacklist row must outlive that (issue 15 point 12; simplejwt
            // flushes at `exp`, so a logged-out token works again).
            let settings = config.settings()?;
            let leeway = settings.leeway().as_secs() as i64;
            let store = config.open_store().await?;
            let now = simplejwt::token::Timestamp::now().epoch();
            let deleted = store.flush_expired(now - leeway, batch).await?;
            eprintln!("Deleted {deleted} expired token(s).");
            let retention = settings.audit_retention();
            let cutoff = now.saturating_sub(retention.as_secs() as i64);
            let deleted = store.flush_audit(cutoff, batch).await?;
            eprintln!(
                "Deleted {deleted} audit event(s) older than {} (AUDIT_RETENTION).",
                simplejwt::settings::format_duration(retention)
            );
            Ok(())
        }
        Command::ImportDjango { from, users_table } => {
            import_django::run(&config, &from, &users_table).await
        }
        Command::Healthcheck { address } => healthcheck::run(&config, address).await,
        Command::Keys { step } => keys::run(&config, step),
        Command::Check => config::check(&config).await,
        Command::Keygen { .. } | Command::Settings { .. } => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Cli, Command};
    use clap::Parser as _;

    #[test]
    fn a_kid_that_starts_with_a_hyphen_is_a_kid_not_an_option() {
        // RFC 7638 thumbprints are base64url: one in 64 starts with '-'.
        for step in ["promote", "retire"] {
            let cli = Cli::try_parse_from(["simplejwt", "keys", step, "-Zk3x_kid"])
                .unwrap_or_else(|e| panic!("keys {step} -Zk3x_kid: {e}"));
            let Command::Keys { step } = cli.command else {
                panic!("not the keys command");
            };
            assert!(format!("{step:?}").contains("\"-Zk3x_kid\""), "{step:?}");
        }
        let cli = Cli::try_parse_from(["simplejwt", "keys", "retire", "-Zk3x_kid", "--force"])
            .expect("--force after a hyphenated kid");
        assert!(format!("{:?}", cli.command).contains("force: true"));
    }
}
