// Queues: counts (live), paused or not, pause/resume, and kick (failed jobs back to waiting).

import { ApiFailure, enc, get, post } from "../api.js";
import { button, fill, h, message, route, table } from "../dom.js";

const SHOWN = ["waiting", "scheduled", "depends", "running", "paused", "failed", "complete"];
const REFRESH_MS = 3000;

export async function queuesView(main, ctx) {
  const status = h("p", { class: "action-status", role: "status" });
  const box = h("div");
  const draw = async () => {
    const { queues } = await get("api/queues", {}, ctx.signal);
    if (ctx.active) fill(box, queueTable(queues, ctx, status, draw));
  };
  fill(main, h("h1", {}, "Queues"), status, box);
  await draw();
  ctx.every(REFRESH_MS, draw);
}

function queueTable(queues, ctx, status, redraw) {
  if (!queues.length) return message("No queue holds a job yet.");
  const rows = queues.map((q) => {
    const count = h("input", {
      type: "number", min: 1, max: 10000, value: 1, class: "kick-count",
      "aria-label": `jobs to kick in ${q.name}`,
    });
    const act = (action, query) => ctx.guard(() => queueAction(q.name, action, query, status, redraw));
    return h("tr", { "data-queue": q.name },
      h("th", {}, h("a", { href: `${route("jobs")}?queue=${enc(q.name)}` }, q.name)),
      SHOWN.map((s) => h("td", { "data-state": s, "data-label": s }, q.counts[s] || 0)),
      h("td", { class: "queue-state" }, q.paused ? h("span", { class: "badge paused" }, "paused") : "active"),
      h("td", { class: "queue-actions" },
        q.paused
          ? button("Resume", () => act("resume"), { "data-action": "resume" })
          : button("Pause", () => act("pause"), { "data-action": "pause" }),
        " ",
        button("Kick", () => act("kick", { count: count.value }), {
          "data-action": "kick", disabled: !q.counts.failed, title: "put failed jobs back to waiting",
        }),
        count));
  });
  return table(["queue", ...SHOWN, "", "actions"], rows, "grid queues");
}

async function queueAction(name, action, query, status, redraw) {
  try {
    const answer = await post(`api/queues/${enc(name)}/${action}`, query);
    const done = action === "kick"
      ? `${name}: ${answer.kicked} job(s) kicked back to waiting.`
      : `${name}: ${answer.paused ? "paused" : "resumed"}.`;
    fill(status, done);
  } catch (error) {
    if (!(error instanceof ApiFailure)) throw error;
    fill(status, message(`${action} refused: ${error.message}`, "error"));
  }
  await redraw();
}
