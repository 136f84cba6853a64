//! Embedding `callpark-domain` in an application of your own: a PBX-like app with its own
//! telephony and storage, driving the park/retrieve life of several calls.
//!
//! Run it with `cargo run -p callpark-domain --example embed`. It prints a transcript, checks
//! every step, and exits non-zero with the failed check's message when one fails.
//!
//! What an embedder provides, and where it is here:
//!
//! - [`Telephony`]: [`Switch`], an in-process simulated switch. A real one wraps a carrier's or
//!   a PBX's API. It honours the port's contract: it moves a call only by redirecting it to a
//!   URL, it reports a caller who is gone (`NotInProgress`, `NotFound`), and it can lose the
//!   answer to a request that it did carry out (`OutcomeUnknown`).
//! - [`WebhookUrls`]: [`AppUrls`], the URLs of the app's own front end that serves what the
//!   caller hears (conference, ringing the agent, voicemail) and receives the switch's
//!   callbacks. The front end turns those callbacks into calls of the service's `on_*` methods;
//!   here the script makes those calls itself where the callbacks would arrive.
//! - [`ParkingStore`] and [`EventPublisher`]: the in-memory ones from `callpark-memory`. A real
//!   deployment plugs its own store in at the same place (see [`App::new`]), after running the
//!   store conformance kit against it.
//! - [`Clock`](callpark_domain::Clock): a manual clock, so that a deadline can pass at once.
//!   A real app passes [`callpark_domain::SystemClock`].

// The example's output is its transcript.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Display;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use callpark_domain::testkit::ManualClock;
use callpark_domain::{
    AfterDial, Agent, AgentIdentity, AgentStatus, Announcement, AutoSlot, CallSid, CallStatus,
    CallStatusUpdate, Caller, ClientIdentity, ConferenceEvent, ConferenceEventKind,
    DEFAULT_RETRIEVE_RING_TIME, DialOutcome, DisplayName, EventSubscription, HttpUrl, InboundCall,
    LotEvent, LotEventKind, LotSize, NewAgent, OrgSlug, Organisation, ParkError, ParkRequest,
    ParkState, ParkedCall, ParkedCallId, ParkingService, PhoneNumber, Ports, Retrieval,
    RetrieveError, Sequence, SlotNumber, TelephonyFailure, TimeoutAction, TokenHash, WebhookUrls,
};
use callpark_memory::{MemoryEvents, MemoryStore};
use time::OffsetDateTime;

/// A failed check, with what was expected.
type Checked<T = ()> = Result<T, String>;

fn check(ok: bool, what: impl Display) -> Checked {
    if ok { Ok(()) } else { Err(what.to_string()) }
}

/// Turns a service error into a failed check that names the step.
fn failed<E: std::error::Error>(step: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{step}: {e}")
}

mod switch;

use switch::{AppUrls, Switch};

// ---------------------------------------------------------------------------------------------
// The application

/// The embedding: the service over its ports, and what the app keeps to drive and watch it.
struct App {
    service: ParkingService,
    switch: Arc<Switch>,
    clock: Arc<ManualClock>,
    urls: AppUrls,
    org: Organisation,
    /// The lot's live event stream, and every event it delivered so far.
    stream: Box<dyn EventSubscription>,
    seen: Vec<LotEvent>,
}

fn org_settings() -> Checked<Organisation> {
    let invalid = |e: callpark_domain::InvalidValue| e.to_string();
    Ok(Organisation {
        slug: OrgSlug::parse("acme").map_err(invalid)?,
        name: DisplayName::parse("Acme Support").map_err(invalid)?,
        lot_size: LotSize::new(3).map_err(invalid)?,
        numbers: vec![PhoneNumber::parse("+15550100000").map_err(invalid)?],
        hold_music_url: None,
        announcement: Announcement::parse("Please hold, an agent will be with you.")
            .map_err(invalid)?,
        voice: None,
        max_park: Duration::from_secs(60),
        timeout_action: TimeoutAction::Ringback,
        auto_slot: AutoSlot::FirstFree,
        language: None,
        active: true,
    })
}

