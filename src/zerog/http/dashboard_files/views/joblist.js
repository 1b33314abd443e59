// A page of jobs with filters, server-side cursor pages, live refresh, sorting and bulk
// actions; the Jobs and the Failed views are both made of it.

import { ApiFailure, del, enc, get, post } from "../api.js";
import { ago, shortId } from "../format.js";
import { button, checkbox, confirmAction, fill, h, message, route, table } from "../dom.js";
import { COLUMNS, cells } from "./jobrow.js";
import { STATES } from "./states.js";

const FILTERS = ["state", "queue", "type", "tag"];
const PAGE_SIZES = ["20", "50", "100", "200"];
const REFRESH_MS = 3000;
const DESTRUCTIVE = { cancel: "Cancel", delete: "Delete" }; // asked about before they run.

/**
 * ``options``: ``view`` (the route to filter on), ``title``, ``fixed`` (filters the user cannot
 * change, e.g. {state: "failed"}), ``actions`` (bulk actions offered: retry, cancel, delete),
 * ``extra(job)`` (more content under a row, e.g. its last error), ``pageSize``, ``before``
 * (nodes above the list), ``onRefresh`` (also called at every live refresh), ``afterBulk``
 * (called after a bulk action).
 */
export async function jobList(main, ctx, options) {
  const filters = readFilters(ctx.params, options.fixed, options.pageSize || "50");
  const list = new JobList(ctx, options, filters);
  fill(main, h("h1", {}, options.title), options.before || null,
    h("div", { class: "list-forms" }, filterForm(options, filters), findForm()), list.box);
  await list.load(null);
  ctx.every(REFRESH_MS, async () => {
    await options.onRefresh?.();
    await list.reload();
  });
  return list;
}

function readFilters(params, fixed, pageSize) {
  const filters = {};
  for (const key of FILTERS) filters[key] = params.get(key) || "";
  const limit = params.get("limit") || "";
  filters.limit = /^[1-9]\d{0,2}$/.test(limit) ? limit : pageSize; // the server clamps it too.
  return { ...filters, ...(fixed || {}) };
}

function filterForm(options, filters) {
  const fields = [];
  if (!options.fixed?.state) {
    const states = STATES.map((s) => h("option", { value: s, selected: s === filters.state }, s));
    fields.push(h("label", {}, "state ", h("select", { name: "state" }, option("", "any"), states)));
  }
  for (const key of ["queue", "type", "tag"]) {
    const input = h("input", { name: key, value: filters[key], size: 12 });
    fields.push(h("label", {}, `${key} `, input));
  }
  const sizes = [...new Set([...PAGE_SIZES, filters.limit])];
  const limit = sizes.map((n) => h("option", { value: n, selected: n === filters.limit }, n));
  fields.push(h("label", {}, "per page ", h("select", { name: "limit" }, limit)));
  const submit = h("button", { type: "submit" }, "Apply");
  return h("form", { class: "filters", onsubmit: (e) => applyFilters(e, options) }, fields, submit);
}

/** Go to a job by its id, or the last digits the lists show (the server finds it). */
function findForm() {
  const input = h("input", { name: "id", size: 14, placeholder: "…last digits", "aria-label": "job id" });
  const go = (event) => {
    event.preventDefault();
    const id = input.value.trim().replace(/^(…|\.\.\.)/, "");
    if (id) location.hash = route("job", id);
  };
  return h("form", { class: "find", onsubmit: go }, h("label", {}, "find job ", input),
    h("button", { type: "submit" }, "Go"));
}

const option = (value, text) => h("option", { value }, text);

function applyFilters(event, options) {
  event.preventDefault();
  const data = new FormData(event.target);
  const params = new URLSearchParams();
  for (const [key, value] of data.entries()) if (value) params.set(key, value);
  location.hash = `${route(options.view)}?${params}`;
}

class JobList {
  constructor(ctx, options, filters) {
    this.ctx = ctx;
    this.options = options;
    this.filters = filters;
    this.cursors = [null]; // cursors[i]: the cursor that gave page i (null: the first).
    this.page = 0;
    this.next = null;
    this.jobs = [];
    this.picked = new Set(); // uuids selected: kept across live refreshes.
    this.sort = null; // {key, dir} of a column header clicked, or null: the server's order.
    this.status = h("p", { class: "bulk-status", role: "status" });
    this.grid = h("div", { class: "grid-box" });
    this.pagerBox = h("div");
    this.box = h("div", { class: "job-list" }, this.toolbar(), this.status, this.grid, this.pagerBox);
  }

  async load(cursor) {
    const answer = await get("api/jobs", { ...this.filters, cursor }, this.ctx.signal);
    if (!this.ctx.active) return;
    this.jobs = answer.jobs;
    this.next = answer.cursor;
    this.render();
  }

