//! Agents: created with a token, looked up by identity or token, and their status.

use callpark_domain::{
    Agent, AgentChange, AgentIdentity, AgentStatus, CallSid, CreateAgentError, DisplayName,
    NewAgent, OrgSlug, Role, StoreError, TokenHash,
};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::sql_types::{Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::error::{self, violated_constraint};
use crate::rows::{CorruptRow, optional, unknown, valid};
use crate::schema::{agents, organisations};

diesel::define_sql_function! {
    /// See `sql/functions.sql`.
    fn callpark_agents_to_ring(org: Text, limit: Integer) -> Array<Text>;
}

diesel::define_sql_function! {
    /// See `sql/functions.sql`.
    fn callpark_set_agent_status(
        org: Text,
        identity: Text,
        status: Text,
        current_call: Nullable<Text>,
    ) -> Bool;
}

pub(crate) fn agent_status_name(status: AgentStatus) -> &'static str {
    match status {
        AgentStatus::Available => "available",
        AgentStatus::OnCall => "on_call",
        AgentStatus::Offline => "offline",
    }
}

fn agent_status(name: &str) -> Result<AgentStatus, CorruptRow> {
    match name {
        "available" => Ok(AgentStatus::Available),
        "on_call" => Ok(AgentStatus::OnCall),
        "offline" => Ok(AgentStatus::Offline),
        other => Err(unknown("agents.status", other)),
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = agents, check_for_backend(diesel::pg::Pg))]
struct AgentRow {
    org: String,
    identity: String,
    display_name: Option<String>,
    status: String,
    current_call: Option<String>,
    role: String,
    active: bool,
}

pub(crate) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Agent => "agent",
        Role::Supervisor => "supervisor",
    }
}

fn role(name: &str) -> Result<Role, CorruptRow> {
    match name {
        "agent" => Ok(Role::Agent),
        "supervisor" => Ok(Role::Supervisor),
        other => Err(unknown("agents.role", other)),
    }
}

impl TryFrom<AgentRow> for Agent {
    type Error = CorruptRow;

    fn try_from(row: AgentRow) -> Result<Self, CorruptRow> {
        Ok(Agent {
            org: valid("agents.org", OrgSlug::parse(&row.org))?,
            identity: valid("agents.identity", AgentIdentity::parse(&row.identity))?,
            display_name: optional(
                "agents.display_name",
                row.display_name.as_deref(),
                DisplayName::parse,
            )?,
            status: agent_status(&row.status)?,
            current_call: optional(
                "agents.current_call",
                row.current_call.as_deref(),
                CallSid::parse,
            )?,
            role: role(&row.role)?,
            active: row.active,
        })
    }
}

/// The agent a lookup of at most one row found.
fn found(row: QueryResult<AgentRow>) -> Result<Option<Agent>, StoreError> {
    row.optional()
        .map_err(error::query)?
        .map(|row| Agent::try_from(row).map_err(error::corrupt))
        .transpose()
}

/// A new agent, offline.
pub(crate) async fn create(
    conn: &mut AsyncPgConnection,
    agent: &NewAgent,
) -> Result<Agent, CreateAgentError> {
    let inserted = diesel::insert_into(agents::table)
        .values((
            agents::org.eq(agent.org.as_str()),
            agents::identity.eq(agent.identity.as_str()),
            agents::display_name.eq(agent.display_name.as_ref().map(|n| n.as_str())),
            agents::status.eq(agent_status_name(AgentStatus::Offline)),
            agents::token_hash.eq(agent.token_hash.as_bytes().as_slice()),
            agents::token_expires_at.eq(agent.token_expires_at),
            agents::role.eq(role_name(agent.role)),
        ))
        .returning(AgentRow::as_returning())
        .get_result(conn)
        .await;
    match inserted {
        Ok(row) => Agent::try_from(row).map_err(|e| error::corrupt(e).into()),
        Err(e) if violated_constraint(&e, DatabaseErrorKind::ForeignKeyViolation).is_some() => {
            Err(CreateAgentError::UnknownOrg)
        }
        Err(e)
            if violated_constraint(&e, DatabaseErrorKind::UniqueViolation)
                == Some("agents_pkey") =>
        {
            Err(CreateAgentError::AlreadyExists)
        }
        // A token hash shared by two agents is a bug of the token issuer, not a refusal the
        // caller can act on.
        Err(e) => Err(error::query(e).into()),
    }
}

pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    identity: &AgentIdentity,
) -> Result<Option<Agent>, StoreError> {
    let row = agents::table
        .find((org.as_str(), identity.as_str()))
        .select(AgentRow::as_select())
        .get_result(conn)
        .await;
    found(row)
}

/// The agent, while it and its organisation are active: one who may sign in.
pub(crate) async fn find_active(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    identity: &AgentIdentity,
) -> Result<Option<Agent>, StoreError> {
    let row = agents::table
        .find((org.as_str(), identity.as_str()))
        .inner_join(organisations::table)
        .filter(agents::active.and(organisations::active))
        .select(AgentRow::as_select())
        .get_result(conn)
        .await;
    found(row)
}

