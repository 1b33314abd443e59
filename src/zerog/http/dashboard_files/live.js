// Live updates: lists and pages re-read the server every few seconds unless the user paused
// them (the header's toggle; kept for this tab). A failed refresh leaves the page as it was
// and says so in a banner; the next refresh that works clears it, so a restarted server is
// picked up again without a reload.

const KEY = "zerog.live";
const listeners = new Set();

export const isLive = () => sessionStorage.getItem(KEY) !== "off";

export function setLive(on) {
  sessionStorage.setItem(KEY, on ? "on" : "off");
  for (const listener of listeners) listener(on);
}

/** Call ``fn(on)`` whenever live updates are turned on or off; returns the unsubscriber. */
export function onLiveChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The banner under the header: a refresh failed (``text``), or all is well (null). */
export function lostContact(text) {
  const banner = document.getElementById("live-status");
  if (!banner) return;
  banner.hidden = !text;
  banner.textContent = text ? `Lost contact with the server (${text}); retrying…` : "";
}