impl App {
    async fn new() -> Checked<Self> {
        let switch = Arc::new(Switch::default());
        let clock = Arc::new(ManualClock::new(
            OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a time"),
        ));
        let urls = AppUrls {
            base: "https://pbx.example/callpark",
        };
        // The one place storage plugs in: a deployment of its own passes its store here
        // (e.g. `callpark_postgres::PgStore`, or an adapter over its own database) and an
        // event publisher that reaches every instance.
        let store = Arc::new(MemoryStore::new());
        let events = Arc::new(MemoryEvents::new());
        let service = ParkingService::new(Ports {
            store,
            telephony: switch.clone(),
            events,
            clock: clock.clone(),
            urls: Arc::new(urls.clone()),
        });
        let stream = service.subscribe();
        let org = service
            .create_org(&org_settings()?)
            .await
            .map_err(failed("create the organisation"))?;
        Ok(Self {
            service,
            switch,
            clock,
            urls,
            org,
            stream,
            seen: Vec::new(),
        })
    }

    /// A signed-in agent of the organisation.
    async fn agent(&self, name: &str, token: u8) -> Checked<Agent> {
        let identity = AgentIdentity::parse(name).map_err(|e| e.to_string())?;
        let agent = self
            .service
            .create_agent(&NewAgent {
                org: self.org.slug.clone(),
                identity,
                display_name: None,
                // The digest of the agent's API token: computing it is the front end's job.
                token_hash: TokenHash::from_bytes([token; 32]),
                token_expires_at: None,
                role: callpark_domain::Role::Agent,
            })
            .await
            .map_err(failed("create an agent"))?;
        self.service
            .set_presence(&agent, AgentStatus::Available)
            .await
            .map_err(failed("sign an agent in"))?;
        Ok(agent)
    }

    async fn status_of(&self, agent: &Agent) -> Checked<AgentStatus> {
        let agents = self
            .service
            .agents(&self.org.slug)
            .await
            .map_err(failed("agents"))?;
        agents
            .into_iter()
            .find(|a| a.identity == agent.identity)
            .map(|a| a.status)
            .ok_or_else(|| format!("agent {} is gone", agent.identity))
    }

    /// A caller dials the organisation and `agent` answers; the front end reports the inbound
    /// call and the agent's leg as the switch's webhooks tell it. Returns (caller's leg,
    /// agent's leg).
    async fn answered_call(&self, number: &str, agent: &Agent) -> Checked<(CallSid, CallSid)> {
        let caller = Caller {
            number: Some(PhoneNumber::parse(number).map_err(|e| e.to_string())?),
            name: None,
        };
        let pstn = self.switch.incoming(caller.clone());
        let routing = self
            .service
            .on_inbound_call(InboundCall {
                pstn: pstn.clone(),
                dialled: self.org.numbers[0].clone(),
                caller,
            })
            .await
            .map_err(failed("inbound call"))?;
        check(
            routing
                .agents
                .contains(&ClientIdentity::of(&agent.org, &agent.identity)),
            format!("{} is rung for the inbound call", agent.identity),
        )?;
        let leg = self.switch.agent_answers(&pstn);
        self.report_leg(&leg, Some(&pstn), CallStatus::InProgress, Some(agent))
            .await?;
        Ok((pstn, leg))
    }

    /// What the switch's call-status callback says, as the front end hands it to the service.
    async fn report_leg(
        &self,
        call: &CallSid,
        parent: Option<&CallSid>,
        status: CallStatus,
        agent: Option<&Agent>,
    ) -> Checked {
        self.service
            .on_call_status(&CallStatusUpdate {
                call: call.clone(),
                parent: parent.cloned(),
                status,
                agent: agent.map(|a| ClientIdentity::of(&a.org, &a.identity)),
                sequence: None,
            })
            .await
            .map_err(failed("call status"))
    }

    /// The switch fetched the hold URL and put the caller into the parked call's conference.
    async fn caller_joins_conference(&self, id: ParkedCallId) -> Checked<ParkedCall> {
        let joined = ConferenceEvent {
            conference_name: id.conference_name(),
            conference_sid: self.switch.new_conference(),
            kind: ConferenceEventKind::ParticipantJoined,
        };
        self.service
            .on_conference_event(&joined)
            .await
            .map_err(failed("conference event"))?
            .ok_or_else(|| format!("the conference of {id} leads to no parked call"))
    }