  /** Read the page on screen again. */
  reload() {
    return this.load(this.cursors[this.page]);
  }

  render() {
    const jobs = sorted(this.jobs, this.sort);
    const boxes = jobs.map((job) => {
      const box = checkbox({ class: "pick", "data-uuid": job.uuid, "aria-label": `select ${job.uuid}`,
        checked: this.picked.has(job.uuid) });
      box.addEventListener("change", () => (box.checked ? this.picked.add(job.uuid) : this.picked.delete(job.uuid)));
      return box;
    });
    const all = checkbox({ class: "pick-all", "aria-label": "select all on this page",
      checked: jobs.length > 0 && jobs.every((j) => this.picked.has(j.uuid)) });
    all.addEventListener("change", () => {
      for (const b of boxes) {
        b.checked = all.checked;
        b.dispatchEvent(new Event("change"));
      }
    });
    const rows = jobs.flatMap((job, i) => [
      h("tr", { "data-uuid": job.uuid, "data-state": job.state }, h("td", {}, boxes[i]), cells(job)),
      extraRow(this.options.extra?.(job)),
    ]);
    fill(this.grid, jobs.length ? this.table(all, rows) : message("No job matches."));
    fill(this.pagerBox, this.pager());
  }

  table(all, rows) {
    const headers = COLUMNS.map(([key, title]) => {
      const dir = this.sort?.key === key ? this.sort.dir : null;
      return h("button", { type: "button", class: "sort", "data-sort": key, title: `sort this page by ${title}`,
        onclick: () => this.sortBy(key) }, title, dir ? (dir > 0 ? " ▲" : " ▼") : "");
    });
    return table([all, ...headers], rows, "grid jobs");
  }

  sortBy(key) {
    this.sort = this.sort?.key === key ? (this.sort.dir > 0 ? { key, dir: -1 } : null) : { key, dir: 1 };
    this.render();
  }

  toolbar() {
    const bulk = this.options.actions.map((action) =>
      button(`${capital(action)} selected`, () => this.ctx.guard(() => this.bulk(action)), { "data-bulk": action }));
    return h("div", { class: "toolbar" }, bulk);
  }

  pager() {
    const turn = (step) => () => this.ctx.guard(() => this.turn(step));
    return h("div", { class: "pager" },
      button("← Newer", turn(-1), { disabled: this.page === 0 }),
      h("span", { class: "page-no" }, `page ${this.page + 1}`),
      button("Older →", turn(1), { disabled: !this.next }),
      h("span", { class: "muted refreshed" }, `read ${ago(Date.now() / 1000)}`));
  }

  async turn(step) {
    if (step > 0) this.cursors[this.page + 1] = this.next;
    this.page += step;
    await this.load(this.cursors[this.page]);
  }

  /** One request per selected job; the tally says what happened to each. Cancel and delete
   * are asked about first. */
  async bulk(action) {
    const uuids = [...this.picked];
    if (!uuids.length) {
      fill(this.status, "Select jobs first.");
      return;
    }
    if (DESTRUCTIVE[action] && !(await confirmAction(`${DESTRUCTIVE[action]} ${uuids.length} job(s)? This cannot be undone.`, `${DESTRUCTIVE[action]} ${uuids.length}`))) {
      fill(this.status, `${capital(action)}: nothing done.`);
      return;
    }
    const tally = { done: 0, refused: [] };
    for (const uuid of uuids) {
      try {
        await (action === "delete" ? del(`api/jobs/${enc(uuid)}`) : post(`api/jobs/${enc(uuid)}/${action}`));
        tally.done += 1;
        this.picked.delete(uuid);
      } catch (error) {
        if (!(error instanceof ApiFailure)) throw error;
        tally.refused.push(`${shortId(uuid)}: ${error.message}`);
      }
    }
    await this.reload();
    await this.options.afterBulk?.();
    const refused = tally.refused.length ? ` ${tally.refused.length} refused (${tally.refused.join("; ")}).` : "";
    fill(this.status, `${capital(action)}: ${tally.done} of ${uuids.length} done.${refused}`);
  }
}

const SORT_KEYS = {
  job: (j) => j.created_at,
  what: (j) => `${j.type} ${j.description || ""}`,
  queue: (j) => j.queue,
  state: (j) => STATES.indexOf(j.state),
  progress: (j) => Number(j.completeness) || 0,
  attempts: (j) => j.attempts ?? 0,
  updated: (j) => j.updated_at,
};

function sorted(jobs, sort) {
  if (!sort) return jobs;
  const key = SORT_KEYS[sort.key];
  return [...jobs].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
  });
}

function extraRow(content) {
  return content ? h("tr", { class: "extra" }, h("td", { colspan: COLUMNS.length + 1 }, content)) : null;
}

function capital(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
