// The dashboard's entry point: hash routes (#/jobs, #/job/<uuid>, ...) to views, the token
// form, and the errors every view may meet.

import { AuthNeeded, forgetToken, setToken, token } from "./api.js";
import { fill, h, message } from "./dom.js";
import { failedView } from "./views/failed.js";
import { jobView } from "./views/job.js";
import { jobsView } from "./views/jobs.js";
import { overviewView } from "./views/overview.js";
import { queuesView } from "./views/queues.js";
import { workersView } from "./views/workers.js";

const VIEWS = {
  "": overviewView,
  overview: overviewView,
  queues: queuesView,
  jobs: jobsView,
  job: jobView,
  failed: failedView,
  workers: workersView,
};

const main = document.getElementById("main");
let current = null; // the ViewContext of the view on screen.

/** What a view is given: where to draw, its route, and timers that stop when it is left. */
class ViewContext {
  constructor(name, args, params) {
    this.name = name;
    this.args = args;
    this.params = params;
    this.controller = new AbortController();
    this.signal = this.controller.signal;
  }

  /** Run ``fn`` every ``ms`` while the view is on screen (errors handled like the first);
   * skipped while the tab is hidden or the previous run is still under way, so a slow
   * store (counts scan every job) is never asked twice at once by one page. */
  every(ms, fn) {
    let busy = false;
    const tick = async () => {
      if (busy || document.hidden) return;
      busy = true;
      await guard(this, fn);
      busy = false;
    };
    const timer = setInterval(tick, ms);
    this.signal.addEventListener("abort", () => clearInterval(timer));
  }

  /** Run ``fn`` with the view's error handling (for clicks and streams). */
  guard(fn) {
    return guard(this, fn);
  }

  get active() {
    return !this.signal.aborted;
  }
}

async function guard(ctx, fn) {
  try {
    await fn();
  } catch (error) {
    if (!ctx.active) return;
    if (error instanceof AuthNeeded) {
      askForToken(Boolean(token()));
    } else {
      console.error(error);
      fill(main, message(`Could not load this view: ${error.message}`, "error"));
    }
  }
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?", 2);
  const [name = "", ...args] = path.split("/").map((part) => decodeURIComponent(part));
  return { name, args, params: new URLSearchParams(query) };
}

function show() {
  current?.controller.abort();
  const { name, args, params } = parseHash();
  const view = VIEWS[name];
  for (const a of document.querySelectorAll("#nav a")) {
    const on = a.dataset.view === (name === "job" ? "jobs" : name || "overview");
    a.classList.toggle("active", on);
  }
  document.getElementById("forget-token").hidden = !token();
  const ctx = new ViewContext(name, args, params);
  current = ctx;
  if (!view) {
    fill(main, message("There is no such page.", "error"));
    return;
  }
  fill(main, h("p", { class: "muted" }, "Loading…"));
  guard(ctx, () => view(main, ctx));
}

/** The token form: shown when the server answers 401. */
function askForToken(refused) {
  current?.controller.abort();
  forgetToken();
  document.getElementById("forget-token").hidden = true;
  const input = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "current-password",
    required: true,
  });
  const form = h(
    "form",
    { class: "card token-form", onsubmit: (event) => submitToken(event, input) },
    h("h1", {}, "Access token"),
    h("p", {}, "This server needs its access token (zerog serve --token). It is kept in this tab only."),
    refused ? message("That token was refused.", "error") : null,
    h("label", { for: "token" }, "Token "),
    input,
    h("button", { type: "submit" }, "Open the dashboard"),
  );
  fill(main, form);
  input.focus();
}

function submitToken(event, input) {
  event.preventDefault();
  if (!input.value) return;
  setToken(input.value);
  show();
}

document.getElementById("forget-token").addEventListener("click", () => {
  forgetToken();
  show();
});
window.addEventListener("hashchange", show);
show();
