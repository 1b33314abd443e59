// The JSON API, as the dashboard calls it. Every path is relative to the page, so the
// dashboard works wherever the app is mounted (``/`` or a prefix such as ``/zerog/``).
//
// The token: when the server has one, the user types it into the page once; it is kept in
// sessionStorage (this tab only, gone when the tab closes) and sent as
// ``Authorization: Bearer`` on every call, the live stream included (fetch can set headers,
// EventSource cannot). It is never put in a URL, so it never lands in a log or history.

const TOKEN_KEY = "zerog.token";

/** The server wants a (valid) token. */
export class AuthNeeded extends Error {}

/** The server answered with an error: ``status`` and its JSON ``body``. */
export class ApiFailure extends Error {
  constructor(status, body) {
    super(body && typeof body.error === "string" ? body.error : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (value) => sessionStorage.setItem(TOKEN_KEY, value);
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);

function headers(accept = "application/json") {
  const sent = { Accept: accept };
  const value = token();
  if (value) sent.Authorization = `Bearer ${value}`;
  return sent;
}

/** ``path?query``; empty and absent values are left out. */
export function url(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function call(method, path, query, signal, payload = undefined) {
  const sent = headers();
  if (payload !== undefined) sent["Content-Type"] = "application/json";
  const response = await fetch(url(path, query), {
    method,
    headers: sent,
    body: payload === undefined ? undefined : JSON.stringify(payload),
    signal,
    cache: "no-store",
    credentials: "same-origin",
  });
  if (response.status === 401) throw new AuthNeeded();
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiFailure(response.status, body);
  return body;
}

/** A read; no side effects on the server. */
export const get = (path, query = {}, signal = undefined) => call("GET", path, query, signal);

/** An action (a POST with no body). The browser marks it same-origin, so it passes the
 * server's cross-site check as any request from this page does. */
export const post = (path, query = {}) => call("POST", path, query);

/** A POST with a JSON body (a message to a job). */
export const postJson = (path, body) => call("POST", path, {}, undefined, body);

/** A delete (of a finished job, of a recurring job). */
export const del = (path) => call("DELETE", path, {});

export const enc = encodeURIComponent;

/**
 * Follow a job's Server-Sent Events through fetch (so the token goes in a header), calling
 * ``onMessage`` with each JSON message. Like EventSource, it reconnects after the server's
 * ``retry:`` delay when the stream ends early; it returns after a final message, or when
 * ``signal`` aborts.
 */
export async function follow(path, onMessage, signal) {
  let retryMs = 2000;
  while (!signal.aborted) {
    try {
      const response = await fetch(path, {
        headers: headers("text/event-stream"),
        signal,
        cache: "no-store",
      });
      if (response.status === 401) throw new AuthNeeded();
      if (!response.ok) throw new ApiFailure(response.status, null);
      for await (const event of sseEvents(response.body)) {
        if (event.retry) retryMs = event.retry;
        if (event.data === undefined) continue;
        const msg = JSON.parse(event.data);
        onMessage(msg);
        if (msg.final) return;
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof AuthNeeded || error instanceof ApiFailure) throw error;
      // A dropped connection: try again after the delay, as EventSource would.
    }
    await sleep(retryMs, signal);
  }
}

/** Events of an SSE body: ``{data, retry}`` per blank-line-terminated block. */
async function* sseEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = {};
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let newline;
    while ((newline = buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
      if (line === "") {
        yield event;
        event = {};
      } else {
        readField(event, line);
      }
    }
  }
}

function readField(event, line) {
  if (line.startsWith(":")) return; // a comment (keep-alive).
  const colon = line.indexOf(":");
  const field = colon < 0 ? line : line.slice(0, colon);
  let value = colon < 0 ? "" : line.slice(colon + 1);
  if (value.startsWith(" ")) value = value.slice(1);
  if (field === "data") event.data = event.data === undefined ? value : `${event.data}\n${value}`;
  if (field === "retry" && /^\d+$/.test(value)) event.retry = Number(value);
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
