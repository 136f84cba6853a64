// @ts-check
// The Reports view's two charts, drawn by uPlot on canvases: the outcomes per bucket (stacked
// bars) and the time to retrieve per bucket (p50, p90, p99 lines). uPlot is vendored
// (ui/vendor/uplot/, its README says which version) and served by callpark itself, loaded only
// when a supervisor opens Reports. It styles its elements through the CSSOM only, which the
// page's CSP (`style-src 'self'`) allows; its stylesheet is linked by index.html.

import { $ } from './dom.js';
import { COUNT_STEPS, SECOND_STEPS, axisSeconds, axisTop, bucketTitle, holdTime, outcomeSeries, retrieveSeries, tickLabel, ticks } from './reports-format.js';

/** @typedef {import('../ui-types/vendor/uplot/uPlot.js')} Chart */
/** @typedef {typeof import('../ui-types/vendor/uplot/uPlot.js')} ChartClass */
/** @typedef {import('../ui-types/vendor/uplot/uPlot.js').Options} ChartOptions */
/** @typedef {import('../ui-types/vendor/uplot/uPlot.js').Axis} ChartAxis */
/** @typedef {import('../ui-types/vendor/uplot/uPlot.js').Series} ChartSeries */
/** @typedef {import('./api.js').Stats} Stats */

export const UPLOT_PATH = '/ui/vendor/uplot/uPlot.esm.js';
const HEIGHT = 220;
const BUCKET_SECONDS = { hour: 3600, day: 86400 };
/** app.css's text and border colours, and its font. */
const AXIS = /** @type {const} */ ({
  stroke: '#4b5563',
  font: '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  grid: { stroke: '#e5e7eb', width: 1 },
  ticks: { stroke: '#d8dee8', width: 1, size: 4 },
});

/** @type {Promise<ChartClass> | null} */
let loading = null;
/** @type {Chart[]} the charts shown, to resize and to replace */
let charts = [];
/** @type {ResizeObserver | null} */
let resizer = null;

/**
 * uPlot's class, imported once. The path is in a variable so that tsc takes uPlot's types from
 * its declarations (ui-types/vendor/uplot/) rather than checking the vendored code; the browser
 * imports it as it does the page's modules. A failed import is tried again next time.
 * @returns {Promise<ChartClass>}
 */
function loadUPlot() {
  if (!loading) {
    loading = import(UPLOT_PATH).then((module) => module.default);
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

/**
 * Draws both charts of a report, replacing those shown.
 * @param {Stats} stats
 */
export async function drawCharts(stats) {
  const UPlot = await loadUPlot();
  clearCharts();
  const outcomes = outcomeSeries(stats);
  const retrieve = retrieveSeries(stats);
  const outcomesEl = $('outcomes-chart');
  const retrieveEl = $('retrieve-chart');
  charts = [
    new UPlot(outcomesOptions(UPlot, stats, outcomesEl), [outcomes.starts, ...outcomes.layers.map((l) => l.tops)], outcomesEl),
    new UPlot(retrieveOptions(stats, retrieveEl), [retrieve.starts, ...retrieve.lines.map((l) => l.values)], retrieveEl),
  ];
  resizer = new ResizeObserver(() => {
    for (const chart of charts) {
      const width = chart.root.parentElement ? chart.root.parentElement.clientWidth : 0;
      // A hidden view measures 0: its charts keep their size until it shows again.
      if (width > 0 && width !== chart.width) chart.setSize({ width, height: HEIGHT });
    }
  });
  resizer.observe(outcomesEl);
  resizer.observe(retrieveEl);
}

/** Removes the charts (a new report, or signed out). */
export function clearCharts() {
  if (resizer) resizer.disconnect();
  resizer = null;
  for (const chart of charts) chart.destroy();
  charts = [];
}

/**
 * What both charts share: the size, the buckets along x (each bar or point at its bucket's
 * start, half a bucket of room on either side), ticks labelled in UTC, and the legend's line
 * for the bucket under the pointer.
 * @param {Stats} stats
 * @param {HTMLElement} el the chart's container
 * @param {ChartAxis} yAxis
 * @param {[number, number]} yRange
 * @param {ChartSeries[]} series
 * @returns {ChartOptions}
 */
function chartOptions(stats, el, yAxis, yRange, series) {
  const starts = stats.buckets.map((b) => Date.parse(b.start) / 1000);
  const half = BUCKET_SECONDS[stats.bucket] / 2;
  return {
    width: Math.max(240, el.clientWidth),
    height: HEIGHT,
    scales: {
      x: { time: true, range: () => [starts[0] - half, starts[starts.length - 1] + half] },
      y: { range: () => yRange },
    },
    axes: [
      {
        ...AXIS,
        splits: (u) => ticks(starts, u.width - 80),
        values: (_u, splits) => splits.map((start) => tickLabel(start, stats.bucket)),
      },
      { ...AXIS, ...yAxis },
    ],
    series: [
      {
        label: stats.bucket === 'hour' ? 'Hour (UTC)' : 'Day (UTC)',
        value: (_u, start) => (start === null || start === undefined ? '—' : bucketTitle(start, stats.bucket)),
      },
      ...series,
    ],
    cursor: { drag: { x: false, y: false, setScale: false } },
    legend: { live: true },
  };
}

/**
 * The outcomes: one bar layer per outcome (reports-format.js `outcomeSeries` says why layers),
 * the legend giving each outcome's own count, not its layer's top.
 * @param {ChartClass} UPlot
 * @param {Stats} stats
 * @param {HTMLElement} el
 * @returns {ChartOptions}
 */
function outcomesOptions(UPlot, stats, el) {
  const { layers, max } = outcomeSeries(stats);
  const bars = UPlot.paths.bars ? UPlot.paths.bars({ size: [0.7, 56], gap: 1 }) : undefined;
  return chartOptions(stats, el,
    { size: 44, incrs: COUNT_STEPS, values: (_u, splits) => splits.map((n) => String(n)) },
    [0, axisTop(max)],
    layers.map((layer) => ({
      label: layer.label,
      fill: layer.color,
      stroke: layer.color,
      width: 0,
      paths: bars,
      points: { show: false },
      value: (_u, _top, _series, i) => (i === null ? '—' : String(layer.counts[i])),
    })));
}

/**
 * The time to retrieve: a line per percentile, with points (a bucket with retrieved calls
 * between two without is a point, not a line), and gaps where no call was retrieved.
 * @param {Stats} stats
 * @param {HTMLElement} el
 * @returns {ChartOptions}
 */
function retrieveOptions(stats, el) {
  const { lines, max } = retrieveSeries(stats);
  return chartOptions(stats, el,
    { size: 72, incrs: SECOND_STEPS, values: (_u, splits) => splits.map(axisSeconds) },
    [0, axisTop(max)],
    lines.map((line) => ({
      label: line.label,
      stroke: line.color,
      width: 2,
      spanGaps: false,
      points: { show: true, size: 7, fill: line.color, stroke: line.color },
      value: (_u, seconds) => (seconds === null || seconds === undefined ? '—' : holdTime(seconds)),
    })));
}
