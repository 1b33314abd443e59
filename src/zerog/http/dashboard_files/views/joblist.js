// A page of jobs with filters, server-side cursor pages and bulk actions; the Jobs and the
// Failed views are both made of it.

import { ApiFailure, enc, get, post } from "../api.js";
import { ago, percent, shortId } from "../format.js";
import {
  button, checkbox, fill, h, message, progressBar, route, stalledFlag, stateBadge, table,
} from "../dom.js";
import { STATES } from "./states.js";

const FILTERS = ["state", "queue", "type", "tag"];
const PAGE_SIZES = ["20", "50", "100", "200"];

/**
 * ``options``: ``view`` (the route to filter on), ``title``, ``fixed`` (filters the user cannot
 * change, e.g. {state: "failed"}), ``actions`` (bulk actions offered), ``extra(job)`` (more
 * content under a row, e.g. the error's traceback), ``pageSize`` (the default page size).
 */
export async function jobList(main, ctx, options) {
  const filters = readFilters(ctx.params, options.fixed, options.pageSize || "50");
  const list = new JobList(ctx, options, filters);
  fill(main, h("h1", {}, options.title), filterForm(options, filters), list.box);
  await list.load(null);
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
    const input = h("input", { name: key, value: filters[key], size: 14 });
    fields.push(h("label", {}, `${key} `, input));
  }
  const sizes = [...new Set([...PAGE_SIZES, filters.limit])];
  const limit = sizes.map((n) => h("option", { value: n, selected: n === filters.limit }, n));
  fields.push(h("label", {}, "per page ", h("select", { name: "limit" }, limit)));
  const submit = h("button", { type: "submit" }, "Apply");
  return h("form", { class: "filters", onsubmit: (e) => applyFilters(e, options) }, fields, submit);
}

const option = (value, text) => h("option", { value }, text);

function applyFilters(event, options) {
  event.preventDefault();
  const data = new FormData(event.target);
  const params = new URLSearchParams();
  for (const [key, value] of data.entries()) if (value) params.set(key, value);
  location.hash = `${route(options.view)}?${params}`;
}

const COLUMNS = ["job", "type", "queue", "state", "progress", "attempts", "tags", "updated"];

class JobList {
  constructor(ctx, options, filters) {
    this.ctx = ctx;
    this.options = options;
    this.filters = filters;
    this.cursors = [null]; // cursors[i]: the cursor that gave page i (null: the first).
    this.page = 0;
    this.next = null;
    this.jobs = [];
    this.box = h("div", { class: "job-list" });
  }

  async load(cursor) {
    const answer = await get("api/jobs", { ...this.filters, cursor }, this.ctx.signal);
    this.jobs = answer.jobs;
    this.next = answer.cursor;
    const extra = this.options.extra;
    const extras = extra ? await Promise.all(this.jobs.map((j) => extra(j, this.ctx))) : [];
    if (this.ctx.active) this.render(extras);
  }

  render(extras) {
    this.status = h("p", { class: "bulk-status", role: "status" });
    const boxes = this.jobs.map((job) =>
      checkbox({ class: "pick", "data-uuid": job.uuid, "aria-label": `select ${job.uuid}` }),
    );
    const all = checkbox({ class: "pick-all", "aria-label": "select all on this page" });
    all.addEventListener("change", () => boxes.forEach((b) => (b.checked = all.checked)));
    const rows = this.jobs.flatMap((job, i) => [row(job, boxes[i]), extraRow(extras[i])]);
    const grid = this.jobs.length
      ? table([all, ...COLUMNS], rows, "grid jobs")
      : message("No job matches.");
    fill(this.box, this.toolbar(boxes), this.status, grid, this.pager());
  }

  toolbar(boxes) {
    const chosen = () => boxes.filter((b) => b.checked).map((b) => b.dataset.uuid);
    const bulk = this.options.actions.map((action) =>
      button(`${capital(action)} selected`, () => this.ctx.guard(() => this.bulk(action, chosen())), {
        "data-bulk": action,
      }),
    );
    const refresh = button("Refresh", () => this.ctx.guard(() => this.load(this.cursors[this.page])), {
      class: "link",
    });
    return h("div", { class: "toolbar" }, bulk, refresh);
  }

  pager() {
    const turn = (step) => () => this.ctx.guard(() => this.turn(step));
    return h(
      "div",
      { class: "pager" },
      button("← Newer", turn(-1), { disabled: this.page === 0 }),
      h("span", { class: "page-no" }, `page ${this.page + 1}`),
      button("Older →", turn(1), { disabled: !this.next }),
    );
  }

  async turn(step) {
    if (step > 0) {
      this.cursors[this.page + 1] = this.next;
    }
    this.page += step;
    await this.load(this.cursors[this.page]);
  }

  /** One POST per job; the tally says what happened to each. */
  async bulk(action, uuids) {
    if (!uuids.length) {
      fill(this.status, "Select jobs first.");
      return;
    }
    const tally = { done: 0, refused: [] };
    for (const uuid of uuids) {
      try {
        await post(`api/jobs/${enc(uuid)}/${action}`);
        tally.done += 1;
      } catch (error) {
        if (!(error instanceof ApiFailure)) throw error;
        tally.refused.push(`${shortId(uuid)}: ${error.message}`);
      }
    }
    await this.load(this.cursors[this.page]);
    const refused = tally.refused.length ? ` ${tally.refused.length} refused (${tally.refused.join("; ")}).` : "";
    fill(this.status, `${capital(action)}: ${tally.done} of ${uuids.length} done.${refused}`);
  }
}

function row(job, box) {
  const tags = (job.tags || []).map((t) => h("span", { class: "tag" }, t));
  return h(
    "tr",
    { "data-uuid": job.uuid, "data-state": job.state },
    h("td", {}, box),
    h("td", { class: "mono" }, h("a", { href: route("job", job.uuid), title: job.uuid }, shortId(job.uuid))),
    h("td", {}, job.type),
    h("td", {}, job.queue),
    h("td", {}, stateBadge(job.state), stalledFlag(job)),
    h("td", { class: "progress-cell" }, progressBar(job.completeness), " ", percent(job.completeness)),
    h("td", {}, `${job.attempts ?? 0}/${(job.max_retries ?? 0) + 1}`),
    h("td", {}, tags),
    h("td", { title: String(job.updated_at) }, ago(job.updated_at)),
  );
}

function extraRow(content) {
  return content ? h("tr", { class: "extra" }, h("td", { colspan: COLUMNS.length + 1 }, content)) : null;
}

function capital(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
