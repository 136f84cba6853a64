//! Connection settings, and how every connection callpark opens is set up.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

/// The `application_name` of the store's pooled connections, so that operators can tell them
/// apart in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "callpark";

/// The `application_name` of [`crate::PgEvents`]'s LISTEN connection.
pub const LISTENER_APPLICATION_NAME: &str = "callpark-listener";

/// Where the database is and how long to wait for it.
#[derive(Clone)]
pub struct PgConfig {
    /// A libpq-style URL or key/value string, e.g. `postgres://callpark@db:5432/callpark`.
    pub url: String,
    /// The most connections the store's pool opens.
    pub pool_size: usize,
    /// How long to wait for a connection: opening one, or a free one from the pool. An
    /// operation that cannot get one in time fails with `StoreError::Unavailable`.
    pub connect_timeout: Duration,
    /// The server-side `statement_timeout` of every connection. The store also gives up on
    /// an operation (as unavailable) once it has waited for it this long past getting its
    /// connection, so a server that stopped answering cannot hang a request. Zero means no
    /// limit, as in Postgres.
    pub statement_timeout: Duration,
    /// How long the store keeps an organisation it has read before reading it again; zero
    /// reads it every time. Organisations are only ever created, never changed, through the
    /// service, so this only bounds how long a change made by hand in SQL goes unseen.
    pub org_cache_ttl: Duration,
}

impl PgConfig {
    /// A configuration with 16 connections, 5-second connect and statement timeouts, and
    /// organisations cached for 5 seconds.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 16,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
            org_cache_ttl: Duration::from_secs(5),
        }
    }

    /// The longest one store operation may take: getting a connection, then the statements;
    /// `None` when statements are not limited.
    pub(crate) fn operation_timeout(&self) -> Option<Duration> {
        (!self.statement_timeout.is_zero()).then(|| self.connect_timeout + self.statement_timeout)
    }

    /// The URL parsed, with our settings applied: `application_name`, the connect timeout and
    /// `statement_timeout` (sent as a startup option, so it costs no round trip).
    pub(crate) fn postgres_config(
        &self,
        application_name: &str,
    ) -> Result<tokio_postgres::Config, tokio_postgres::Error> {
        let mut pg = tokio_postgres::Config::from_str(&self.url)?;
        pg.application_name(application_name);
        pg.connect_timeout(self.connect_timeout);
        // Zero disables the timeout, as in Postgres; anything shorter than a millisecond is one.
        let millis = match self.statement_timeout.as_millis() {
            0 if !self.statement_timeout.is_zero() => 1,
            millis => millis,
        };
        let statement_timeout = format!("-c statement_timeout={millis}");
        // Keep whatever options the URL carries; ours come last and so win.
        let options = match pg.get_options() {
            Some(given) if !given.is_empty() => format!("{given} {statement_timeout}"),
            _ => statement_timeout,
        };
        pg.options(&options);
        Ok(pg)
    }
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: show it the way tokio-postgres does, which redacts it.
        let url: &dyn fmt::Debug = match tokio_postgres::Config::from_str(&self.url) {
            Ok(ref parsed) => &format!("{parsed:?}"),
            Err(_) => &"<unparsable>",
        };
        f.debug_struct("PgConfig")
            .field("url", url)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("org_cache_ttl", &self.org_cache_ttl)
            .finish()
    }
}

/// Opens one connection with the configuration's settings. diesel's connection errors carry
/// text only, so the cause is kept as its message.
pub(crate) fn establish(
    config: &PgConfig,
    application_name: &str,
) -> BoxFuture<'static, Result<AsyncPgConnection, ConnectionError>> {
    let pg = config.postgres_config(application_name);
    async move {
        let pg = pg.map_err(|e| ConnectionError::InvalidConnectionUrl(e.to_string()))?;
        let (client, connection) = pg
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| ConnectionError::BadConnection(error_chain(&e)))?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    }
    .boxed()
}

/// An error and its causes on one line: the only way to keep them through diesel's
/// string-typed connection errors.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some errors repeat their cause in their own message: say it once.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_timeout_and_name_are_set_and_url_options_kept() {
        let mut config =
            PgConfig::new("postgres://u:secret@h:5433/db?options=-c%20search_path%3Dx");
        config.statement_timeout = Duration::from_millis(1500);
        let pg = config.postgres_config("callpark").unwrap();
        assert_eq!(pg.get_application_name(), Some("callpark"));
        assert_eq!(
            pg.get_options(),
            Some("-c search_path=x -c statement_timeout=1500")
        );
        assert_eq!(pg.get_connect_timeout(), Some(&Duration::from_secs(5)));
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", PgConfig::new("postgres://u:secret@h/db"));
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("pool_size"));
    }
}
