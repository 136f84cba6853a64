//! Organisations, the numbers that route to them, and the lot-state row each is created with.

use std::time::Duration;

use callpark_domain::{
    AgentStatus, Announcement, AutoSlot, ChangeOrgError, CreateOrgError, DisplayName, HttpUrl,
    Language, LotSize, NewOrganisation, OrgChange, OrgSlug, Organisation, PhoneNumber, SlotNumber,
    StoreError, TimeoutAction, Voice,
};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::error;
use crate::rows::{CorruptRow, number, optional, unknown, valid};
use crate::schema::{agents, org_lot_state, org_numbers, organisations, sessions};

diesel::define_sql_function! {
    /// See `sql/functions.sql`.
    #[allow(clippy::too_many_arguments)]
    fn callpark_change_org(
        org: Text,
        name: Nullable<Text>,
        lot_size: Nullable<Integer>,
        hold_music_url: Nullable<Text>,
        clear_hold_music: Bool,
        announcement: Nullable<Text>,
        voice: Nullable<Text>,
        clear_voice: Bool,
        max_park_seconds: Nullable<BigInt>,
        timeout_action: Nullable<Text>,
        auto_slot: Nullable<Text>,
    ) -> Jsonb;
}

/// Changes an organisation's settings in one transaction: those `callpark_change_org` keeps
/// under its lot's lock (see `sql/functions.sql`), then its language, its numbers and whether
/// it is in service. Any refusal rolls all of it back.
pub(crate) async fn change(
    conn: &mut AsyncPgConnection,
    slug: &OrgSlug,
    change: &OrgChange,
) -> Result<(), ChangeOrgError> {
    let changed = conn
        .transaction::<_, TxError<ChangeOrgError>, _>(async |conn| {
            change_settings(conn, slug, change).await?;
            if let Some(language) = &change.language {
                diesel::update(organisations::table.find(slug.as_str()))
                    .set(organisations::language.eq(language.as_ref().map(Language::as_str)))
                    .execute(conn)
                    .await?;
            }
            if let Some(numbers) = &change.numbers {
                replace_numbers(conn, slug, numbers).await?;
            }
            if let Some(active) = change.active {
                set_active(conn, slug, active).await?;
            }
            Ok(())
        })
        .await;
    match changed {
        Ok(()) => Ok(()),
        Err(TxError::Refused(e)) => Err(e),
        Err(TxError::Db(e)) => Err(error::query(e).into()),
    }
}

