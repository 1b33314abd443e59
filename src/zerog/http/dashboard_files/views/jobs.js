// Jobs: every job, filtered by state, queue, type and tag; bulk retry, cancel and delete.

import { jobList } from "./joblist.js";

export function jobsView(main, ctx) {
  return jobList(main, ctx, { view: "jobs", title: "Jobs", actions: ["retry", "cancel", "delete"] });
}
