// @ts-check
// What the supervisor's Reports view shows, worked out from `GET /api/stats`: the range it asks
// for, the totals as figures, the charts' series and ticks, the per-agent and per-bucket tables,
// and durations in words ("1 m 05 s"). No DOM: node's test runner imports it
// (crates/callpark-http/ui-tests/). Buckets are whole UTC hours or days, as the service counts
// them, so every date and time here is in UTC.

/** @typedef {import('./api.js').AgentStats} AgentStats */
/** @typedef {import('./api.js').Bucket} Bucket */
/** @typedef {import('./api.js').Figures} Figures */
/** @typedef {import('./api.js').Percentiles} Percentiles */
/** @typedef {import('./api.js').Stats} Stats */
/** @typedef {'24h' | '7d' | '30d'} RangeKey */

const SECONDS = { hour: 3600, day: 86400 };

/**
 * The ranges the view offers, each a number of whole buckets ending with the current one (the
 * current hour, or today), so that no bar stands for a part of an hour or day.
 * @type {Record<RangeKey, { label: string, bucket: Bucket, count: number }>}
 */
export const RANGES = {
  '24h': { label: 'Last 24 hours', bucket: 'hour', count: 24 },
  '7d': { label: 'Last 7 days', bucket: 'day', count: 7 },
  '30d': { label: 'Last 30 days', bucket: 'day', count: 30 },
};

/**
 * The range's choice as the select holds it, or the first range for anything else.
 * @param {string} value
 * @returns {RangeKey}
 */
export const readRange = (value) => (Object.hasOwn(RANGES, value) ? /** @type {RangeKey} */ (value) : '24h');

/**
 * `GET /api/stats`'s query for a range: from the start of its first bucket to now.
 * @param {RangeKey} key
 * @param {number} nowMs now, by the service's clock
 * @returns {{ from: string, to: string, bucket: Bucket }}
 */
export function rangeQuery(key, nowMs) {
  const { bucket, count } = RANGES[key];
  const size = SECONDS[bucket] * 1000;
  const current = Math.floor(nowMs / size) * size;
  return { from: new Date(current - (count - 1) * size).toISOString(), to: new Date(nowMs).toISOString(), bucket };
}

/** @param {{ from: string, to: string, bucket: Bucket }} query */
export const statsPath = (query) => `/api/stats?${new URLSearchParams(query)}`;

const two = (/** @type {number} */ n) => String(n).padStart(2, '0');

/**
 * A duration in words: "42 s", "1 m 05 s", "1 h 02 m 05 s"; "—" when there is none.
 * @param {number | null | undefined} seconds
 */
