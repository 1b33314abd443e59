// Workers: the live ones (seen within a few heartbeats), what they run, when last seen;
// refreshed live (a failed refresh, e.g. while the server restarts, keeps the table and
// raises the lost-contact banner until the server answers again).

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

/** The jobs a worker runs, one per line (a list, so ids never run together). */
function running(jobs) {
  if (!jobs.length) return h("span", { class: "muted" }, "idle");
  return h("ul", { class: "job-ids" },
    jobs.map((uuid) => h("li", {}, h("a", { href: route("job", uuid), class: "mono job-link", title: uuid }, shortId(uuid)))));
}

function workerTable(workers) {
  if (!workers.length) return message("No worker is running.");
  const rows = workers.map((w) =>
    h("tr", { "data-worker": w.id },
      h("td", { class: "mono", "data-label": "worker" }, w.id),
      h("td", { "data-label": "host" }, w.host),
      h("td", { "data-label": "pid" }, w.pid),
      h("td", { "data-label": "queues" }, (w.queues || []).join(", ")),
      h("td", { "data-label": "threads" }, w.threads ?? "—"),
      h("td", { "data-label": "running" }, running(w.jobs || [])),
      h("td", { "data-label": "started" }, when(w.started_at)),
      h("td", { "data-label": "last seen" }, ago(w.last_seen))));
  return table(["worker", "host", "pid", "queues", "threads", "running", "started", "last seen"], rows, "grid workers");
}