    async fn park(&self, agent: &Agent, leg: &CallSid, slot: Option<u32>) -> Checked<ParkedCall> {
        let request = ParkRequest {
            call: leg.clone(),
            slot: slot.map(slot_number),
        };
        let parked = self
            .service
            .park(agent, request)
            .await
            .map_err(failed("park"))?;
        check(
            parked.state == ParkState::Parked,
            format!("parked, not {}", parked.state),
        )?;
        check(
            self.switch.following(&parked.pstn_call) == Some(self.urls.park(parked.id)),
            "the caller's leg was redirected to the hold URL",
        )?;
        check(!self.switch.is_live(leg), "the parker's leg dropped")?;
        Ok(parked)
    }

    async fn record(&self, id: ParkedCallId) -> Checked<ParkedCall> {
        let found = self.service.parked_call(id).await.map_err(failed("read"))?;
        found
            .map(|ctx| ctx.call)
            .ok_or_else(|| format!("parked call {id} is gone"))
    }

    /// Prints the lot and returns the occupied slots with their states.
    async fn show_lot(&self) -> Checked<Vec<(u16, ParkState)>> {
        let lot = self.service.lot(&self.org).await.map_err(failed("lot"))?;
        let mut occupied = Vec::new();
        let mut line = format!("  lot of {} at #{}:", lot.org.slug, lot.sequence);
        for slot in &lot.slots {
            match &slot.call {
                Some(call) => {
                    occupied.push((slot.slot.get(), call.state));
                    line += &format!(" [{} {} by {}]", slot.slot, call.state, call.parked_by);
                }
                None => line += &format!(" [{} free]", slot.slot),
            }
        }
        println!("{line}");
        Ok(occupied)
    }

    /// Reads what the live stream delivered since the last look; it must be `kinds`, in order,
    /// with no gap in the sequence.
    async fn expect_events(&mut self, kinds: &[LotEventKind]) -> Checked {
        let mut delivered = Vec::new();
        // The service publishes before it returns: every event of the step is waiting.
        while let Ok(next) = tokio::time::timeout(Duration::ZERO, self.stream.next()).await {
            delivered.push(next.map_err(failed("event stream"))?);
        }
        let names: Vec<String> = delivered
            .iter()
            .map(|e| format!("#{} {}", e.sequence, e.kind))
            .collect();
        println!("  events: {}", names.join(", "));
        let got: Vec<LotEventKind> = delivered.iter().map(|e| e.kind).collect();
        check(got == kinds, format!("events {got:?}, expected {kinds:?}"))?;
        for event in delivered {
            let expected = self
                .seen
                .last()
                .map_or(Sequence::ZERO, |e| e.sequence)
                .next();
            check(
                event.sequence == expected,
                format!("event #{} follows #{}", event.sequence, expected),
            )?;
            self.seen.push(event);
        }
        Ok(())
    }
}

fn slot_number(n: u32) -> SlotNumber {
    SlotNumber::new(n).expect("a slot number")
}

// ---------------------------------------------------------------------------------------------
// The script

fn step(title: &str) {
    println!("\n== {title}");
}

async fn park_and_retrieve(app: &mut App, alice: &Agent, bob: &Agent) -> Checked {
    use LotEventKind::{Parked, Retrieved, Retrieving, Updated};
    step("a caller rings, alice answers and parks the call");
    let (pstn, alice_leg) = app.answered_call("+15557770001", alice).await?;
    let parked = app.park(alice, &alice_leg, None).await?;
    println!(
        "  parked in slot {} (conference {})",
        parked.slot,
        parked.conference_name()
    );
    check(parked.slot.get() == 1, "the first free slot is 1")?;
    check(
        app.status_of(alice).await? == AgentStatus::Available,
        "alice is free again",
    )?;
    let joined = app.caller_joins_conference(parked.id).await?;
    check(
        joined.conference_sid.is_some(),
        "the conference SID is recorded",
    )?;
    app.expect_events(&[Parked, Updated, Updated]).await?;

    step("the lot");
    check(
        app.show_lot().await? == [(1, ParkState::Parked)],
        "slot 1 holds the call",
    )?;

    step("bob retrieves slot 1 and answers");
    let retrieving = app
        .service
        .retrieve(bob, slot_number(1), None)
        .await
        .map_err(failed("retrieve"))?;
    check(
        retrieving.state == ParkState::Retrieving,
        "the call is being retrieved",
    )?;
    check(
        app.switch.following(&pstn) == Some(app.urls.retrieve(parked.id)),
        "the caller's leg was redirected to the connect URL",
    )?;
    // The connect URL's instructions ring bob; his answer comes back as a callback.
    let bob_leg = app.switch.agent_answers(&pstn);
    let answered = app
        .service
        .on_dial_answered(parked.id, retrieving.attempt, Some(&bob_leg))
        .await
        .map_err(failed("dial answered"))?;
    check(
        answered.is_some_and(|c| c.state == ParkState::Retrieved),
        "the call is retrieved",
    )?;
    check(
        app.status_of(bob).await? == AgentStatus::OnCall,
        "bob is on the call",
    )?;
    app.expect_events(&[Retrieving, Retrieved]).await?;
    check(
        app.show_lot().await?.is_empty(),
        "the slot is free once retrieved",
    )?;

    step("the conversation ends: the caller hangs up");
    app.switch.caller_hangs_up(&pstn);
    app.report_leg(&pstn, None, CallStatus::Completed, None)
        .await?;
    check(
        app.status_of(bob).await? == AgentStatus::Available,
        "bob is free again",
    )?;
    app.expect_events(&[]).await
}

