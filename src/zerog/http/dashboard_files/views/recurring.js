// Recurring jobs: each schedule, when it next spawns a job, how many it spawned, and a stop
// button (asked about first; the jobs it spawned stay).

import { ApiFailure, del, enc, get } from "../api.js";
import { duration, shortId, until, when } from "../format.js";
import { button, confirmAction, fill, h, message, route, table, tagLink } from "../dom.js";

const REFRESH_MS = 5000;

export async function recurringView(main, ctx) {
  const status = h("p", { class: "action-status", role: "status" });
  const box = h("div");
  const draw = async () => {
    let recurring;
    try {
      ({ recurring } = await get("api/recurring", {}, ctx.signal));
    } catch (error) {
      if (!(error instanceof ApiFailure) || error.status !== 501) throw error;
      fill(box, message("This backend keeps no recurring jobs."));
      return;
    }
    if (ctx.active) fill(box, recurringTable(recurring, ctx, status, draw));
  };
  fill(main, h("h1", {}, "Recurring jobs"), status, box);
  await draw();
  ctx.every(REFRESH_MS, draw);
}

function schedule(r) {
  return r.cron ? `cron ${r.cron}` : `every ${duration(r.interval_seconds)}`;
}

function recurringTable(recurring, ctx, status, redraw) {
  if (!recurring.length) return message("No recurring job.");
  const rows = recurring.map((r) =>
    h("tr", { "data-recurring": r.id },
      h("td", { class: "mono", "data-label": "id", title: r.id }, shortId(r.id)),
      h("td", { "data-label": "type" }, r.type),
      h("td", { "data-label": "queue" }, h("a", { href: `${route("jobs")}?queue=${enc(r.queue)}` }, r.queue)),
      h("td", { "data-label": "schedule" }, schedule(r)),
      h("td", { "data-label": "next", title: when(r.next_at) }, until(r.next_at)),
      h("td", { "data-label": "spawned" }, r.count ?? 0),
      h("td", { "data-label": "tags" }, (r.tags || []).map(tagLink)),
      h("td", { "data-label": "" },
        button("Stop", () => ctx.guard(() => stop(r, status, redraw)), { class: "danger", "data-action": "stop" }))));
  return table(["id", "type", "queue", "schedule", "next job", "spawned", "tags", ""], rows, "grid recurring");
}

async function stop(r, status, redraw) {
  if (!(await confirmAction(`Stop recurring ${r.type} (${schedule(r)})? Jobs it spawned stay.`, "Stop"))) return;
  try {
    await del(`api/recurring/${enc(r.id)}`);
    fill(status, `Stopped ${r.type} (${schedule(r)}).`);
  } catch (error) {
    if (!(error instanceof ApiFailure)) throw error;
    fill(status, message(`stop refused: ${error.message}`, "error"));
  }
  await redraw();
}
