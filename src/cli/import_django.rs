//! `import-django --from <Django database>`: the move from Django, run
//! against our configured `DATABASE_URL` (migrated first, as the other
//! account commands do). The work is the library's
//! ([`simplejwt::django_import`]); this file opens both databases, draws the
//! progress bars (indicatif, on a terminal only) and says what was done and
//! what the operator must still do.

use simplejwt::django_import::{self, DjangoSource, ImportReport, Progress};

use super::config::Config;
use super::{CliResult, Failure};

/// Rows read and written per transaction.
const BATCH: usize = 1000;

/// One indicatif bar per table, on standard error (hidden when it is not a
/// terminal, so logs and CI output get the summary lines only).
#[derive(Default)]
struct Bars {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress for Bars {
    fn start(&mut self, table: &str, total: u64) {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix:>34} [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(table.to_owned());
        self.bar = Some(bar);
    }

    fn advance(&mut self, rows: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(rows);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

pub(crate) async fn run(config: &Config, from: &str, users_table: &str) -> CliResult {
    let mut source = DjangoSource::open(from, users_table)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let target = config.open_store().await?;
    eprintln!(
        "Importing from {} into {}.",
        source.label(),
        config.database_label()
    );
    let report = django_import::import(&mut source, &*target, BATCH, &mut Bars::default())
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    target.close().await;
    summarize(&report, users_table);
    if report.conflicts.is_empty() {
        Ok(())
    } else {
        Err(Failure::Runtime(conflicts_message(&report)))
    }
}

fn summarize(report: &ImportReport, users_table: &str) {
    eprintln!(
        "Users ({users_table}): {} in Django; {} imported now, {} already here, {} in conflict.",
        report.users_in_source,
        report.users_inserted,
        report.users_present,
        report.conflicts.len()
    );
    if report.has_token_tables {
        eprintln!(
            "Tokens: {} outstanding and {} blacklisted in Django; {} recorded now, {} blacklisted now{}.",
            report.tokens_in_source,
            report.blacklisted_in_source,
            report.tokens.recorded,
            report.tokens.blacklisted,
            if report.tokens.skipped > 0 {
                format!(", {} skipped (jti with NUL)", report.tokens.skipped)
            } else {
                String::new()
            }
        );
    } else {
        eprintln!(
            "Tokens: the Django database has no {} table (simplejwt's token_blacklist app \
             is not installed there): nothing to import.",
            django_import::OUTSTANDING_TABLE
        );
    }
    if !report.unverifiable.is_empty() {
        let formats: Vec<String> = report
            .unverifiable
            .iter()
            .map(|(name, n)| format!("{name}: {n}"))
            .collect();
        eprintln!(
            "Warning: {} user(s) have a password this server cannot verify ({}); they cannot \
             log in until it is set again (simplejwt changepassword NAME).",
            report.unverifiable.values().sum::<u64>(),
            formats.join(", ")
        );
    }
    eprintln!(
        "Tokens minted by Django stay valid here only with the same key: set \
         SIMPLE_JWT_SIGNING_KEY to Django's SIMPLE_JWT[\"SIGNING_KEY\"] (by default its SECRET_KEY) \
         and keep ALGORITHM, USER_ID_CLAIM and the lifetimes as they were. Running this again \
         changes nothing and imports only what is new."
    );
}

fn conflicts_message(report: &ImportReport) -> String {
    let mut lines = vec![format!(
        "{} user(s) were not imported: their id or username belongs to another account in \
         this database (import into a new database, before the first `serve`, which creates \
         `admin`):",
        report.conflicts.len()
    )];
    for c in report.conflicts.iter().take(10) {
        let mut why = Vec::new();
        if let Some(name) = &c.here_by_id {
            why.push(format!("id {} is {name:?} here", c.id));
        }
        if let Some(id) = c.here_by_username {
            why.push(format!("{:?} has id {id} here", c.username));
        }
        lines.push(format!(
            "  Django user {} {:?}: {}",
            c.id,
            c.username,
            why.join(", ")
        ));
    }
    if report.conflicts.len() > 10 {
        lines.push(format!("  … and {} more", report.conflicts.len() - 10));
    }
    lines.join("\n")
}
