// @ts-check
// What the supervisor's "Lot settings" form shows and sends (ui/org-settings-format.js).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  formValues, parseNumbers, problemField, settingsChange, settingsProblem, settingsSummary,
} from '../ui/org-settings-format.js';

/** @typedef {import('../ui/api.js').OrgSettings} OrgSettings */
/** @typedef {import('../ui/org-settings-format.js').SettingsForm} SettingsForm */

/** @type {OrgSettings} the demo organisation as `GET /admin/orgs/demo` answers it */
const DEMO = {
  slug: 'demo',
  name: 'Demo Contact Centre',
  slots: 8,
  numbers: ['+15550100100'],
  holdMusicUrl: null,
  announcement: 'Please hold. Your call is being transferred.',
  voice: null,
  language: null,
  maxParkSeconds: 180,
  timeoutAction: 'ringback',
  slotPolicy: 'first_free',
  active: true,
};

/** @type {OrgSettings} an organisation with every optional setting set */
const FULL = {
  ...DEMO,
  numbers: ['+14155550100', '+442071838750'],
  holdMusicUrl: 'https://example.com/hold.mp3',
  voice: 'Polly.Amy',
  language: 'en-GB',
};

/**
 * The form as loaded from `org`, with some fields typed over.
 * @param {OrgSettings} org
 * @param {Partial<SettingsForm>} [typed]
 * @returns {SettingsForm}
 */
const form = (org, typed = {}) => ({ ...formValues(org), ...typed });

describe('formValues', () => {
  it('shows every setting as text, an unset optional one as empty', () => {
    assert.deepEqual(formValues(DEMO), {
      name: 'Demo Contact Centre', slots: '8', numbers: '+15550100100', holdMusicUrl: '',
      announcement: 'Please hold. Your call is being transferred.', voice: '', language: '',
      maxParkSeconds: '180', timeoutAction: 'ringback', slotPolicy: 'first_free',
    });
  });
  it('shows the numbers one per line, in order', () => {
    assert.equal(formValues(FULL).numbers, '+14155550100\n+442071838750');
    assert.equal(formValues({ ...DEMO, numbers: [] }).numbers, '');
  });
});

describe('parseNumbers', () => {
  /** @type {[string, string[]][]} */
  const cases = [
    ['', []],
    ['  \n ', []],
    ['+14155550100', ['+14155550100']],
    ['+14155550100\n+442071838750', ['+14155550100', '+442071838750']],
    ['+14155550100, +442071838750', ['+14155550100', '+442071838750']],
    ['+14155550100;+442071838750,\n\n', ['+14155550100', '+442071838750']],
    ['\r\n +1 (415) 555-0100 \r\n+44 20.7183.8750', ['+14155550100', '+442071838750']],
    ['0044 20', ['004420']],
    ['not a number', ['notanumber']],
  ];
  for (const [text, numbers] of cases) {
    it(`reads ${JSON.stringify(text)}`, () => assert.deepEqual(parseNumbers(text), numbers));
  }
});

describe('settingsChange: the body of only what changed', () => {
  /** @type {[string, OrgSettings, Partial<SettingsForm>, import('../ui/api.js').OrgChange][]} */
  const cases = [
    ['nothing typed: an empty body', DEMO, {}, {}],
    ['nothing typed, every setting set', FULL, {}, {}],
    ['the same values with spaces around them', FULL, {
      name: '  Demo Contact Centre ', slots: ' 8 ', maxParkSeconds: '180 ', language: ' en-GB ',
      voice: 'Polly.Amy ', holdMusicUrl: ' https://example.com/hold.mp3', numbers: ' +14155550100 ,\n+442071838750\n',
    }, {}],
    ['the lot size, as a number', DEMO, { slots: '10' }, { slots: 10 }],
    ['a lot size with a leading zero', DEMO, { slots: '010' }, { slots: 10 }],
    ['the hold time, as a number', DEMO, { maxParkSeconds: '14400' }, { maxParkSeconds: 14400 }],
    ['a language, trimmed', DEMO, { language: ' en-GB ' }, { language: 'en-GB' }],
    ['an emptied language: null, the voice\'s own', FULL, { language: '' }, { language: null }],
    ['an emptied voice and hold music: null, the defaults', FULL, { voice: ' ', holdMusicUrl: '' }, { voice: null, holdMusicUrl: null }],
    ['a voice and hold music', DEMO, { voice: 'Polly.Brian', holdMusicUrl: 'http://music.example/a.mp3' },
      { voice: 'Polly.Brian', holdMusicUrl: 'http://music.example/a.mp3' }],
    ['the name and the announcement, trimmed', DEMO, { name: ' Acme ', announcement: ' One moment. ' },
      { name: 'Acme', announcement: 'One moment.' }],
    ['the selects', DEMO, { timeoutAction: 'voicemail', slotPolicy: 'next' }, { timeoutAction: 'voicemail', slotPolicy: 'next' }],
    ['a number added: all of them, in order', DEMO, { numbers: '+15550100100\n+14155550100' },
      { numbers: ['+15550100100', '+14155550100'] }],
    ['numbers reordered', FULL, { numbers: '+442071838750, +14155550100' }, { numbers: ['+442071838750', '+14155550100'] }],
    ['every number taken out: none', DEMO, { numbers: '  ' }, { numbers: [] }],
    ['a number as people write it', DEMO, { numbers: '+1 (555) 010-0100' }, {}],
    ['a malformed number goes as typed: the service says what is wrong', DEMO, { numbers: '5550100' }, { numbers: ['5550100'] }],
    ['several at once', DEMO, { slots: '10', language: 'en-GB' }, { slots: 10, language: 'en-GB' }],
  ];
  for (const [title, org, typed, body] of cases) {
    it(title, () => assert.deepEqual(settingsChange(org, form(org, typed)), { body }));
  }
});