export function holdTime(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h} h ${two(m)} m ${two(s)} s`;
  if (m > 0) return `${m} m ${two(s)} s`;
  return `${s} s`;
}

/**
 * A duration on a chart's axis, where whole minutes and hours need no zeros.
 * @param {number} seconds
 */
export function axisSeconds(seconds) {
  if (seconds < 60 || seconds % 60 !== 0) return holdTime(seconds);
  const h = Math.floor(seconds / 3600);
  const m = (seconds % 3600) / 60;
  if (h === 0) return `${m} m`;
  return m === 0 ? `${h} h` : `${h} h ${two(m)} m`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** @param {Date} d */
const dayOf = (d) => `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
/** @param {Date} d */
const timeOf = (d) => `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;

/**
 * A tick under a bucket's bar: its hour ("21:00"), or its day at midnight and for day buckets.
 * @param {number} start the bucket's start, in seconds since the epoch
 * @param {Bucket} bucket
 */
export function tickLabel(start, bucket) {
  const d = new Date(start * 1000);
  return bucket === 'day' || d.getUTCHours() === 0 ? dayOf(d) : timeOf(d);
}

/**
 * A bucket in full, for the legend and the table: "6 Dec, 21:00–22:00", or "6 Dec".
 * @param {number} start seconds since the epoch
 * @param {Bucket} bucket
 */
export function bucketTitle(start, bucket) {
  const d = new Date(start * 1000);
  if (bucket === 'day') return dayOf(d);
  return `${dayOf(d)}, ${timeOf(d)}–${timeOf(new Date((start + SECONDS.hour) * 1000))}`;
}

/**
 * The range in words, from the service's answer: "5 Dec 22:00 – 6 Dec 21:49 UTC, by hour".
 * @param {Pick<Stats, 'from' | 'to' | 'bucket'>} stats
 */
export function rangeText(stats) {
  const at = (/** @type {string} */ iso) => {
    const d = new Date(iso);
    return `${dayOf(d)} ${timeOf(d)}`;
  };
  return `${at(stats.from)} – ${at(stats.to)} UTC, by ${stats.bucket}`;
}

/**
 * Which buckets get a tick: every `step`th, counted back from the current one (always labelled),
 * so that ticks stand at least `minGapPx` apart on a chart `widthPx` wide.
 * @param {number[]} starts the buckets' starts
 * @param {number} widthPx
 * @param {number} [minGapPx]
 */
export function ticks(starts, widthPx, minGapPx = 56) {
  const step = Math.max(1, Math.ceil((starts.length * minGapPx) / Math.max(widthPx, 1)));
  return starts.filter((_, i) => (starts.length - 1 - i) % step === 0);
}

/** Counts on an axis: the steps it may count in. */
export const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
/** Seconds on an axis: steps a person reads as times. */
export const SECOND_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400];

/** The tops an axis may have, within each power of ten. */
const TOPS = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

/**
 * The top of an axis: a round number a tenth above the highest value, so that the highest bar
 * or point stands clear of the edge (1 for an empty chart).
 * @param {number} max
 */
export function axisTop(max) {
  const room = max * 1.1;
  if (!(room > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(room));
  const top = /** @type {number} */ (TOPS.find((t) => t * power >= room - 1e-9));
  return Math.ceil(top * power - 1e-9);
}

/** The outcomes, bottom of the stack first, with their colours (app.css's palette). */
export const OUTCOME_STACK = /** @type {const} */ ([
  { key: 'retrieved', label: 'Retrieved', color: '#047857' },
  { key: 'abandoned', label: 'Hung up', color: '#b91c1c' },
  { key: 'voicemail', label: 'Voicemail', color: '#d97706' },
  { key: 'failed', label: 'Failed', color: '#6b7280' },
]);

/** @param {Stats} stats */
const bucketStarts = (stats) => stats.buckets.map((b) => Date.parse(b.start) / 1000);

/**
 * The outcomes chart: per bucket, each outcome's count and the top of its part of the stack.
 * uPlot does not stack: each layer is a bar from 0 to its top, drawn the highest first so that
 * the lower ones paint over it. So the layers come top of the stack first (the legend reads
 * as the stack does), and an outcome with no calls is covered entirely.
 * @param {Stats} stats
 */
export function outcomeSeries(stats) {
  let below = stats.buckets.map(() => 0);
  const layers = OUTCOME_STACK.map(({ key, label, color }) => {
    const counts = stats.buckets.map((b) => b[key]);
    const tops = counts.map((n, i) => below[i] + n);
    below = tops;
    return { key, label, color, counts, tops };
  });
  return { starts: bucketStarts(stats), layers: layers.reverse(), max: Math.max(0, ...below) };
}

/** The time-to-retrieve lines, with their colours. */
export const PERCENTILE_LINES = /** @type {const} */ ([
  { key: 'p50', label: 'p50 (median)', color: '#1d4ed8' },
  { key: 'p90', label: 'p90', color: '#d97706' },
  { key: 'p99', label: 'p99', color: '#b91c1c' },
]);

/**
 * The time-to-retrieve chart: per bucket, the retrieved calls' p50, p90 and p99 wait (null in a
 * bucket without a retrieved call: a gap, not a zero).
 * @param {Stats} stats
 */
export function retrieveSeries(stats) {
  const lines = PERCENTILE_LINES.map(({ key, label, color }) => ({
    key, label, color, values: stats.buckets.map((b) => (b.timeToRetrieveSeconds ? b.timeToRetrieveSeconds[key] : null)),
  }));
  const max = Math.max(0, ...stats.buckets.map((b) => (b.timeToRetrieveSeconds ? b.timeToRetrieveSeconds.p99 : 0)));
  return { starts: bucketStarts(stats), lines, max };
}

/**
 * A share of the parks, in words ("14% of parks"); none without parks.
 * @param {number} n
 * @param {number} parks
 */
const share = (n, parks) => (parks > 0 ? `${Math.round((100 * n) / parks)}% of parks` : undefined);

/**
 * The totals as the figures the view shows, in order; failed and still-parked calls only when
 * there are any.
 * @param {Figures} totals
 * @returns {{ key: string, label: string, value: string, detail?: string }[]}
 */
export function totalFigures(totals) {
  const waited = totals.timeToRetrieveSeconds;
  const figures = [
    { key: 'parks', label: 'Parks', value: String(totals.parks) },
    { key: 'retrieved', label: 'Retrieved', value: String(totals.retrieved), detail: share(totals.retrieved, totals.parks) },
    { key: 'abandoned', label: 'Hung up', value: String(totals.abandoned), detail: share(totals.abandoned, totals.parks) },
    { key: 'voicemail', label: 'Voicemail', value: String(totals.voicemail), detail: share(totals.voicemail, totals.parks) },
    { key: 'ringbacks', label: 'Ring-backs', value: String(totals.ringbacks) },
    { key: 'p50', label: 'Time to retrieve, p50', value: holdTime(waited && waited.p50), detail: 'the median' },
    { key: 'p90', label: 'Time to retrieve, p90', value: holdTime(waited && waited.p90) },
    { key: 'p99', label: 'Time to retrieve, p99', value: holdTime(waited && waited.p99) },
    { key: 'longest', label: 'Longest wait', value: holdTime(totals.longestWaitSeconds) },
  ];
  if (totals.failed > 0) figures.push({ key: 'failed', label: 'Failed', value: String(totals.failed), detail: share(totals.failed, totals.parks) });
  if (totals.live > 0) figures.push({ key: 'live', label: 'Still in the lot', value: String(totals.live) });
  return figures;
}

/**
 * The per-agent table's rows, by name: what each agent parked and what became of those calls,
 * how many they retrieved, and how long the calls they retrieved had waited.
 * @param {AgentStats[]} agents
 * @param {(identity: string) => string} nameOf
 */
export function agentRows(agents, nameOf) {
  return agents
    .map((a) => ({
      agent: a.agent,
      name: nameOf(a.agent),
      cells: {
        parked: String(a.parked.parks),
        abandoned: String(a.parked.abandoned),
        voicemail: String(a.parked.voicemail),
        retrieved: String(a.retrieved),
        p50: holdTime(a.timeToRetrieveSeconds && a.timeToRetrieveSeconds.p50),
        p90: holdTime(a.timeToRetrieveSeconds && a.timeToRetrieveSeconds.p90),
      },
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.agent.localeCompare(b.agent));
}

/**
 * The charts' figures as a table, for those who do not see them: each bucket with calls.
 * @param {Stats} stats
 */
export function bucketRows(stats) {
  return stats.buckets
    .filter((b) => b.parks > 0)
    .map((b) => {
      const waited = b.timeToRetrieveSeconds;
      return {
        start: b.start,
        title: bucketTitle(Date.parse(b.start) / 1000, stats.bucket),
        cells: [b.parks, b.retrieved, b.abandoned, b.voicemail, b.failed].map(String)
          .concat([holdTime(waited && waited.p50), holdTime(waited && waited.p90), holdTime(waited && waited.p99)]),
      };
    });
}
