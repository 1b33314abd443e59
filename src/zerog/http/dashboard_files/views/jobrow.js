// One job as a list row: what it is (its type, its class's describe() or a summary of its
// values, what it said last), where it stands (state, progress, ETA, when it runs, what it
// waits for), its attempts, tags and last change.

import { ago, duration, percent, shortId, until, when } from "../format.js";
import { h, link, progressBar, route, stalledFlag, stateBadge, tagLink } from "../dom.js";

/** [sort key, header] of each column after the checkbox. */
export const COLUMNS = [
  ["job", "job"],
  ["what", "what"],
  ["queue", "queue"],
  ["state", "state"],
  ["progress", "progress"],
  ["attempts", "tries"],
  ["tags", "tags"],
  ["updated", "updated"],
];

/** The cells of a row, each labelled for the small-screen layout (one card per job). */
export function cells(job) {
  const cell = (label, attrs, ...content) => h("td", { "data-label": label, ...attrs }, ...content);
  return [
    cell("job", { class: "mono" }, h("a", { href: route("job", job.uuid), title: job.uuid }, shortId(job.uuid))),
    cell("what", { class: "what" }, what(job)),
    cell("queue", {}, h("a", { href: `${route("jobs")}?queue=${encodeURIComponent(job.queue)}` }, job.queue)),
    cell("state", { class: "state-cell" }, stateBadge(job.state), stalledFlag(job), waiting(job)),
    cell("progress", { class: "progress-cell" }, progress(job)),
    cell("tries", {}, `${job.attempts ?? 0}/${(job.max_retries ?? 0) + 1}`),
    cell("tags", {}, (job.tags || []).map(tagLink)),
    cell("updated", { title: when(job.updated_at) }, ago(job.updated_at)),
  ];
}

function what(job) {
  return [
    h("span", { class: "job-type" }, job.type),
    job.description ? h("span", { class: "description" }, job.description) : null,
    job.last_message ? h("span", { class: "last-message" }, job.last_message) : null,
    job.last_error && job.state === "failed" ? h("span", { class: "last-error" }, job.last_error.msg) : null,
  ];
}

/** When a scheduled job runs; what a job in ``depends`` waits for (and what blocks it). */
function waiting(job) {
  if (job.state === "scheduled") {
    return h("span", { class: "run-at", title: when(job.ready_at) }, `runs ${until(job.ready_at)}`);
  }
  if (job.state !== "depends") return null;
  const pending = job.depends || [];
  const blocked = Object.entries(job.blocked_by || {});
  return h("span", { class: "waits-for" },
    `waits for ${pending.length}: `,
    pending.slice(0, 3).map((uuid) => [link(shortId(uuid), "job", uuid), " "]),
    pending.length > 3 ? `+${pending.length - 3} ` : null,
    blocked.length ? h("span", { class: "blocked" }, `blocked: ${blocked.map(([u, s]) => `${shortId(u)} ${s}`).join(", ")}`) : null);
}

function progress(job) {
  const eta = job.state === "running" && job.eta != null ? h("span", { class: "eta" }, `about ${duration(job.eta)} left`) : null;
  return [progressBar(job.completeness), " ", h("span", { class: "percent" }, percent(job.completeness)), eta];
}
