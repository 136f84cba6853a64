// @ts-check
// The HTTP API client, and the JSON the API speaks (docs/http-api.md, crates/callpark-http/src/dto.rs).

/** @typedef {'free' | 'parking' | 'parked' | 'retrieving'} SlotState */
/** @typedef {'available' | 'on_call' | 'offline'} AgentStatus */
/** @typedef {'agent' | 'supervisor'} Role */

/**
 * A parked call (CallDto).
 * @typedef {object} Call
 * @property {string} id
 * @property {string} state
 * @property {string | null} callerNumber
 * @property {string | null} callerName
 * @property {string} parkedBy
 * @property {string} parkedAt RFC 3339
 * @property {string | null} conferenceSid
 * @property {string} pstnCallSid
 * @property {string | null} deadline RFC 3339
 * @property {string | null} retrievingAgent
 * @property {boolean} ringback
 * @property {boolean} toVoicemail
 * @property {string | null} endedAt
 */

/**
 * One slot of the lot (SlotDto): `call` is absent when the slot is free.
 * @typedef {object} Slot
 * @property {number} slot
 * @property {SlotState} state
 * @property {Call} [call]
 */

/**
 * The lot (LotDto): `GET /api/lot` and the live stream's `snapshot`.
 * @typedef {object} LotSnapshot
 * @property {string} org
 * @property {Slot[]} slots
 * @property {number} sequence
 */

/**
 * One live event (EventDto): what happened, and the slot as it is afterwards.
 * @typedef {object} LotEvent
 * @property {number} sequence
 * @property {string} type one of the event kinds (lot.js EVENT_KINDS), or a newer one
 * @property {string} at RFC 3339
 * @property {number} slot
 * @property {SlotState} state the slot's state after the event
 * @property {Call} call
 */

/**
 * The call an agent is on (CurrentCallDto).
 * @typedef {object} CurrentCall
 * @property {string} callSid the agent's own leg: what `POST /api/park` takes
 * @property {string | null} pstnCallSid
 * @property {string | null} callerNumber
 * @property {string | null} callerName
 */

/**
 * An agent (AgentDto).
 * @typedef {object} Agent
 * @property {string} identity
 * @property {string | null} displayName
 * @property {string} org
 * @property {AgentStatus} status
 */

/**
 * An agent as a supervisor manages them (`GET /admin/orgs/{org}/agents`): deactivated ones too.
 * @typedef {Agent & { role: Role, active: boolean }} ManagedAgent
 */

/**
 * A new agent's (or a new) token (`POST /admin/orgs/{org}/agents`, `…/token`): shown once.
 * @typedef {{ identity: string, token: string, tokenExpiresAt: string | null }} IssuedToken
 */

/** @typedef {'ringback' | 'voicemail'} TimeoutAction */
/** @typedef {'first_free' | 'next'} SlotPolicy */

/**
 * An organisation's settings (OrgDto): `GET`/`PATCH /admin/orgs/{org}`, for its supervisors.
 * @typedef {object} OrgSettings
 * @property {string} slug
 * @property {string} name
 * @property {number} slots the lot's size
 * @property {string[]} numbers E.164, in order
 * @property {string | null} holdMusicUrl null: the default music
 * @property {string} announcement
 * @property {string | null} voice null: the default voice
 * @property {string | null} language null: the voice's own
 * @property {number} maxParkSeconds
 * @property {TimeoutAction} timeoutAction
 * @property {SlotPolicy} slotPolicy
 * @property {boolean} active
 */

/**
 * A change of an organisation's settings (OrgChangeBody), as a supervisor may send it: each
 * field present is set (`active` is the admin's alone, so never here).
 * @typedef {Partial<Omit<OrgSettings, 'slug' | 'active'>>} OrgChange
 */

/**
 * The signed-in agent (MeDto).
 * @typedef {Agent & { role?: Role, currentCall: CurrentCall | null, sandbox: boolean, voice: boolean, timeoutAction: TimeoutAction }} Me
 */

/**
 * `POST /api/park`'s answer (ParkedDto).
 * @typedef {object} Parked
 * @property {string} id
 * @property {number} slot
 * @property {string} conferenceName
 * @property {string} pstnCallSid
 * @property {string} parkedAt
 * @property {string} state
 */

/** @typedef {'live' | 'retrieved' | 'abandoned' | 'voicemail' | 'failed'} Outcome */

