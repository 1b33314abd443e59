// Overview: counts per queue and state, throughput per minute, and wait/run latency.

import { enc, get } from "../api.js";
import { barList, columnChart } from "../charts.js";
import { duration } from "../format.js";
import { fill, h, message, route, section, table } from "../dom.js";
import { STATES } from "./states.js";

const REFRESH_MS = 10000; // each refresh reads every queue's stats: keep it calm on the store.
const MINUTES = 30; // the throughput chart's span.
const WINDOW = 500; // finished jobs read for throughput (the API's largest page).
const MAX_QUEUES_WITH_STATS = 20; // one stats read per queue: bounded.
const STATS_MS = 60000;

export async function overviewView(main, ctx) {
  const cache = { stats: null, at: 0 };
  const draw = async () => {
    const data = await load(ctx.signal, cache);
    if (ctx.active) fill(main, ...render(data));
  };
  await draw();
  ctx.every(REFRESH_MS, draw);
}

async function load(signal, cache) {
  const { queues } = await get("api/queues", {}, signal);
  const [complete, failed, stats] = await Promise.all([
    get("api/jobs", { state: "complete", limit: WINDOW }, signal),
    get("api/jobs", { state: "failed", limit: WINDOW }, signal),
    queueStats(queues, signal, cache),
  ]);
  return { queues, complete: complete.jobs, failed: failed.jobs, stats };
}

/** Each queue's wait/run statistics; read again at most every STATS_MS (each read counts
 * the store's jobs again), or at once when the queues changed. */
async function queueStats(queues, signal, cache) {
  const names = queues.slice(0, MAX_QUEUES_WITH_STATS).map((q) => q.name);
  const same = cache.stats && cache.stats.map((q) => q.name).join("\n") === names.join("\n");
  if (same && Date.now() - cache.at < STATS_MS) return cache.stats;
  cache.stats = await Promise.all(names.map((name) => get(`api/queues/${enc(name)}`, {}, signal)));
  cache.at = Date.now();
  return cache.stats;
}

function render({ queues, complete, failed, stats }) {
  return [
    h("h1", {}, "Overview"),
    section("Jobs per queue and state", countsTable(queues)),
    section(
      `Throughput: finished per minute, last ${MINUTES} minutes`,
      throughput(complete, failed),
      h("p", { class: "muted" }, `From the newest ${WINDOW} complete and ${WINDOW} failed jobs.`),
    ),
    section("Latency (newest finished jobs of each queue)", latency(stats)),
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

function throughput(complete, failed) {
  const now = Date.now() / 1000;
  const buckets = Array.from({ length: MINUTES }, () => [0, 0]);
  const add = (jobs, series) => {
    for (const job of jobs) {
      const at = job.finished_at ?? job.updated_at;
      const age = Math.floor((now - at) / 60);
      if (age >= 0 && age < MINUTES) buckets[MINUTES - 1 - age][series] += 1;
    }
  };
  add(complete, 0);
  add(failed, 1);
  const columns = buckets.map((values, i) => {
    const minutesAgo = MINUTES - 1 - i;
    return {
      values,
      label: minutesAgo ? `${minutesAgo} min ago` : "this minute",
      tick: minutesAgo % 5 === 0 ? (minutesAgo ? `-${minutesAgo}m` : "now") : null,
    };
  });
  const series = [
    { name: "complete", cls: "s-complete" },
    { name: "failed", cls: "s-failed" },
  ];
  return columnChart(columns, series);
}

function latency(stats) {
  if (!stats.length) return message("No queue yet.");
  const rows = stats.map((q) =>
    h(
      "tr",
      {},
      h("th", {}, q.name),
      h("td", {}, q.stats.finished_in_window),
      h("td", {}, duration(q.stats.wait.p50)),
      h("td", {}, duration(q.stats.wait.p95)),
      h("td", {}, duration(q.stats.run.p50)),
      h("td", {}, duration(q.stats.run.p95)),
      h("td", {}, duration(q.stats.oldest_waiting_age_seconds)),
    ),
  );
  const bars = stats.flatMap((q) => [
    { label: `${q.name} wait p95`, value: q.stats.wait.p95, text: duration(q.stats.wait.p95), cls: "s-wait" },
    { label: `${q.name} run p95`, value: q.stats.run.p95, text: duration(q.stats.run.p95), cls: "s-run" },
  ]);
  return [
    table(["queue", "finished", "wait p50", "wait p95", "run p50", "run p95", "oldest waiting"], rows),
    barList(bars),
  ];
}
