// Overview: counts per queue and state (live), completed and failed runs per day, and
// today's wait and run times, from the store's own statistics (exact, whatever the number of
// jobs: every worker counts its runs there).

import { enc, get } from "../api.js";
import { barList, columnChart } from "../charts.js";
import { duration } from "../format.js";
import { fill, h, message, route, section, table } from "../dom.js";
import { STATES } from "./states.js";

const REFRESH_MS = 5000; // the counts; cheap.
const STATS_MS = 30000; // the daily statistics: one store read per queue and day.
const DAYS = 14; // the throughput chart's span.

export async function overviewView(main, ctx) {
  const cache = { daily: null, at: 0 };
  const draw = async () => {
    const data = await load(ctx.signal, cache);
    if (ctx.active) fill(main, ...render(data));
  };
  await draw();
  ctx.every(REFRESH_MS, draw);
}

async function load(signal, cache) {
  const [{ queues }, daily] = await Promise.all([get("api/queues", {}, signal), dailyStats(signal, cache)]);
  return { queues, daily };
}

/** The store's statistics of the last DAYS days; read again at most every STATS_MS. */
async function dailyStats(signal, cache) {
  if (cache.daily && Date.now() - cache.at < STATS_MS) return cache.daily;
  cache.daily = await get("api/stats/daily", { days: DAYS }, signal);
  cache.at = Date.now();
  return cache.daily;
}

function render({ queues, daily }) {
  return [
    h("h1", {}, "Overview"),
    section("Jobs per queue and state", countsTable(queues)),
    section(`Runs per day (UTC), last ${DAYS} days`, throughput(daily),
      h("p", { class: "muted" }, "Counted by the workers as runs end (the store's statistics), not sampled.")),
    section("Today: wait before start and run time", latency(daily)),
  ];
}

function countsTable(queues) {
  if (!queues.length) return message("No queue holds a job yet.");
  const totals = Object.fromEntries(STATES.map((s) => [s, 0]));
  const rows = queues.map((q) => {
    for (const s of STATES) totals[s] += q.counts[s] || 0;
    return h(
      "tr",
      { "data-queue": q.name },
      h("th", {},
        h("a", { href: `${route("jobs")}?queue=${enc(q.name)}` }, q.name),
        q.paused ? h("span", { class: "badge paused" }, "paused") : null),
      STATES.map((s) => countCell(q.counts[s] || 0, s, q.name)),
    );
  });
  const sums = STATES.map((s) => h("td", { "data-state": s }, totals[s]));
  rows.push(h("tr", { class: "total" }, h("th", {}, "all queues"), sums));
  return table(["queue", ...STATES], rows, "grid counts");
}

function countCell(n, state, queue) {
  const target = `${route("jobs")}?queue=${enc(queue)}&state=${state}`;
  return h("td", { "data-state": state, class: n ? "" : "zero" }, n ? h("a", { href: target }, n) : "0");
}

function throughput(daily) {
  const columns = daily.days.map((day, i) => {
    const totals = [0, 0];
    for (const q of Object.values(day.queues)) {
      totals[0] += q.completed;
      totals[1] += q.failed;
    }
    const date = new Date(day.day * 1000).toISOString().slice(5, 10);
    const last = i === daily.days.length - 1;
    return { values: totals, label: last ? `today (${date})` : date, tick: last ? "today" : i % 2 ? null : date };
  });
  const series = [
    { name: "completed", cls: "s-complete" },
    { name: "failed", cls: "s-failed" },
  ];
  return columnChart(columns, series);
}

function latency(daily) {
  const today = daily.days.at(-1)?.queues || {};
  const names = Object.keys(today).filter((q) => today[q].completed || today[q].failed || today[q].wait_p50 != null);
  if (!names.length) return message("No run ended today yet.");
  const rows = names.map((name) => {
    const q = today[name];
    return h("tr", { "data-queue": name },
      h("th", {}, name),
      h("td", { "data-stat": "completed" }, q.completed),
      h("td", { "data-stat": "failed" }, q.failed),
      h("td", { "data-stat": "retried" }, q.retried),
      h("td", {}, upTo(q.wait_p50)),
      h("td", {}, upTo(q.wait_p95)),
      h("td", {}, upTo(q.run_p50)),
      h("td", {}, upTo(q.run_p95)));
  });
  const bars = names.flatMap((name) => [
    { label: `${name} wait p95`, value: today[name].wait_p95, text: upTo(today[name].wait_p95), cls: "s-wait" },
    { label: `${name} run p95`, value: today[name].run_p95, text: upTo(today[name].run_p95), cls: "s-run" },
  ]);
  return [
    table(["queue", "completed", "failed", "retried", "wait p50", "wait p95", "run p50", "run p95"], rows, "grid latency"),
    barList(bars),
    h("p", { class: "muted" }, "Percentiles are read from the store's histograms: \"< 2 s\" means in the bucket ending at 2 s."),
  ];
}

/** A histogram bound as an upper limit ("< 2 s"). */
function upTo(seconds) {
  return seconds == null ? "—" : `< ${duration(seconds)}`;
}
