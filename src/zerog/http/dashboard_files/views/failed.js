// Failed jobs: the jobs list fixed on state=failed, each with its last error and traceback.

import { enc, get } from "../api.js";
import { when } from "../format.js";
import { h } from "../dom.js";
import { jobList } from "./joblist.js";

export function failedView(main, ctx) {
  return jobList(main, ctx, {
    view: "failed",
    title: "Failed jobs",
    fixed: { state: "failed" },
    actions: ["retry"],
    extra: lastError,
    pageSize: "20", // each row reads its whole job (for the traceback): smaller pages.
  });
}

/** The job's last error with its traceback (a list leaves errors out: read the job). */
async function lastError(summary, ctx) {
  const job = await get(`api/jobs/${enc(summary.uuid)}`, {}, ctx.signal);
  const error = (job.errors || []).at(-1);
  if (!error) return h("span", { class: "muted" }, "no error recorded");
  return errorBlock(error, false);
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
    traceback,
  );
}
