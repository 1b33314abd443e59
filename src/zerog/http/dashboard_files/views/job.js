// A job: live progress and ETA from its SSE stream, log, errors with tracebacks, history,
// checkpoint (its saved values), result, and the operator actions its state allows.

import { ApiFailure, del, enc, follow, get, post } from "../api.js";
import { duration, json, percent, shortId, until, usage, when } from "../format.js";
import {
  confirmAction, fill, h, link, message, progressBar, route, section, stalledFlag, stateBadge, tagLink,
} from "../dom.js";
import { errorBlock } from "./failed.js";
import { messageBox } from "./message.js";
import { ALLOWED, FINAL } from "./states.js";

const MAX_LOG_LINES = 1000; // kept on screen; older lines drop off the top.
const CHECKPOINT_MS = 3000; // a running job's checkpoint and details are read again this often.
const ASK_FIRST = { cancel: "Cancel this job?", delete: "Delete this job and its history for good?" };

export async function jobView(main, ctx) {
  const uuid = ctx.args[0] || "";
  const page = new JobPage(ctx, uuid);
  fill(main, page.root);
  await page.reload();
  ctx.every(CHECKPOINT_MS, () => page.refreshDetails());
}

class JobPage {
  constructor(ctx, uuid) {
    this.ctx = ctx;
    this.uuid = uuid;
    this.stream = null; // the AbortController of the live stream, while one runs.
    this.seen = new Set(); // log lines and errors shown, so a stream's replay adds nothing twice.
    this.parts = {
      head: h("div", { class: "job-head" }),
      progress: h("div", { class: "job-progress" }),
      actions: h("div", { class: "actions" }),
      status: h("p", { class: "action-status", role: "status" }),
      facts: h("div"),
      values: h("pre", { class: "values" }),
      result: h("pre", { class: "values" }),
      log: h("ol", { class: "log" }),
      errors: h("div", { class: "errors" }),
      history: h("ol", { class: "timeline" }),
    };
    const p = this.parts;
    this.root = h("div", { class: "job-page" },
      h("p", {}, h("a", { href: route("jobs") }, "← Jobs")),
      p.head, p.progress, p.actions, p.status,
      h("div", { class: "columns" },
        h("div", {},
          section("Details", p.facts),
          section("Message the job", messageBox(ctx, () => this.uuid, () => this.refreshDetails())),
          section("Checkpoint values", p.values),
          section("Result", p.result)),
        h("div", {}, section("Log", p.log), section("Errors", p.errors), section("History", p.history))));
    ctx.signal.addEventListener("abort", () => this.stream?.abort());
  }

  /** Read the whole job, draw it, and follow its stream unless it is final. The id in the
   * address may be short (the last digits a list shows): the server finds the job. */
  async reload() {
    const job = await get(`api/jobs/${enc(this.uuid)}`, {}, this.ctx.signal);
    if (!this.ctx.active) return;
    this.uuid = job.uuid;
    this.final = FINAL.has(job.state);
    this.draw(job);
    if (!this.final) this.live();
  }

  /** While the job is not final: its checkpoint (values) and details again; the stream
   * carries progress and log lines, not these. */
  async refreshDetails() {
    if (this.final || this.deleted) return;
    const job = await get(`api/jobs/${enc(this.uuid)}`, {}, this.ctx.signal);
    if (!this.ctx.active) return;
    fill(this.parts.facts, facts(job));
    fill(this.parts.values, json(job.values ?? {}));
    fill(this.parts.history, (job.history || []).map(historyEntry));
  }

  draw(job) {
    const p = this.parts;
    fill(p.head, h("h1", {}, job.type, " ", h("span", { class: "mono muted" }, job.uuid)));
    this.drawProgress(job);
    this.drawActions(job.state);
    fill(p.facts, facts(job));
    fill(p.values, json(job.values ?? {}));
    fill(p.result, job.result === undefined || job.result === null ? "—" : json(job.result));
    this.seen.clear();
    fill(p.log);
    fill(p.errors);
    this.addLines(job.events || [], job.errors || []);
    fill(p.history, (job.history || []).map(historyEntry));
  }

  drawProgress(state) {
    const known = !FINAL.has(state.state) && state.eta !== null && state.eta !== undefined;
    const eta = known ? ` · about ${duration(state.eta)} left` : "";
    fill(this.parts.progress,
      h("div", { class: "progress-line" }, stateBadge(state.state), stalledFlag(state),
        progressBar(state.completeness),
        h("span", { class: "percent" }, percent(state.completeness)), h("span", { class: "eta" }, eta)),
      state.progress_message ? h("p", { class: "progress-message" }, state.progress_message) : null);
  }

  drawActions(state) {
    fill(this.parts.actions, Object.keys(ALLOWED).map((action) =>
      h("button", { type: "button", "data-action": action, disabled: !ALLOWED[action].has(state),
        class: ASK_FIRST[action] ? "danger" : null,
        onclick: () => this.ctx.guard(() => this.act(action)) }, action)));
  }

