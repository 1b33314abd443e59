// Workers: the live ones (seen within a few heartbeats), what they run, when last seen.

import { ApiFailure, get } from "../api.js";
import { ago, shortId, when } from "../format.js";
import { fill, h, message, route, table } from "../dom.js";

const REFRESH_MS = 3000;

export async function workersView(main, ctx) {
  const box = h("div");
  fill(main, h("h1", {}, "Workers"), box);
  const draw = async () => {
    let workers;
    try {
      ({ workers } = await get("api/workers", {}, ctx.signal));
    } catch (error) {
      if (!(error instanceof ApiFailure) || error.status !== 501) throw error;
      fill(box, message("This backend keeps no registry of workers."));
      return;
    }
    if (ctx.active) fill(box, workerTable(workers));
  };
  await draw();
  ctx.every(REFRESH_MS, draw);
}

function running(jobs) {
  if (!jobs.length) return h("span", { class: "muted" }, "idle");
  return jobs.map((uuid) => h("a", { href: route("job", uuid), class: "mono job-link" }, shortId(uuid)));
}

function workerTable(workers) {
  if (!workers.length) return message("No worker is running.");
  const rows = workers.map((w) =>
    h("tr", { "data-worker": w.id },
      h("td", { class: "mono" }, w.id),
      h("td", {}, w.host),
      h("td", {}, w.pid),
      h("td", {}, (w.queues || []).join(", ")),
      h("td", {}, w.threads ?? "—"),
      h("td", {}, running(w.jobs || [])),
      h("td", {}, when(w.started_at)),
      h("td", {}, ago(w.last_seen))));
  return table(["worker", "host", "pid", "queues", "threads", "running", "started", "last seen"], rows);
}
