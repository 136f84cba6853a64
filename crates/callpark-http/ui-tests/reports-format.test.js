// @ts-check
// What the supervisor's Reports view works out from GET /api/stats (ui/reports-format.js).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  agentRows, axisSeconds, axisTop, bucketRows, bucketTitle, holdTime, outcomeSeries, rangeQuery, rangeText, readRange,
  retrieveSeries, statsPath, tickLabel, ticks, totalFigures,
} from '../ui/reports-format.js';

/** @typedef {import('../ui/api.js').Figures} Figures */
/** @typedef {import('../ui/api.js').Stats} Stats */

/**
 * Figures (all zero, no waits) with the given ones.
 * @param {Partial<Figures>} [fields]
 * @returns {Figures}
 */
const figures = (fields = {}) => ({
  parks: 0, retrieved: 0, abandoned: 0, voicemail: 0, failed: 0, live: 0, ringbacks: 0,
  timeToRetrieveSeconds: null, longestWaitSeconds: null, ...fields,
});

/** 2026-11-24T09:00:00Z, in seconds. */
const START = 1795510800;

/**
 * Three hours of stats: an empty one, one with calls, an empty one.
 * @returns {Stats}
 */
function threeHours() {
  return {
    from: '2026-11-24T09:00:00Z',
    to: '2026-11-24T11:30:00Z',
    bucket: 'hour',
    buckets: [
      { start: '2026-11-24T09:00:00Z', ...figures() },
      {
        start: '2026-11-24T10:00:00Z',
        ...figures({ parks: 7, retrieved: 3, abandoned: 2, voicemail: 1, failed: 1, ringbacks: 1, timeToRetrieveSeconds: { p50: 12, p90: 65, p99: 70 }, longestWaitSeconds: 95 }),
      },
      { start: '2026-11-24T11:00:00Z', ...figures() },
    ],
    totals: figures({ parks: 7, retrieved: 3, abandoned: 2, voicemail: 1, failed: 1, ringbacks: 1, timeToRetrieveSeconds: { p50: 12, p90: 65, p99: 70 }, longestWaitSeconds: 95 }),
    agents: [],
  };
}

describe('holdTime', () => {
  const cases = [
    [0, '0 s'], [42, '42 s'], [59.6, '1 m 00 s'], [65, '1 m 05 s'], [600, '10 m 00 s'],
    [3725, '1 h 02 m 05 s'], [-3, '0 s'], [null, '—'], [undefined, '—'], [Number.NaN, '—'],
  ];
  for (const [seconds, words] of cases) {
    it(`says ${seconds} as ${words}`, () => assert.equal(holdTime(/** @type {number | null} */ (seconds)), words));
  }
  it('leaves the zeros out of whole minutes and hours on an axis', () => {
    assert.deepEqual([30, 60, 90, 120, 3600, 5400].map(axisSeconds), ['30 s', '1 m', '1 m 30 s', '2 m', '1 h', '1 h 30 m']);
  });
});

describe('rangeQuery', () => {
  const now = Date.parse('2026-11-24T10:17:42.500Z');
  it('asks for the current hour and the 23 before it, by the hour, up to now', () => {
    assert.deepEqual(rangeQuery('24h', now), { from: '2026-11-23T11:00:00.000Z', to: '2026-11-24T10:17:42.500Z', bucket: 'hour' });
  });
  it('asks for today and the days before it, by the day', () => {
    assert.deepEqual(rangeQuery('7d', now), { from: '2026-11-18T00:00:00.000Z', to: '2026-11-24T10:17:42.500Z', bucket: 'day' });
    assert.equal(rangeQuery('30d', now).from, '2026-10-26T00:00:00.000Z');
  });
  it('reads the select, and falls back to the last 24 hours', () => {
    assert.equal(readRange('7d'), '7d');
    assert.equal(readRange('toString'), '24h');
    assert.equal(readRange(''), '24h');
  });
  it('is a query the service takes', () => {
    assert.equal(statsPath({ from: '2026-11-24T00:00:00.000Z', to: '2026-11-24T10:00:00.000Z', bucket: 'day' }),
      '/api/stats?from=2026-11-24T00%3A00%3A00.000Z&to=2026-11-24T10%3A00%3A00.000Z&bucket=day');
  });
});

