// The dashboard's entry point: hash routes (#/jobs, #/job/<uuid>, ...) to views, the token
// form, and the errors every view may meet.

import { AuthNeeded, forgetToken, setToken, token } from "./api.js";
import { fill, h, message } from "./dom.js";
import { isLive, lostContact, onLiveChange, setLive } from "./live.js";
import { auditView } from "./views/audit.js";
import { failedView } from "./views/failed.js";
import { jobView } from "./views/job.js";
import { jobsView } from "./views/jobs.js";
import { limitsView } from "./views/limits.js";
import { overviewView } from "./views/overview.js";
import { queuesView } from "./views/queues.js";
import { recurringView } from "./views/recurring.js";
import { workersView } from "./views/workers.js";

const RETRY_VIEW_MS = 5000; // a view that could not load is tried again this often.

const VIEWS = {
  "": overviewView,
  overview: overviewView,
  queues: queuesView,
  jobs: jobsView,
  job: jobView,
  failed: failedView,
  workers: workersView,
  recurring: recurringView,
  limits: limitsView,
  audit: auditView,
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

  /** Run ``fn`` every ``ms`` while the view is on screen and live updates are on; skipped
   * while the tab is hidden or the previous run is still under way, so a slow store is
   * never asked twice at once by one page. A failed run leaves the page as it was and
   * raises the "lost contact" banner; the next one that works lowers it. */
  every(ms, fn) {
    let busy = false;
    const tick = async () => {
      if (busy || document.hidden || !isLive() || !this.active) return;
      busy = true;
      try {
        await fn();
        lostContact(null);
      } catch (error) {
        if (error instanceof AuthNeeded) askForToken(Boolean(token()));
        else if (this.active && error.name !== "AbortError") lostContact(error.message);
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(tick, ms);
    const unsubscribe = onLiveChange((on) => on && tick());
    this.signal.addEventListener("abort", () => {
      clearInterval(timer);
      unsubscribe();
    });
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
      fill(main, message(`Could not load this view: ${error.message}. Trying again…`, "error"));
      retryLater(ctx);
    }
  }
}

/** Load the view again after a while (the server may be restarting), if it is still the one
 * on screen. */
function retryLater(ctx) {
  setTimeout(() => {
    if (ctx === current && ctx.active) show();
  }, RETRY_VIEW_MS);
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
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
    a.classList.toggle("active", on);
  }
  document.getElementById("forget-token").hidden = !token();
  const ctx = new ViewContext(name, args, params);
  current = ctx;
  lostContact(null);
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
const liveToggle = document.getElementById("live-toggle");
function drawLiveToggle(on) {
  liveToggle.setAttribute("aria-pressed", String(on));
  liveToggle.textContent = on ? "Live" : "Paused";
  liveToggle.title = on ? "Pages refresh every few seconds: click to pause" : "Click to refresh pages live again";
  if (!on) lostContact(null);
}
liveToggle.addEventListener("click", () => setLive(!isLive()));
onLiveChange(drawLiveToggle);
drawLiveToggle(isLive());
window.addEventListener("hashchange", show);
show();