/// The settings `callpark_change_org` changes, or why it refused.
async fn change_settings(
    conn: &mut AsyncPgConnection,
    slug: &OrgSlug,
    change: &OrgChange,
) -> Result<(), TxError<ChangeOrgError>> {
    let hold = change.hold_music_url.as_ref();
    let voice = change.voice.as_ref();
    let answer: serde_json::Value = diesel::select(callpark_change_org(
        slug.as_str(),
        change.name.as_ref().map(DisplayName::as_str),
        change.lot_size.map(|n| i32::from(n.get())),
        hold.and_then(|h| h.as_ref().map(HttpUrl::as_str)),
        hold.is_some_and(Option::is_none),
        change.announcement.as_ref().map(Announcement::as_str),
        voice.and_then(|v| v.as_ref().map(Voice::as_str)),
        voice.is_some_and(Option::is_none),
        change
            .max_park
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        change.timeout_action.map(timeout_action_name),
        change.auto_slot.map(auto_slot_name),
    ))
    .get_result(conn)
    .await?;
    let corrupt = |what| {
        TxError::Refused(ChangeOrgError::Store(error::corrupt(unknown(
            "callpark_change_org",
            what,
        ))))
    };
    match answer["outcome"].as_str() {
        Some("changed") => Ok(()),
        Some("unknown_org") => Err(TxError::Refused(ChangeOrgError::UnknownOrg)),
        Some("slot_occupied") => answer["slot"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .and_then(|n| SlotNumber::new(n).ok())
            .map_or_else(
                || Err(corrupt("a slot_occupied without a slot")),
                |slot| Err(TxError::Refused(ChangeOrgError::SlotOccupied(slot))),
            ),
        _ => Err(corrupt("an unknown outcome")),
    }
}

/// The organisation's numbers become `numbers`, in that order; one that routes to another
/// organisation is refused (`ON CONFLICT DO NOTHING` waits for a concurrent claim of it).
async fn replace_numbers(
    conn: &mut AsyncPgConnection,
    slug: &OrgSlug,
    numbers: &[PhoneNumber],
) -> Result<(), TxError<ChangeOrgError>> {
    diesel::delete(org_numbers::table.filter(org_numbers::org.eq(slug.as_str())))
        .execute(conn)
        .await?;
    let rows: Vec<_> = numbers
        .iter()
        .zip(0..)
        .map(|(number, position)| {
            (
                org_numbers::number.eq(number.as_str()),
                org_numbers::org.eq(slug.as_str()),
                org_numbers::position.eq(position),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let routed: Vec<String> = diesel::insert_into(org_numbers::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .returning(org_numbers::number)
        .get_results(conn)
        .await?;
    match numbers
        .iter()
        .find(|n| !routed.iter().any(|r| r == n.as_str()))
    {
        Some(taken) => Err(TxError::Refused(ChangeOrgError::NumberTaken(taken.clone()))),
        None => Ok(()),
    }
}

/// Puts the organisation in or out of service. Out of it, its pages are signed out and its
/// agents `offline` at once; the sign-in queries refuse its agents from then on.
async fn set_active(
    conn: &mut AsyncPgConnection,
    slug: &OrgSlug,
    active: bool,
) -> Result<(), TxError<ChangeOrgError>> {
    diesel::update(organisations::table.find(slug.as_str()))
        .set(organisations::active.eq(active))
        .execute(conn)
        .await?;
    if !active {
        diesel::delete(sessions::table.filter(sessions::org.eq(slug.as_str())))
            .execute(conn)
            .await?;
        diesel::update(agents::table.filter(agents::org.eq(slug.as_str())))
            .set((
                agents::status.eq(super::agents::agent_status_name(AgentStatus::Offline)),
                agents::current_call.eq(None::<String>),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub(crate) fn timeout_action_name(action: TimeoutAction) -> &'static str {
    match action {
        TimeoutAction::Ringback => "ringback",
        TimeoutAction::Voicemail => "voicemail",
    }
}

pub(crate) fn auto_slot_name(policy: AutoSlot) -> &'static str {
    match policy {
        AutoSlot::FirstFree => "first_free",
        AutoSlot::NextAfterLastUsed => "next_after_last_used",
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations, check_for_backend(diesel::pg::Pg))]
struct OrgRow {
    slug: String,
    name: String,
    lot_size: i32,
    hold_music_url: Option<String>,
    announcement: String,
    voice: Option<String>,
    max_park_seconds: i64,
    timeout_action: String,
    auto_slot: String,
    language: Option<String>,
    active: bool,
}

impl OrgRow {
    /// The row for a new organisation. Park time is kept in whole seconds (the domain caps it
    /// at four hours); sub-second parts are dropped.
    fn new(org: &Organisation) -> Self {
        Self {
            slug: org.slug.as_str().to_owned(),
            name: org.name.as_str().to_owned(),
            lot_size: i32::from(org.lot_size.get()),
            hold_music_url: org.hold_music_url.as_ref().map(|u| u.as_str().to_owned()),
            announcement: org.announcement.as_str().to_owned(),
            voice: org.voice.as_ref().map(|v| v.as_str().to_owned()),
            max_park_seconds: i64::try_from(org.max_park.as_secs()).unwrap_or(i64::MAX),
            timeout_action: timeout_action_name(org.timeout_action).to_owned(),
            auto_slot: auto_slot_name(org.auto_slot).to_owned(),
            language: org.language.as_ref().map(|l| l.as_str().to_owned()),
            active: org.active,
        }
    }

    fn into_domain(self, numbers: Vec<String>) -> Result<Organisation, CorruptRow> {
        Ok(Organisation {
            slug: valid("organisations.slug", OrgSlug::parse(&self.slug))?,
            name: valid("organisations.name", DisplayName::parse(&self.name))?,
            lot_size: valid(
                "organisations.lot_size",
                LotSize::new(number("organisations.lot_size", self.lot_size)?),
            )?,
            numbers: numbers
                .iter()
                .map(|n| valid("org_numbers.number", PhoneNumber::parse(n)))
                .collect::<Result<_, _>>()?,
            hold_music_url: optional(
                "organisations.hold_music_url",
                self.hold_music_url.as_deref(),
                HttpUrl::parse,
            )?,
            announcement: valid(
                "organisations.announcement",
                Announcement::parse(&self.announcement),
            )?,
            voice: optional("organisations.voice", self.voice.as_deref(), Voice::parse)?,
            max_park: Duration::from_secs(
                u64::try_from(self.max_park_seconds)
                    .map_err(|_| unknown("organisations.max_park_seconds", "negative"))?,
            ),
            timeout_action: match self.timeout_action.as_str() {
                "ringback" => TimeoutAction::Ringback,
                "voicemail" => TimeoutAction::Voicemail,
                other => return Err(unknown("organisations.timeout_action", other)),
            },
            auto_slot: match self.auto_slot.as_str() {
                "first_free" => AutoSlot::FirstFree,
                "next_after_last_used" => AutoSlot::NextAfterLastUsed,
                other => return Err(unknown("organisations.auto_slot", other)),
            },
            language: optional(
                "organisations.language",
                self.language.as_deref(),
                Language::parse,
            )?,
            active: self.active,
        })
    }
}

/// The organisation `slug`, with its numbers in the order they were given.
pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    slug: &str,
) -> Result<Option<Organisation>, StoreError> {
    // Both queries go out at once (diesel-async pipelines futures polled together).
    let conn = &*conn;
    let org = organisations::table
        .find(slug)
        .select(OrgRow::as_select())
        .get_result(&mut &*conn);
    let numbers = org_numbers::table
        .filter(org_numbers::org.eq(slug))
        .order(org_numbers::position)
        .select(org_numbers::number)
        .load::<String>(&mut &*conn);
    let (org, numbers) = futures_util::future::join(org, numbers).await;
    let Some(org) = org.optional().map_err(error::query)? else {
        return Ok(None);
    };
    let numbers = numbers.map_err(error::query)?;
    org.into_domain(numbers).map(Some).map_err(error::corrupt)
}

/// Every organisation, by slug, with its numbers in the order they were given.
pub(crate) async fn all(conn: &mut AsyncPgConnection) -> Result<Vec<Organisation>, StoreError> {
    let orgs = organisations::table
        .order(organisations::slug)
        .select(OrgRow::as_select())
        .load(conn)
        .await
        .map_err(error::query)?;
    let mut numbers: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    let rows: Vec<(String, String)> = org_numbers::table
        .order((org_numbers::org, org_numbers::position))
        .select((org_numbers::org, org_numbers::number))
        .load(conn)
        .await
        .map_err(error::query)?;
    for (org, number) in rows {
        numbers.entry(org).or_default().push(number);
    }
    orgs.into_iter()
        .map(|org| {
            let numbers = numbers.remove(&org.slug).unwrap_or_default();
            org.into_domain(numbers).map_err(error::corrupt)
        })
        .collect()
}

/// The slug of the organisation `number` routes to.
pub(crate) async fn slug_of_number(
    conn: &mut AsyncPgConnection,
    number: &PhoneNumber,
) -> Result<Option<String>, StoreError> {
    org_numbers::table
        .find(number.as_str())
        .select(org_numbers::org)
        .get_result::<String>(conn)
        .await
        .optional()
        .map_err(error::query)
}

/// A transaction's failure: the caller's own refusal, or the database's.
enum TxError<E> {
    Refused(E),
    Db(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for TxError<E> {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

/// Creates the organisation, its numbers and its lot-state row in one transaction, and reads
/// back what was stored (so that what create returns is what [`find`] returns).
pub(crate) async fn create(
    conn: &mut AsyncPgConnection,
    org: &NewOrganisation,
) -> Result<Organisation, CreateOrgError> {
    let row = OrgRow::new(org);
    let numbers: Vec<_> = org
        .numbers
        .iter()
        .zip(0..)
        .map(|(number, position)| {
            (
                org_numbers::number.eq(number.as_str()),
                org_numbers::org.eq(org.slug.as_str()),
                org_numbers::position.eq(position),
            )
        })
        .collect();
    let created = conn
        .transaction::<_, TxError<CreateOrgError>, _>(async |conn| {
            let inserted = diesel::insert_into(organisations::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if inserted == 0 {
                return Err(TxError::Refused(CreateOrgError::AlreadyExists));
            }
            // ON CONFLICT DO NOTHING waits for a concurrent insert of the same number and
            // then skips it, so a number is never claimed twice.
            let routed: Vec<String> = if numbers.is_empty() {
                Vec::new()
            } else {
                diesel::insert_into(org_numbers::table)
                    .values(&numbers)
                    .on_conflict_do_nothing()
                    .returning(org_numbers::number)
                    .get_results(conn)
                    .await?
            };
            if let Some(taken) = org
                .numbers
                .iter()
                .find(|n| !routed.iter().any(|r| r == n.as_str()))
            {
                return Err(TxError::Refused(CreateOrgError::NumberTaken(taken.clone())));
            }
            diesel::insert_into(org_lot_state::table)
                .values(org_lot_state::org.eq(org.slug.as_str()))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await;
    match created {
        Ok(()) => {}
        Err(TxError::Refused(e)) => return Err(e),
        Err(TxError::Db(e)) => return Err(error::query(e).into()),
    }
    Ok(find(conn, org.slug.as_str()).await?.ok_or_else(|| {
        StoreError::Internal("the organisation vanished after it was created".into())
    })?)
}
