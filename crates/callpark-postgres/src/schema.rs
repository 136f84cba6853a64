// @generated automatically by Diesel CLI.

diesel::table! {
    agents (org, identity) {
        org -> Text,
        identity -> Text,
        display_name -> Nullable<Text>,
        status -> Text,
        current_call -> Nullable<Text>,
        token_hash -> Bytea,
        available_order -> Nullable<Int8>,
        token_expires_at -> Nullable<Timestamptz>,
        seen_at -> Nullable<Timestamptz>,
        role -> Text,
        active -> Bool,
    }
}

diesel::table! {
    browser_legs (browser_sid) {
        browser_sid -> Text,
        pstn_sid -> Text,
        agent -> Nullable<Text>,
        sequence -> Nullable<Int4>,
        ended -> Bool,
    }
}

diesel::table! {
    calls (pstn_sid) {
        pstn_sid -> Text,
        org -> Text,
        caller_number -> Nullable<Text>,
        caller_name -> Nullable<Text>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    lot_events (id) {
        id -> Int8,
        org -> Text,
        sequence -> Int8,
        kind -> Text,
        at -> Timestamptz,
        call -> Jsonb,
    }
}

diesel::table! {
    org_lot_state (org) {
        org -> Text,
        last_sequence -> Int8,
        last_claimed_slot -> Nullable<Int4>,
    }
}

diesel::table! {
    org_numbers (number) {
        number -> Text,
        org -> Text,
        position -> Int4,
    }
}

diesel::table! {
    organisations (slug) {
        slug -> Text,
        name -> Text,
        lot_size -> Int4,
        hold_music_url -> Nullable<Text>,
        announcement -> Text,
        voice -> Nullable<Text>,
        max_park_seconds -> Int8,
        timeout_action -> Text,
        auto_slot -> Text,
        created_at -> Timestamptz,
        language -> Nullable<Text>,
        active -> Bool,
    }
}

diesel::table! {
    parked_calls (id) {
        id -> Uuid,
        org -> Text,
        slot -> Int4,
        state -> Text,
        pstn_sid -> Text,
        caller_number -> Nullable<Text>,
        caller_name -> Nullable<Text>,
        parked_by -> Text,
        parked_at -> Timestamptz,
        conference_sid -> Nullable<Text>,
        deadline -> Nullable<Timestamptz>,
        retrieval_kind -> Nullable<Text>,
        retrieval_agent -> Nullable<Text>,
        state_changed_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
        recording_url -> Nullable<Text>,
        version -> Int8,
        attempt -> Int4,
        call_started_at -> Timestamptz,
        ringbacks -> Int4,
        voicemail_handled_by -> Nullable<Text>,
        voicemail_handled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (hash) {
        hash -> Bytea,
        org -> Text,
        agent -> Text,
        started_at -> Timestamptz,
        last_used -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::joinable!(agents -> organisations (org));
diesel::joinable!(browser_legs -> calls (pstn_sid));
diesel::joinable!(calls -> organisations (org));
diesel::joinable!(lot_events -> organisations (org));
diesel::joinable!(org_lot_state -> organisations (org));
diesel::joinable!(org_numbers -> organisations (org));
diesel::joinable!(parked_calls -> organisations (org));

diesel::allow_tables_to_appear_in_same_query!(
    agents,
    browser_legs,
    calls,
    lot_events,
    org_lot_state,
    org_numbers,
    organisations,
    parked_calls,
    sessions,
);