describe('settingsChange: what cannot be sent', () => {
  /** @type {[Partial<SettingsForm>, string, RegExp][]} */
  const cases = [
    [{ name: '  ' }, 'name', /Enter the organisation's name/],
    [{ slots: '' }, 'slots', /whole number of slots from 1 to 999/],
    [{ slots: '0' }, 'slots', /from 1 to 999/],
    [{ slots: '1000' }, 'slots', /from 1 to 999/],
    [{ slots: '8.5' }, 'slots', /whole number/],
    [{ slots: '-2' }, 'slots', /whole number/],
    [{ slots: '1e1' }, 'slots', /whole number/],
    [{ maxParkSeconds: '0' }, 'maxParkSeconds', /seconds from 1 to 14400/],
    [{ maxParkSeconds: '14401' }, 'maxParkSeconds', /from 1 to 14400/],
    [{ maxParkSeconds: 'three minutes' }, 'maxParkSeconds', /whole number/],
    [{ timeoutAction: 'hangup' }, 'timeoutAction', /when the hold time is up/],
    [{ slotPolicy: 'random' }, 'slotPolicy', /which slot/],
    [{ announcement: '' }, 'announcement', /Enter the announcement/],
  ];
  for (const [typed, field, problem] of cases) {
    it(`refuses ${JSON.stringify(typed)}`, () => {
      const change = settingsChange(DEMO, form(DEMO, typed));
      assert.ok('error' in change, 'an error');
      assert.equal(change.field, field);
      assert.match(change.error, problem);
    });
  }
  it('says the first wrong field, in the order of the form', () => {
    const change = settingsChange(DEMO, form(DEMO, { slots: 'x', announcement: '' }));
    assert.ok('error' in change && change.field === 'slots');
  });
  it('takes the limits themselves', () => {
    assert.deepEqual(settingsChange(DEMO, form(DEMO, { slots: '1', maxParkSeconds: '1' })), { body: { slots: 1, maxParkSeconds: 1 } });
    assert.deepEqual(settingsChange(DEMO, form(DEMO, { slots: '999' })), { body: { slots: 999 } });
  });
});

describe('problemField', () => {
  /** @type {[string, string, string | undefined][]} */
  const cases = [
    ['slot_occupied', 'slot 2 is occupied: the lot cannot shrink below it', 'slots'],
    ['number_taken', 'the number +15550100100 routes to another organisation', 'numbers'],
    ['invalid_request', "invalid phone number: must start with '+' (E.164)", 'numbers'],
    ['invalid_request', 'invalid language: must be a language tag such as en-US, en-GB or fr-FR', 'language'],
    ['invalid_request', 'invalid announcement: must not be blank', 'announcement'],
    ['invalid_request', 'invalid voice: is too long', 'voice'],
    ['invalid_request', 'invalid URL: must start with http:// or https://', 'holdMusicUrl'],
    ['invalid_request', 'invalid lot size: must be between 1 and 999', 'slots'],
    ['invalid_request', 'maxParkSeconds must be between 1 and 14400', 'maxParkSeconds'],
    ['invalid_request', 'invalid display name: is too long', 'name'],
    ['http_500', 'The service answered 500 Internal Server Error.', undefined],
  ];
  for (const [code, message, field] of cases) {
    it(`${code}: ${message}`, () => assert.equal(problemField({ code, message }), field));
  }
});

describe('settingsProblem', () => {
  it("says the service's message as a sentence", () => {
    assert.equal(settingsProblem({ status: 409, code: 'slot_occupied', message: 'slot 2 is occupied: the lot cannot shrink below it' }, 'save'),
      'Could not save the settings. Slot 2 is occupied: the lot cannot shrink below it.');
  });
  it('says who may change them', () => {
    assert.match(settingsProblem({ status: 403, code: 'forbidden', message: '' }, 'load'), /^Could not load the settings: only a supervisor/);
  });
  it('says the service cannot be reached', () => {
    assert.match(settingsProblem({ status: 0, code: 'network', message: '' }, 'save'), /cannot be reached/);
  });
});

describe('settingsSummary', () => {
  it('says the size, the hold time and what a time-out does', () => {
    assert.equal(settingsSummary(DEMO), '8 slots · hold up to 3:00, then ring the parker back');
    assert.equal(settingsSummary({ ...DEMO, slots: 1, maxParkSeconds: 14400, timeoutAction: 'voicemail' }),
      '1 slot · hold up to 4:00:00, then voicemail');
  });
});
