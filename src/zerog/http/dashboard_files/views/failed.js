// Failed jobs: grouped by error (the server groups them: type, code, message with its
// varying parts as #), each group retried or discarded whole by one request; below, the
// failed jobs themselves with their last error, all refreshed live.

import { ApiFailure, enc, get, post } from "../api.js";
import { usage, when } from "../format.js";
import { button, confirmAction, fill, h, link, message, section } from "../dom.js";
import { jobList } from "./joblist.js";

export async function failedView(main, ctx) {
  const groups = new FailedGroups(ctx);
  const list = await jobList(main, ctx, {
    view: "failed",
    title: "Failed jobs",
    fixed: { state: "failed" },
    actions: ["retry", "delete"],
    before: section("Grouped by error", groups.status, groups.box),
    onRefresh: () => groups.loadIfOld(),
    afterBulk: () => groups.load(),
  });
  groups.afterAction = () => list.reload();
  await groups.load();
}

const GROUPS_MS = 15000; // grouping reads every failed job: less often than the list.

class FailedGroups {
  constructor(ctx) {
    this.ctx = ctx;
    this.loadedAt = 0;
    this.box = h("div", { class: "failed-groups" }, h("p", { class: "muted" }, "Loading…"));
    this.status = h("p", { class: "action-status", role: "status" });
  }

  /** At a live refresh: read the groups again if the last reading is old. */
  loadIfOld() {
    return Date.now() - this.loadedAt >= GROUPS_MS ? this.load() : null;
  }

  async load() {
    const answer = await get("api/failed", {}, this.ctx.signal);
    if (!this.ctx.active) return;
    this.loadedAt = Date.now();
    const partial = answer.complete ? null : message(`Only the newest ${answer.total} failed jobs were grouped.`);
    fill(this.box, answer.groups.length ? [partial, answer.groups.map((g) => this.group(g))] : message("No job failed."));
  }

  group(g) {
    const queues = Object.entries(g.queues).map(([q, n]) => `${q} (${n})`).join(", ");
    const traceback = g.example_traceback
      ? h("details", {}, h("summary", {}, "example traceback"), h("pre", { class: "traceback" }, g.example_traceback))
      : null;
    return h("div", { class: "failed-group", "data-group": g.id },
      h("div", { class: "group-head" },
        h("span", { class: "group-count" }, String(g.count)),
        h("span", { class: "job-type" }, g.type),
        g.code == null ? null : h("span", { class: "muted" }, `code ${g.code}`),
        h("span", { class: "group-message" }, g.message || "(no message)")),
      h("div", { class: "muted group-facts" },
        `queues: ${queues} · first ${when(g.first_failed_at)} · last ${when(g.last_failed_at)} · e.g. `,
        g.examples.slice(0, 3).map((uuid) => [link(uuid.slice(-10), "job", uuid), " "])),
      traceback,
      h("div", { class: "actions" },
        button(`Retry all ${g.count}`, () => this.ctx.guard(() => this.act(g, "retry")), { "data-group-action": "retry" }),
        button(`Discard all ${g.count}`, () => this.ctx.guard(() => this.act(g, "delete")), { "data-group-action": "delete", class: "danger" })));
  }

  /** One request: the server finds the group's jobs failed now and acts on each. */
  async act(g, action) {
    const verb = action === "retry" ? "Retry" : "Discard";
    const question = `${verb} every job failed with "${g.message}" (${g.count} now)?` +
      (action === "delete" ? " They are deleted for good." : "");
    if (!(await confirmAction(question, `${verb} ${g.count}`))) return;
    try {
      const answer = await post(`api/failed/${enc(g.id)}/${action}`);
      const refused = answer.refused ? `, ${answer.refused} refused (they changed meanwhile)` : "";
      fill(this.status, `${verb}: ${answer.done} of ${answer.matched} done${refused}.`);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      fill(this.status, message(`${verb} refused: ${error.message}`, "error"));
    }
    await this.load();
    await this.afterAction?.(); // the list under the groups changed too.
  }
}

/** An error as the page shows it everywhere: time, code, message, traceback. */
export function errorBlock(error, open) {
  const code = error.errorCode == null ? "" : `code ${error.errorCode} · `;
  const traceback = error.traceback
    ? h("details", { open }, h("summary", {}, "traceback"), h("pre", { class: "traceback" }, error.traceback))
    : null;
  return h(
    "div",
    { class: "error-entry" },
    h("div", { class: "error-head" }, h("span", { class: "muted" }, `${code}${when(error.timeStamp)}`)),
    h("div", { class: "error-msg" }, error.msg),
    error.usage ? h("div", { class: "muted error-usage" }, usage(error.usage)) : null,
    traceback,
  );
}
