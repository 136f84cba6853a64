// @ts-check
// What the supervisor's "Lot settings" form shows and sends: the organisation's settings as
// the form's text, the PATCH body of only what changed, and the service's refusals in words.
// No DOM: node's test runner imports it (crates/callpark-http/ui-tests/).

import { duration, sentence } from './format.js';

/** @typedef {import('./api.js').OrgChange} OrgChange */
/** @typedef {import('./api.js').OrgSettings} OrgSettings */
/** @typedef {import('./api.js').SlotPolicy} SlotPolicy */
/** @typedef {import('./api.js').TimeoutAction} TimeoutAction */

/**
 * The form's fields, as the inputs hold them (text). Each is named after the setting it edits.
 * @typedef {object} SettingsForm
 * @property {string} name
 * @property {string} slots
 * @property {string} numbers one per line, or separated by commas
 * @property {string} holdMusicUrl empty: the default music
 * @property {string} announcement
 * @property {string} voice empty: the default voice
 * @property {string} language empty: the voice's own
 * @property {string} maxParkSeconds
 * @property {string} timeoutAction
 * @property {string} slotPolicy
 */

/** @typedef {keyof SettingsForm} SettingsField */

/** The fields in the order the form shows them (the first wrong one is the one reported). */
export const SETTINGS_FIELDS = /** @type {const} */ ([
  'name', 'slots', 'maxParkSeconds', 'timeoutAction', 'slotPolicy',
  'numbers', 'announcement', 'holdMusicUrl', 'voice', 'language',
]);

/** @type {readonly TimeoutAction[]} */
export const TIMEOUT_ACTIONS = ['ringback', 'voicemail'];
/** @type {readonly SlotPolicy[]} */
export const SLOT_POLICIES = ['first_free', 'next'];

/** The service's limits (callpark-domain: MAX_SLOTS, MAX_PARK_TIME). */
export const MAX_SLOTS = 999;
export const MAX_PARK_SECONDS = 4 * 60 * 60;

/**
 * The organisation's settings as the form shows them: an unset optional setting is empty.
 * @param {OrgSettings} org
 * @returns {SettingsForm}
 */
export function formValues(org) {
  return {
    name: org.name,
    slots: String(org.slots),
    numbers: org.numbers.join('\n'),
    holdMusicUrl: org.holdMusicUrl || '',
    announcement: org.announcement,
    voice: org.voice || '',
    language: org.language || '',
    maxParkSeconds: String(org.maxParkSeconds),
    timeoutAction: org.timeoutAction,
    slotPolicy: org.slotPolicy,
  };
}

/**
 * The phone numbers typed: one per line or separated by commas (or semicolons), without the
 * spaces, dashes, dots and brackets people write them with (`+1 (415) 555-0100` is
 * `+14155550100`). Whether each is E.164 is the service's to say.
 * @param {string} text
 * @returns {string[]}
 */
export function parseNumbers(text) {
  return text.split(/[\n,;]+/).map((n) => n.replace(/[\s().-]+/g, '')).filter(Boolean);
}

/**
 * A whole number from `min` to `max`, as typed; null when it is not one.
 * @param {string} text
 * @param {number} min
 * @param {number} max
 */
function wholeNumber(text, min, max) {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n >= min && n <= max ? n : null;
}

/** @param {string} text an optional setting: empty is null (the default) */
const optional = (text) => text.trim() || null;

/**
 * @param {string[]} a
 * @param {string[]} b
 */
const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * What the form changes of the organisation: the PATCH body of only the settings that differ
 * (empty when none does: then nothing is sent), or the first field that cannot be sent, and
 * why in words. Text is trimmed; an empty optional setting is null (the default).
 * @param {OrgSettings} org as the service last said it is
 * @param {SettingsForm} form
 * @returns {{ body: OrgChange } | { error: string, field: SettingsField }}
 */
