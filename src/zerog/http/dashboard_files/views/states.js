// The job states, in the API's order, and which operator action each state allows
// (the server's table; a button for a forbidden action would only get a 409).

export const STATES = [
  "waiting",
  "scheduled",
  "depends",
  "running",
  "paused",
  "complete",
  "failed",
  "cancelled",
  "expired",
];

export const FINAL = new Set(["complete", "failed", "cancelled", "expired"]);

export const ALLOWED = {
  cancel: new Set(["waiting", "scheduled", "depends", "running", "paused"]),
  pause: new Set(["waiting", "scheduled", "running"]),
  resume: new Set(["paused"]),
  retry: new Set(["failed", "cancelled", "expired"]),
  delete: FINAL,
};