async fn caller_hangs_up_while_parked(app: &mut App, alice: &Agent) -> Checked {
    step("a second caller is parked in slot 2, and hangs up on hold");
    let (pstn, leg) = app.answered_call("+15557770002", alice).await?;
    let parked = app.park(alice, &leg, Some(2)).await?;
    check(parked.slot.get() == 2, "the requested slot 2")?;
    let reported_to = app.switch.caller_hangs_up(&pstn);
    check(
        reported_to == Some(app.urls.call_status()),
        "the switch reports the hang-up to the call-status URL",
    )?;
    app.report_leg(&pstn, None, CallStatus::Completed, None)
        .await?;
    let record = app.record(parked.id).await?;
    check(
        record.state == ParkState::Abandoned,
        "the parked call is abandoned",
    )?;
    check(
        record.ended_at.is_some(),
        "the abandoned call is kept as history",
    )?;
    app.expect_events(&[
        LotEventKind::Parked,
        LotEventKind::Updated,
        LotEventKind::Abandoned,
    ])
    .await?;
    check(app.show_lot().await?.is_empty(), "slot 2 is free again")?;

    step("retrieving the empty slot 2 is refused");
    let refused = app.service.retrieve(alice, slot_number(2), None).await;
    check(
        matches!(refused, Err(RetrieveError::SlotEmpty(s)) if s.get() == 2),
        format!("slot 2 is empty: {refused:?}"),
    )
}

async fn caller_gone_before_park(app: &mut App, alice: &Agent) -> Checked {
    step("a third caller hangs up just as alice parks (the switch has not reported it yet)");
    let (pstn, leg) = app.answered_call("+15557770003", alice).await?;
    app.switch.caller_hangs_up(&pstn);
    let request = ParkRequest {
        call: leg.clone(),
        slot: None,
    };
    let refused = app.service.park(alice, request).await;
    check(
        matches!(refused, Err(ParkError::CallerGone)),
        format!("the park fails: the caller is gone: {refused:?}"),
    )?;
    app.expect_events(&[LotEventKind::Parked, LotEventKind::Failed])
        .await?;
    // The switch's late report of the hang-up frees alice, who was on that call.
    app.report_leg(&pstn, None, CallStatus::Completed, None)
        .await?;
    check(
        app.status_of(alice).await? == AgentStatus::Available,
        "alice is free again",
    )?;
    check(
        app.show_lot().await?.is_empty(),
        "the claimed slot is free again",
    )
}