export function settingsChange(org, form) {
  /** @type {OrgChange} */
  const body = {};
  const name = form.name.trim();
  if (!name) return { error: "Enter the organisation's name.", field: 'name' };
  if (name !== org.name) body.name = name;
  const slots = wholeNumber(form.slots, 1, MAX_SLOTS);
  if (slots === null) return { error: `The lot size is a whole number of slots from 1 to ${MAX_SLOTS}.`, field: 'slots' };
  if (slots !== org.slots) body.slots = slots;
  const maxPark = wholeNumber(form.maxParkSeconds, 1, MAX_PARK_SECONDS);
  if (maxPark === null) {
    return { error: `The hold time is a whole number of seconds from 1 to ${MAX_PARK_SECONDS} (4 hours).`, field: 'maxParkSeconds' };
  }
  if (maxPark !== org.maxParkSeconds) body.maxParkSeconds = maxPark;
  const timeoutAction = /** @type {TimeoutAction} */ (form.timeoutAction);
  if (!TIMEOUT_ACTIONS.includes(timeoutAction)) return { error: 'Choose what happens when the hold time is up.', field: 'timeoutAction' };
  if (timeoutAction !== org.timeoutAction) body.timeoutAction = timeoutAction;
  const slotPolicy = /** @type {SlotPolicy} */ (form.slotPolicy);
  if (!SLOT_POLICIES.includes(slotPolicy)) return { error: 'Choose which slot a call parked without one takes.', field: 'slotPolicy' };
  if (slotPolicy !== org.slotPolicy) body.slotPolicy = slotPolicy;
  const numbers = parseNumbers(form.numbers);
  if (!sameList(numbers, org.numbers)) body.numbers = numbers;
  const announcement = form.announcement.trim();
  if (!announcement) return { error: 'Enter the announcement callers hear when they are parked.', field: 'announcement' };
  if (announcement !== org.announcement) body.announcement = announcement;
  const holdMusicUrl = optional(form.holdMusicUrl);
  if (holdMusicUrl !== org.holdMusicUrl) body.holdMusicUrl = holdMusicUrl;
  const voice = optional(form.voice);
  if (voice !== org.voice) body.voice = voice;
  const language = optional(form.language);
  if (language !== org.language) body.language = language;
  return { body };
}

/**
 * Which field the service's refusal is about, from its code or the value its message names
 * (`invalid phone number: …`, `maxParkSeconds must be …`); undefined when it names none.
 * @param {{ code: string, message: string }} error
 * @returns {SettingsField | undefined}
 */
export function problemField(error) {
  if (error.code === 'slot_occupied') return 'slots';
  if (error.code === 'number_taken') return 'numbers';
  const m = error.message;
  /** @type {[RegExp, SettingsField][]} */
  const named = [
    [/phone number|\bnumbers\b/i, 'numbers'],
    [/lot size|\bslots\b/i, 'slots'],
    [/maxParkSeconds|hold time/i, 'maxParkSeconds'],
    [/timeoutAction/, 'timeoutAction'],
    [/slotPolicy/, 'slotPolicy'],
    [/announcement/i, 'announcement'],
    [/\bURL\b|holdMusicUrl/i, 'holdMusicUrl'],
    [/language/i, 'language'],
    [/voice/i, 'voice'],
    [/display name|\bname\b/i, 'name'],
  ];
  const hit = named.find(([pattern]) => pattern.test(m));
  return hit ? hit[1] : undefined;
}

/**
 * A failed settings request in words: the service's own message as a sentence.
 * @param {{ status: number, code: string, message: string }} error the ApiError
 * @param {'load' | 'save'} doing
 */
export function settingsProblem(error, doing) {
  const what = `Could not ${doing} the settings`;
  if (error.status === 403) return `${what}: only a supervisor of this organisation may change them.`;
  if (error.status === 0) return `${what}: the service cannot be reached. Check your connection and try again.`;
  return `${what}. ${sentence(error.message)}`.trim();
}

/**
 * What the settings say in a line, under the panel's title: "8 slots · hold up to 3:00, then
 * ring the parker back".
 * @param {OrgSettings} org
 */
export function settingsSummary(org) {
  const then = org.timeoutAction === 'voicemail' ? 'voicemail' : 'ring the parker back';
  return `${org.slots} slot${org.slots === 1 ? '' : 's'} · hold up to ${duration(org.maxParkSeconds * 1000)}, then ${then}`;
}
