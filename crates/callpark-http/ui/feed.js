// @ts-check
// The activity feed: the live stream's events in words ("Bob took +1 555-… from slot 3"), newest
// first and capped; and where the agent's own call came from. No DOM: node's test runner
// imports it (crates/callpark-http/ui-tests/).

import { callerTitle, duration } from './format.js';

/** @typedef {import('./api.js').LotEvent} LotEvent */

/** How many lines the feed keeps. */
export const FEED_SIZE = 8;

/**
 * One line of the feed.
 * @typedef {{ key: number, at: string, text: string }} FeedLine
 */

/**
 * How long the caller had been waiting in the lot when the event happened.
 * @param {LotEvent} event
 */
function waited(event) {
  const call = event.call || {};
  const end = Date.parse(call.endedAt || event.at);
  return duration(end - Date.parse(call.parkedAt));
}

/** @param {string} text */
const capital = (text) => text[0].toUpperCase() + text.slice(1);

/**
 * What the feed says of an event, or null for a kind it leaves out (a call's details changing,
 * a retrieve starting: what it leads to is said instead).
 * @param {LotEvent} event
 * @param {(identity: string | null | undefined) => string} nameOf "you" for the signed-in agent
 * @returns {string | null}
 */
export function feedText(event, nameOf) {
  const call = event.call || {};
  const who = callerTitle(call);
  const n = event.slot;
  switch (event.type) {
    case 'parked':
      return capital(`${nameOf(call.parkedBy)} parked ${who} in slot ${n}`);
    case 'retrieved':
      return call.ringback
        ? capital(`${nameOf(call.retrievingAgent)} answered the ring-back of ${who} from slot ${n}`)
        : capital(`${nameOf(call.retrievingAgent)} took ${who} from slot ${n} after ${waited(event)}`);
    case 'returned':
      return call.retrievingAgent
        ? `${who} is back in slot ${n}: ${nameOf(call.retrievingAgent)} did not answer`
        : `${who} is back in slot ${n}: nobody answered`;
    case 'abandoned':
      return `${who} hung up in slot ${n} after ${waited(event)}`;
    case 'timed_out':
      return call.ringback
        ? `Slot ${n} rang ${nameOf(call.retrievingAgent)} back after ${waited(event)}`
        : `Slot ${n} timed out after ${waited(event)}: ${who} goes to voicemail`;
    case 'voicemail':
      return `${who} went to voicemail from slot ${n}`;
    case 'voicemail_recorded':
      return `${who} left a voicemail`;
    case 'voicemail_handled':
      return `${who}'s voicemail was taken care of`;
    case 'failed':
      return `Parking ${who} in slot ${n} failed`;
    default:
      return null;
  }
}

/**
 * The feed with an event's line on top (once: a replayed event is not said twice), at most
 * FEED_SIZE lines.
 * @param {FeedLine[]} feed newest first
 * @param {LotEvent} event
 * @param {(identity: string | null | undefined) => string} nameOf
 * @returns {FeedLine[]}
 */
export function addToFeed(feed, event, nameOf) {
  const text = feedText(event, nameOf);
  if (!text || feed.some((line) => line.key === event.sequence)) return feed;
  return [{ key: event.sequence, at: event.at, text }, ...feed].slice(0, FEED_SIZE);
}

/**
 * Where an agent's new call came from: the slot it was retrieved (or rung back) from, and how
 * long the caller had waited there; null for an event that gave the agent no call.
 * @typedef {{ pstnCallSid: string, slot: number, waitedMs: number }} Origin
 * @param {LotEvent} event
 * @param {string} me the agent's identity
 * @returns {Origin | null}
 */
export function originOf(event, me) {
  const call = event.call;
  if (event.type !== 'retrieved' || !call || call.retrievingAgent !== me) return null;
  return {
    pstnCallSid: call.pstnCallSid,
    slot: event.slot,
    waitedMs: Math.max(0, Date.parse(event.at) - Date.parse(call.parkedAt)),
  };
}