  addLines(events, errors) {
    const { log, errors: box } = this.parts;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 4; // follow the tail.
    const lines = events.filter((e) => this.fresh("e", e));
    const failures = errors.filter((e) => this.fresh("x", e));
    if (lines.length) log.querySelector(".empty")?.remove();
    if (failures.length) box.querySelector(".empty")?.remove();
    for (const event of lines) {
      log.append(h("li", {}, h("span", { class: "muted" }, when(event.timeStamp)), " ", event.msg));
    }
    for (const error of failures) box.append(errorBlock(error, true));
    while (log.childElementCount > MAX_LOG_LINES) log.firstElementChild.remove();
    if (!log.childElementCount) log.append(h("li", { class: "muted empty" }, "no log lines"));
    if (!box.childElementCount) box.append(h("p", { class: "muted empty" }, "no errors"));
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  fresh(kind, entry) {
    const key = `${kind}|${entry.timeStamp}|${entry.msg}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  /** Follow the SSE stream: progress, ETA and new lines as they come; the whole job again
   * once it is final (history and result are not in the stream). */
  live() {
    this.stream?.abort();
    const controller = new AbortController();
    this.stream = controller;
    const path = `api/jobs/${enc(this.uuid)}/stream`;
    this.ctx.guard(() => follow(path, (msg) => this.onMessage(msg), controller.signal));
  }

  onMessage(msg) {
    this.final = Boolean(msg.final);
    this.drawProgress(msg);
    this.drawActions(msg.state);
    this.addLines(msg.events || [], msg.errors || []);
    if (msg.final) this.ctx.guard(() => this.reload());
  }

  async act(action) {
    if (ASK_FIRST[action] && !(await confirmAction(ASK_FIRST[action], action))) return;
    fill(this.parts.status, `${action}…`);
    if (action === "delete") return this.remove();
    try {
      const answer = await post(`api/jobs/${enc(this.uuid)}/${action}`);
      const done = answer.requested
        ? `${action} requested: the worker acts on it at its next heartbeat.`
        : `${action}: now ${answer.state}.`;
      fill(this.parts.status, done);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      fill(this.parts.status, message(`${action} refused: ${error.message}`, "error"));
    }
    await this.reload();
  }

  /** Delete the finished job; the page then says it is gone, with a way back. */
  async remove() {
    try {
      await del(`api/jobs/${enc(this.uuid)}`);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      fill(this.parts.status, message(`delete refused: ${error.message}`, "error"));
      return;
    }
    this.deleted = true;
    this.stream?.abort();
    fill(this.root, message(`Job ${this.uuid} was deleted.`), h("p", {}, h("a", { href: route("jobs") }, "← Jobs")));
  }
}

function facts(job) {
  const rows = [
    ["state", stateBadge(job.state)],
    ["queue", h("a", { href: `${route("jobs")}?queue=${enc(job.queue)}` }, job.queue)],
    ["priority", job.priority],
    ["attempts", `${job.attempts ?? 0} of ${(job.max_retries ?? 0) + 1}`],
    ["last attempt", usage(job.usage)],
    ["tags", (job.tags || []).map(tagLink)],
    ["runs at", job.state === "scheduled" ? `${when(job.ready_at)} (${until(job.ready_at)})` : "—"],
    ["waits for", waitsFor(job)],
    ["batch", batchFact(job)],
    ["blocked by", Object.entries(job.blocked_by || {}).map(([u, s]) => [link(shortId(u), "job", u), ` ${s} `])],
    ["worker", job.worker ?? "—"],
    ["created", when(job.created_at)],
    ["started", when(job.started_at)],
    ["finished", when(job.finished_at)],
    ["result code", job.result_code ?? "—"],
    ["messages waiting", (job.inbox || []).length],
  ];
  const body = rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { "data-fact": k }, v)));
  return h("table", { class: "facts" }, h("tbody", {}, body));
}

/** What a job waits for: its dependencies, or (a batch's callback) how many members. */
function waitsFor(job) {
  const pending = job.depends || [];
  if (!pending.length) return "—";
  if (job.batch_members) return `${pending.length} of its batch's members to end`;
  return pending.map((u) => [link(shortId(u), "job", u), " "]);
}

/** A member links its batch's callback; a callback shows its batch's progress, read from
 * ``/api/batches/{id}`` (the batch's id is the callback's uuid). */
function batchFact(job) {
  if (job.batch_id) return [link(shortId(job.batch_id), "job", job.batch_id), " (the batch's callback)"];
  if (!job.batch_members) return "—";
  const cell = h("span", { class: "batch-progress" }, `${job.batch_members.length} members`);
  get(`api/batches/${enc(job.uuid)}`).then((b) => fill(cell,
    `${b.ended} of ${b.total} members ended · ${b.complete} complete · ${b.failed} failed · ` +
    `${b.running} running · ${percent(b.completeness)} done`)).catch(() => {});
  return cell;
}

function historyEntry(entry) {
  return h("li", {},
    h("span", { class: "muted" }, when(entry.at)), " ",
    h("strong", {}, entry.event), " → ", stateBadge(entry.state),
    entry.worker ? h("span", { class: "muted" }, ` by ${entry.worker}`) : null,
    entry.detail ? h("div", { class: "detail" }, entry.detail) : null);
}
