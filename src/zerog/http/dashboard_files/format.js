// How times, durations and shares are written on the page.

const pad = (n) => String(n).padStart(2, "0");

/** Epoch seconds as local "YYYY-MM-DD HH:MM:SS"; an em dash when absent. */
export function when(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const d = new Date(seconds * 1000);
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${day} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A duration in seconds, to the unit that reads best. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function ago(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return `${duration(Math.max(0, Date.now() / 1000 - seconds))} ago`;
}

export function percent(fraction) {
  return `${Math.round(Math.max(0, Math.min(1, Number(fraction) || 0)) * 100)}%`;
}

/** The end of a job id: ids are UUIDv7, whose first digits are a timestamp shared by
 * every job made in the same moment, so the end is what tells jobs apart. */
export function shortId(uuid) {
  const text = String(uuid);
  return text.length > 12 ? `…${text.slice(-10)}` : text;
}

export function json(value) {
  return JSON.stringify(value, null, 2);
}