async fn deadline_rings_back_then_voicemail(app: &mut App, alice: &Agent) -> Checked {
    use LotEventKind::{Parked, TimedOut, Updated, Voicemail, VoicemailRecorded};
    step("a fourth caller is parked and nobody retrieves it: the deadline rings alice back");
    let (pstn, leg) = app.answered_call("+15557770004", alice).await?;
    let parked = app.park(alice, &leg, None).await?;
    app.clock.advance(app.org.max_park + Duration::from_secs(1));
    let report = app
        .service
        .fire_due_deadlines(10)
        .await
        .map_err(failed("deadline sweep"))?;
    println!("  deadline sweep: {report:?}");
    check(report.moved == 1, "the sweep fired one deadline")?;
    let ringing = app.record(parked.id).await?;
    check(
        ringing.retrieval == Some(Retrieval::Ringback(alice.identity.clone())),
        format!("alice is rung back: {:?}", ringing.retrieval),
    )?;
    check(
        app.switch.following(&pstn) == Some(app.urls.retrieve(parked.id)),
        "the caller's leg was redirected to ring alice",
    )?;

    step("alice does not answer: the caller leaves a voicemail");
    let next = app
        .service
        .on_dial_result(parked.id, ringing.attempt, DialOutcome::NotAnswered)
        .await
        .map_err(failed("dial result"))?;
    check(
        matches!(next, AfterDial::Voicemail(ref call, _) if call.state == ParkState::Voicemail),
        format!("the caller goes to voicemail: {next:?}"),
    )?;
    let recording = HttpUrl::parse("https://pbx.example/recordings/RE1.wav").expect("a URL");
    let stored = app
        .service
        .on_recording(parked.id, &recording)
        .await
        .map_err(failed("recording"))?;
    check(stored, "the recording is stored")?;
    let record = app.record(parked.id).await?;
    check(record.recording_url == Some(recording), "with its URL")?;
    app.expect_events(&[Parked, Updated, TimedOut, Voicemail, VoicemailRecorded])
        .await?;
    check(app.show_lot().await?.is_empty(), "the lot is empty")
}

async fn unknown_outcome_is_reconciled(app: &mut App, alice: &Agent, bob: &Agent) -> Checked {
    use LotEventKind::{Parked, Retrieved, Retrieving, Updated};
    step("a fifth caller is parked; bob retrieves it, and the switch's answer is lost");
    let (pstn, leg) = app.answered_call("+15557770005", alice).await?;
    let parked = app.park(alice, &leg, None).await?;
    app.switch.lose_next_answer();
    let outcome = app.service.retrieve(bob, parked.slot, None).await;
    check(
        matches!(
            outcome,
            Err(RetrieveError::Telephony(TelephonyFailure::OutcomeUnknown(
                _
            )))
        ),
        format!("the retrieve's outcome is unknown: {outcome:?}"),
    )?;
    check(
        app.record(parked.id).await?.state == ParkState::Retrieving,
        "the call stays in flight",
    )?;
    // The redirect did happen: bob's browser rings and he answers, but that callback is lost
    // too. Nothing tells the service, until the reconciliation sweep asks the switch.
    app.switch.agent_answers(&pstn);

    step("the reconciliation sweep asks the switch and finds bob connected");
    app.clock.advance(Duration::from_secs(30));
    let report = app
        .service
        .reconcile(Duration::from_secs(10), DEFAULT_RETRIEVE_RING_TIME, 10)
        .await
        .map_err(failed("reconcile"))?;
    println!("  reconcile sweep: {report:?}");
    check(report.moved == 1, "the sweep resolved one call")?;
    check(
        app.record(parked.id).await?.state == ParkState::Retrieved,
        "the call is retrieved",
    )?;
    app.expect_events(&[Parked, Updated, Retrieving, Retrieved])
        .await
}

/// The live stream delivered exactly what the store holds: a client that reconnects reads the
/// same events with `events_after`.
async fn stream_matches_store(app: &App) -> Checked {
    step("the event stream against the store");
    let stored = app
        .service
        .events_after(&app.org.slug, Sequence::ZERO, usize::MAX)
        .await
        .map_err(failed("events after"))?;
    println!(
        "  {} events streamed, {} stored",
        app.seen.len(),
        stored.len()
    );
    check(stored == app.seen, "the stream and the store agree")
}

async fn run() -> Checked {
    let mut app = App::new().await?;
    println!(
        "embedding callpark-domain: organisation {}, {} slots",
        app.org.slug,
        app.org.lot_size.get()
    );
    let alice = app.agent("alice", 1).await?;
    let bob = app.agent("bob", 2).await?;
    park_and_retrieve(&mut app, &alice, &bob).await?;
    caller_hangs_up_while_parked(&mut app, &alice).await?;
    caller_gone_before_park(&mut app, &alice).await?;
    deadline_rings_back_then_voicemail(&mut app, &alice).await?;
    unknown_outcome_is_reconciled(&mut app, &alice, &bob).await?;
    stream_matches_store(&app).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => {
            println!("\nembed: every check passed");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("\nembed: FAILED: {failure}");
            ExitCode::FAILURE
        }
    }
}
