// Limits: how many jobs may run at once under each limit (a queue's own, or a named throttle
// jobs carry), and how many run under it now.

import { ApiFailure, enc, get } from "../api.js";
import { fill, h, message, progressBar, route, table } from "../dom.js";

const REFRESH_MS = 3000;

export async function limitsView(main, ctx) {
  const box = h("div");
  const draw = async () => {
    let limits;
    try {
      ({ limits } = await get("api/limits", {}, ctx.signal));
    } catch (error) {
      if (!(error instanceof ApiFailure) || error.status !== 501) throw error;
      fill(box, message("This backend keeps no limits."));
      return;
    }
    if (ctx.active) fill(box, limitTable(limits));
  };
  fill(main, h("h1", {}, "Limits"),
    h("p", { class: "muted" }, "Set them with `zerog limit NAME N` (queue:<name> for a queue's own)."), box);
  await draw();
  ctx.every(REFRESH_MS, draw);
}

function limitTable(limits) {
  if (!limits.length) return message("No limit is set: every ready job may run.");
  const rows = limits.map((l) =>
    h("tr", { "data-limit": l.name },
      h("th", { "data-label": "limit" }, l.queue === null
        ? l.name
        : ["queue ", h("a", { href: `${route("jobs")}?queue=${enc(l.queue)}&state=running` }, l.queue)]),
      h("td", { "data-label": "running", "data-stat": "running" }, l.running),
      h("td", { "data-label": "maximum", "data-stat": "maximum" }, l.maximum),
      h("td", { "data-label": "use" }, progressBar(l.maximum ? l.running / l.maximum : 1),
        l.running >= l.maximum ? h("span", { class: "badge paused" }, "full") : null)));
  return table(["limit", "running", "maximum", "use"], rows, "grid limits");
}