/**
 * A parked call in the history (HistoryCall): `GET /api/history`.
 * @typedef {object} HistoryCall
 * @property {string} id
 * @property {number} slot
 * @property {string | null} callerNumber
 * @property {string | null} callerName
 * @property {string} parkedBy
 * @property {string} parkedAt RFC 3339
 * @property {string | null} retrievedBy who took it out of the lot (the parker, after a ring-back)
 * @property {string | null} endedAt
 * @property {Outcome} outcome `live` while parking, parked or being retrieved
 * @property {number} secondsOnHold from the park to its end, or to now while live
 * @property {number} ringbacks
 * @property {boolean} voicemail whether the caller left a recording
 * @property {string | null} [voicemailHandledBy] the agent who took care of the voicemail
 * @property {string | null} [voicemailHandledAt] RFC 3339
 */

/** @typedef {{ calls: HistoryCall[], nextCursor: string | null }} HistoryPage */

/** @typedef {{ p50: number, p90: number, p99: number }} Percentiles whole seconds, by nearest rank */

/**
 * What a set of parked calls adds up to (Figures): `GET /api/stats`.
 * @typedef {object} Figures
 * @property {number} parks
 * @property {number} retrieved
 * @property {number} abandoned the caller hung up while parked
 * @property {number} voicemail
 * @property {number} failed
 * @property {number} live still in the lot
 * @property {number} ringbacks
 * @property {Percentiles | null} timeToRetrieveSeconds of the retrieved calls; null without any
 * @property {number | null} longestWaitSeconds null without calls
 */

/** @typedef {Figures & { start: string }} StatsBucket a whole UTC hour or day */

/**
 * One agent's part (AgentStats): the calls they parked, and those they retrieved.
 * @typedef {{ agent: string, parked: Figures, retrieved: number, timeToRetrieveSeconds: Percentiles | null }} AgentStats
 */

/** @typedef {'hour' | 'day'} Bucket */

/**
 * `GET /api/stats` (Stats), for supervisors: every bucket of the range in order, empty ones too.
 * @typedef {{ from: string, to: string, bucket: Bucket, buckets: StatsBucket[], totals: Figures, agents: AgentStats[] }} Stats
 */

/** @typedef {{ token: string, identity: string, ttlSeconds: number }} VoiceToken */
/** @typedef {{ callSid: string, from: string }} SimulatedCall */

export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status, 0 when the service could not be reached
   * @param {string} code the service's error code, e.g. `slot_occupied`
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Server clock minus client clock, in ms (0 unless the clocks clearly disagree). */
let skewMs = 0;
let skewKnown = false;

/** Now by the server's clock, in ms since the epoch. */
export const serverNow = () => Date.now() + skewMs;

/**
 * A same-origin JSON request; the session cookie authenticates it unless a token is given.
 * The caller names the JSON it expects back (null for 204).
 * @template [T=unknown]
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, token?: string }} [options]
 * @returns {Promise<T>}
 */
export async function api(method, path, { body, token } = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  // The service takes a state change signed in by the session cookie only as JSON, which no
  // other site's form can send: say so even when there is no body.
  if (body !== undefined || method !== 'GET') headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const sent = Date.now();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The service cannot be reached. Check your connection and try again.');
  }
  noteServerClock(response, sent, Date.now());
  if (response.status === 204) return /** @type {T} */ (null);
  const data = parseJson(await response.text());
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError(
      response.status,
      (error && error.code) || `http_${response.status}`,
      (error && error.message) || `The service answered ${response.status} ${response.statusText}.`,
    );
  }
  return data;
}

/**
 * @param {string} text
 * @returns {any} the JSON, or null when there is none
 */
function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Clock skew, once, from the first response's Date header. The header has one-second
 * resolution, so a difference under 1.5 s is indistinguishable from none and is taken as none.
 * @param {Response} response
 * @param {number} sent
 * @param {number} received
 */
function noteServerClock(response, sent, received) {
  if (skewKnown) return;
  const date = Date.parse(response.headers.get('Date') || '');
  if (Number.isNaN(date)) return;
  skewKnown = true;
  const estimate = date + 500 - (sent + received) / 2;
  skewMs = Math.abs(estimate) > 1500 ? Math.round(estimate) : 0;
}

/**
 * What a failed API call threw, as the ApiError that api() throws.
 * @param {unknown} error
 * @returns {ApiError}
 */
export const apiError = (error) => /** @type {ApiError} */ (error);