describe('labels', () => {
  const ten = Date.parse('2026-11-24T10:00:00Z') / 1000;
  const midnight = Date.parse('2026-11-24T00:00:00Z') / 1000;
  it('ticks an hour by its time, and midnight and days by the date (UTC)', () => {
    assert.equal(tickLabel(ten, 'hour'), '10:00');
    assert.equal(tickLabel(midnight, 'hour'), '24 Nov');
    assert.equal(tickLabel(ten, 'day'), '24 Nov');
  });
  it('names a bucket in full', () => {
    assert.equal(bucketTitle(ten, 'hour'), '24 Nov, 10:00–11:00');
    assert.equal(bucketTitle(Date.parse('2026-11-24T23:00:00Z') / 1000, 'hour'), '24 Nov, 23:00–00:00');
    assert.equal(bucketTitle(midnight, 'day'), '24 Nov');
  });
  it('says the range', () => {
    assert.equal(rangeText(threeHours()), '24 Nov 09:00 – 24 Nov 11:30 UTC, by hour');
  });
  it('ticks every bucket with room, else every nth back from the current one', () => {
    const starts = [0, 1, 2, 3, 4, 5, 6];
    assert.deepEqual(ticks(starts, 700), starts);
    assert.deepEqual(ticks(starts, 200), [0, 2, 4, 6]);
    assert.deepEqual(ticks(starts.slice(0, 6), 200), [1, 3, 5]);
  });
  it('tops an axis with a round number above the highest value', () => {
    assert.deepEqual([0, 1, 3, 4, 9, 21, 95, 1000].map(axisTop), [1, 2, 4, 5, 10, 25, 120, 1200]);
  });
});

describe('outcomeSeries', () => {
  it('stacks retrieved, hung up, voicemail and failed, drawn top first', () => {
    const { starts, layers, max } = outcomeSeries(threeHours());
    assert.deepEqual(starts, [START, START + 3600, START + 7200], 'each bucket at its start, in seconds');
    assert.deepEqual(layers.map((l) => l.key), ['failed', 'voicemail', 'abandoned', 'retrieved']);
    assert.deepEqual(layers.map((l) => l.counts[1]), [1, 1, 2, 3]);
    assert.deepEqual(layers.map((l) => l.tops[1]), [7, 6, 5, 3]);
    assert.deepEqual(layers.map((l) => l.tops[0]), [0, 0, 0, 0]);
    assert.equal(max, 7);
  });
});

describe('retrieveSeries', () => {
  it('gives each percentile per bucket, null where no call was retrieved', () => {
    const { lines, max } = retrieveSeries(threeHours());
    assert.deepEqual(lines.map((l) => [l.key, l.values]), [['p50', [null, 12, null]], ['p90', [null, 65, null]], ['p99', [null, 70, null]]]);
    assert.equal(max, 70);
  });
});

describe('totalFigures', () => {
  it('says every figure, with shares of the parks', () => {
    const shown = Object.fromEntries(totalFigures(threeHours().totals).map((f) => [f.key, [f.value, f.detail]]));
    assert.deepEqual(shown, {
      parks: ['7', undefined],
      retrieved: ['3', '43% of parks'],
      abandoned: ['2', '29% of parks'],
      voicemail: ['1', '14% of parks'],
      ringbacks: ['1', undefined],
      p50: ['12 s', 'the median'],
      p90: ['1 m 05 s', undefined],
      p99: ['1 m 10 s', undefined],
      longest: ['1 m 35 s', undefined],
      failed: ['1', '14% of parks'],
    });
  });
  it('says none without calls, and shows no failed or live figure then', () => {
    const shown = totalFigures(figures());
    assert.deepEqual(shown.map((f) => f.key), ['parks', 'retrieved', 'abandoned', 'voicemail', 'ringbacks', 'p50', 'p90', 'p99', 'longest']);
    assert.ok(shown.every((f) => f.detail === undefined || f.detail === 'the median'));
    assert.equal(shown.find((f) => f.key === 'p50')?.value, '—');
  });
  it('counts the calls still in the lot', () => {
    assert.deepEqual(totalFigures(figures({ parks: 1, live: 1 })).at(-1), { key: 'live', label: 'Still in the lot', value: '1' });
  });
});

describe('agentRows', () => {
  it('says what each agent parked and retrieved, by name', () => {
    const rows = agentRows([
      { agent: 'zed', parked: figures({ parks: 4, abandoned: 1, voicemail: 2 }), retrieved: 0, timeToRetrieveSeconds: null },
      { agent: 'amy', parked: figures(), retrieved: 3, timeToRetrieveSeconds: { p50: 5, p90: 61, p99: 80 } },
    ], (identity) => ({ zed: 'Anna', amy: 'Bea' })[identity] || identity);
    assert.deepEqual(rows, [
      { agent: 'zed', name: 'Anna', cells: { parked: '4', abandoned: '1', voicemail: '2', retrieved: '0', p50: '—', p90: '—' } },
      { agent: 'amy', name: 'Bea', cells: { parked: '0', abandoned: '0', voicemail: '0', retrieved: '3', p50: '5 s', p90: '1 m 01 s' } },
    ]);
  });
});

describe('bucketRows', () => {
  it('lists the buckets with calls, as the charts show them', () => {
    assert.deepEqual(bucketRows(threeHours()), [{
      start: '2026-11-24T10:00:00Z',
      title: '24 Nov, 10:00–11:00',
      cells: ['7', '3', '2', '1', '1', '12 s', '1 m 05 s', '1 m 10 s'],
    }]);
  });
});
