//! Signed-in pages' sessions. Not on a hot path (a page's own requests), so plain statements.

use std::time::Duration;

use callpark_domain::{Agent, AgentIdentity, NewSession, OrgSlug, StoreError, TokenHash};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use super::agents;
use crate::error;
use crate::rows::valid;
use crate::schema::sessions;

/// Keeps a new session, and forgets every session that expired.
pub(crate) async fn start(
    conn: &mut AsyncPgConnection,
    session: &NewSession,
) -> Result<(), StoreError> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(session.started_at)))
        .execute(conn)
        .await
        .map_err(error::query)?;
    diesel::insert_into(sessions::table)
        .values((
            sessions::hash.eq(session.hash.as_bytes().as_slice()),
            sessions::org.eq(session.org.as_str()),
            sessions::agent.eq(session.identity.as_str()),
            sessions::started_at.eq(session.started_at),
            sessions::last_used.eq(session.started_at),
            sessions::expires_at.eq(session.expires_at),
        ))
        .execute(conn)
        .await
        .map_err(error::query)?;
    Ok(())
}

/// The agent of a session live at `now`, which is marked used.
pub(crate) async fn agent(
    conn: &mut AsyncPgConnection,
    hash: &TokenHash,
    now: OffsetDateTime,
    idle: Duration,
) -> Result<Option<Agent>, StoreError> {
    let used_since = now - idle;
    let owner: Option<(String, String)> = diesel::update(
        sessions::table
            .filter(sessions::hash.eq(hash.as_bytes().as_slice()))
            .filter(sessions::last_used.gt(used_since))
            .filter(sessions::expires_at.gt(now)),
    )
    .set(sessions::last_used.eq(now))
    .returning((sessions::org, sessions::agent))
    .get_result(conn)
    .await
    .optional()
    .map_err(error::query)?;
    let Some((org, identity)) = owner else {
        return Ok(None);
    };
    let org = valid("sessions.org", OrgSlug::parse(&org)).map_err(error::corrupt)?;
    let identity =
        valid("sessions.agent", AgentIdentity::parse(&identity)).map_err(error::corrupt)?;
    agents::find_active(conn, &org, &identity).await
}

pub(crate) async fn end(conn: &mut AsyncPgConnection, hash: &TokenHash) -> Result<(), StoreError> {
    diesel::delete(sessions::table.filter(sessions::hash.eq(hash.as_bytes().as_slice())))
        .execute(conn)
        .await
        .map_err(error::query)?;
    Ok(())
}

pub(crate) async fn end_all_of(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    identity: &AgentIdentity,
) -> Result<(), StoreError> {
    diesel::delete(
        sessions::table
            .filter(sessions::org.eq(org.as_str()))
            .filter(sessions::agent.eq(identity.as_str())),
    )
    .execute(conn)
    .await
    .map_err(error::query)?;
    Ok(())
}
