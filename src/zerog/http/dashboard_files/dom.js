// Building the page from data without ever parsing data as HTML: every text goes through
// text nodes, every attribute through setAttribute. (The page's CSP also requires Trusted
// Types, so assigning an HTML string to an element would throw rather than render.)

const SVG_NS = "http://www.w3.org/2000/svg";

/** An HTML element: h("a", {href: "#/jobs", class: "x", onclick: fn}, "text", child, ...). */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  setProps(element, props);
  append(element, children);
  return element;
}

/** An SVG element, the same way. */
export function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  setProps(element, attrs);
  append(element, children);
  return element;
}

function setProps(element, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) {
      if (typeof value !== "function") throw new TypeError(`${key} must be a function`);
      element.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      element.setAttribute("class", value);
    } else {
      element.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** Append children: nodes as they are, anything else as text; arrays are flattened. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace everything inside ``parent``. */
export function fill(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

export function stateBadge(state) {
  return h("span", { class: `badge state-${String(state).replace(/[^a-z]/g, "")}` }, state);
}

/** "stalled" beside a running job with no progress past its threshold (zerog.stalls);
 * nothing otherwise. */
export function stalledFlag(job) {
  if (!job.stalled) return null;
  const quiet = job.quiet_seconds == null ? "" : ` for ${Math.round(job.quiet_seconds)} s`;
  return h("span", { class: "stalled-flag", title: `no progress${quiet}` },
    "stalled");
}

/** A link inside the dashboard; every part of the route is URI-encoded. */
export function link(text, ...parts) {
  return h("a", { href: route(...parts) }, text);
}

export function route(...parts) {
  return "#/" + parts.map((p) => encodeURIComponent(p)).join("/");
}

export function progressBar(completeness) {
  const fraction = Math.max(0, Math.min(1, Number(completeness) || 0));
  const fillBar = h("span", { class: "fill" });
  fillBar.style.width = `${(fraction * 100).toFixed(1)}%`; // CSSOM: allowed by style-src 'self'.
  return h(
    "span",
    {
      class: "bar",
      role: "progressbar",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": Math.round(fraction * 100),
    },
    fillBar,
  );
}

export function table(headers, rows, className = "grid") {
  return h(
    "table",
    { class: className },
    h("thead", {}, h("tr", {}, headers.map((title) => h("th", {}, title)))),
    h("tbody", {}, rows),
  );
}

export function message(text, kind = "info") {
  return h("p", { class: `note ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** A button (type=button, so it never submits a form); ``attrs`` may add data-* and such. */
export function button(text, onclick, attrs = {}) {
  return h("button", { type: "button", onclick, ...attrs }, text);
}

export function checkbox(attrs) {
  return h("input", { type: "checkbox", ...attrs });
}

/**
 * Ask before a destructive action, in the page (a <dialog>, not window.confirm, so it is
 * styled, keyboard-friendly and testable): resolves true when ``label`` is pressed, false on
 * "Keep" or Escape. ``text`` is shown as text like everything else.
 */
export function confirmAction(text, label) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", "aria-label": label });
    const close = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(false);
    });
    append(dialog, [
      h("p", {}, text),
      h("div", { class: "actions" },
        button(label, () => close(true), { class: "danger", "data-confirm": "yes" }),
        button("Keep", () => close(false), { "data-confirm": "no" })),
    ]);
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("[data-confirm='no']").focus(); // Enter on its own does no harm.
  });
}

/** A tag that filters the jobs list on itself when clicked. */
export function tagLink(tag) {
  return h("a", { class: "tag", href: `${route("jobs")}?tag=${encodeURIComponent(tag)}`, title: "jobs with this tag" }, tag);
}
