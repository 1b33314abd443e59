// The audit trail: every operator action, newest first, with who did it, by what door, to
// what; filters by actor, action and target, older pages by the trail's cursor. The first
// page refreshes live; an older page stays as it was read.

import { ApiFailure, get } from "../api.js";
import { when } from "../format.js";
import { fill, h, message, route, table } from "../dom.js";

const REFRESH_MS = 5000;
const PAGE = 100;
const FILTERS = ["actor", "action", "target"];
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function auditView(main, ctx) {
  const query = { limit: PAGE };
  for (const key of [...FILTERS, "before"]) {
    const value = ctx.params.get(key);
    if (value) query[key] = value;
  }
  const box = h("div");
  const draw = async () => {
    let answer;
    try {
      answer = await get("api/audit", query, ctx.signal);
    } catch (error) {
      if (!(error instanceof ApiFailure) || error.status !== 501) throw error;
      fill(box, message("This backend keeps no audit trail."));
      return;
    }
    if (ctx.active) fill(box, auditTable(answer.entries), pager(query, answer.cursor));
  };
  fill(main, h("h1", {}, "Audit trail"),
    h("p", { class: "muted" }, "Operator actions, newest first: who, by what door, to what. Entries are never changed."),
    filterForm(query), box);
  await draw();
  if (!query.before) ctx.every(REFRESH_MS, draw);
}

function filterForm(query) {
  const fields = FILTERS.map((key) =>
    h("label", {}, `${key} `, h("input", { name: key, value: query[key] || "", size: 14 })));
  const apply = (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(event.target).entries()) if (value) params.set(key, value.trim());
    location.hash = `${route("audit")}?${params}`;
  };
  return h("form", { class: "filters audit-filters", onsubmit: apply }, fields,
    h("button", { type: "submit" }, "Apply"));
}

function target(text) {
  return JOB_ID.test(text) ? h("a", { href: route("job", text), class: "mono job-link" }, text) : text;
}

function auditTable(entries) {
  if (!entries.length) return message("No operator action is recorded here.");
  const rows = entries.map((e) =>
    h("tr", { "data-seq": e.seq },
      h("td", { "data-label": "when" }, when(e.at)),
      h("td", { "data-label": "actor" }, e.actor),
      h("td", { "data-label": "source", class: "muted" }, e.source),
      h("td", { "data-label": "action" }, h("strong", {}, e.action)),
      h("td", { "data-label": "target" }, target(e.target)),
      h("td", { "data-label": "detail", class: "detail" }, e.detail ?? "")));
  return table(["when", "actor", "source", "action", "target", "detail"], rows, "grid audit");
}

function pager(query, cursor) {
  const params = new URLSearchParams();
  for (const key of FILTERS) if (query[key]) params.set(key, query[key]);
  const links = [];
  if (query.before) links.push(h("a", { href: `${route("audit")}?${params}`, class: "newest" }, "Newest"));
  if (cursor !== null && cursor !== undefined) {
    params.set("before", cursor);
    links.push(h("a", { href: `${route("audit")}?${params}`, class: "older" }, "Older →"));
  }
  return links.length ? h("p", { class: "pager" }, links.flatMap((a, i) => (i ? [" · ", a] : [a]))) : null;
}