/// The agent of a token that has not expired by `now`, while it and its organisation are
/// active.
pub(crate) async fn find_by_token(
    conn: &mut AsyncPgConnection,
    hash: &TokenHash,
    now: OffsetDateTime,
) -> Result<Option<Agent>, StoreError> {
    let row = agents::table
        .inner_join(organisations::table)
        .filter(agents::token_hash.eq(hash.as_bytes().as_slice()))
        .filter(agents::active.and(organisations::active))
        .filter(
            agents::token_expires_at
                .is_null()
                .or(agents::token_expires_at.gt(now)),
        )
        .select(AgentRow::as_select())
        .get_result(conn)
        .await;
    found(row)
}

/// Gives the agent a new token in place of its old one; `false` for an unknown agent.
pub(crate) async fn replace_token(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    identity: &AgentIdentity,
    hash: &TokenHash,
    expires_at: Option<OffsetDateTime>,
) -> Result<bool, StoreError> {
    let updated = diesel::update(agents::table.find((org.as_str(), identity.as_str())))
        .set((
            agents::token_hash.eq(hash.as_bytes().as_slice()),
            agents::token_expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map_err(error::query)?;
    Ok(updated == 1)
}

/// Notes a sign of life; an earlier one never overwrites a later one.
pub(crate) async fn seen(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    identity: &AgentIdentity,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    diesel::update(
        agents::table
            .find((org.as_str(), identity.as_str()))
            .filter(agents::seen_at.is_null().or(agents::seen_at.lt(at))),
    )
    .set(agents::seen_at.eq(at))
    .execute(conn)
    .await
    .map_err(error::query)?;
    Ok(())
}

/// Every available agent not seen since `seen_before` goes offline.
pub(crate) async fn expire_presence(
    conn: &mut AsyncPgConnection,
    seen_before: OffsetDateTime,
) -> Result<Vec<Agent>, StoreError> {
    let rows = diesel::update(
        agents::table
            .filter(agents::status.eq(agent_status_name(AgentStatus::Available)))
            .filter(
                agents::seen_at
                    .is_null()
                    .or(agents::seen_at.lt(seen_before)),
            ),
    )
    .set((
        agents::status.eq(agent_status_name(AgentStatus::Offline)),
        agents::current_call.eq(None::<String>),
    ))
    .returning(AgentRow::as_returning())
    .get_results(conn)
    .await
    .map_err(error::query)?;
    rows.into_iter()
        .map(|row| Agent::try_from(row).map_err(error::corrupt))
        .collect()
}

/// Changes an agent's name or role (an admin's rare request: a statement per field set).
pub(crate) async fn change(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    identity: &AgentIdentity,
    change: &AgentChange,
) -> Result<Option<Agent>, StoreError> {
    let target = || agents::table.find((org.as_str(), identity.as_str()));
    if let Some(name) = &change.display_name {
        diesel::update(target())
            .set(agents::display_name.eq(name.as_ref().map(DisplayName::as_str)))
            .execute(conn)
            .await
            .map_err(error::query)?;
    }
    if let Some(role) = change.role {
        diesel::update(target())
            .set(agents::role.eq(role_name(role)))
            .execute(conn)
            .await
            .map_err(error::query)?;
    }
    find(conn, org, identity).await
}

/// Deactivates an agent: inactive, offline (the trigger keeps it so), its token expired.
pub(crate) async fn deactivate(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    identity: &AgentIdentity,
    at: OffsetDateTime,
) -> Result<Option<Agent>, StoreError> {
    let row = diesel::update(agents::table.find((org.as_str(), identity.as_str())))
        .set((agents::active.eq(false), agents::token_expires_at.eq(at)))
        .returning(AgentRow::as_returning())
        .get_result(conn)
        .await;
    found(row)
}

/// The organisation's agents, by identity.
pub(crate) async fn of_org(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
) -> Result<Vec<Agent>, StoreError> {
    agents::table
        .filter(agents::org.eq(org.as_str()))
        .order(agents::identity)
        .select(AgentRow::as_select())
        .load(conn)
        .await
        .map_err(error::query)?
        .into_iter()
        .map(|row| Agent::try_from(row).map_err(error::corrupt))
        .collect()
}

/// The agents an inbound call rings (see `sql/functions.sql`).
pub(crate) async fn to_ring(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    limit: usize,
) -> Result<Vec<AgentIdentity>, StoreError> {
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    let identities: Vec<String> = diesel::select(callpark_agents_to_ring(org.as_str(), limit))
        .get_result(conn)
        .await
        .map_err(error::query)?;
    identities
        .iter()
        .map(|i| valid("agents.identity", AgentIdentity::parse(i)).map_err(error::corrupt))
        .collect()
}

/// Whether the agent exists (and so was set).
pub(crate) async fn set_status(
    conn: &mut AsyncPgConnection,
    org: &OrgSlug,
    identity: &AgentIdentity,
    status: AgentStatus,
    current_call: Option<&CallSid>,
) -> Result<bool, StoreError> {
    diesel::select(callpark_set_agent_status(
        org.as_str(),
        identity.as_str(),
        agent_status_name(status),
        current_call.map(CallSid::as_str),
    ))
    .get_result(conn)
    .await
    .map_err(error::query)
}
