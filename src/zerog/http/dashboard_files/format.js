// How times, durations and shares are written on the page.

const pad = (n) => String(n).padStart(2, "0");

/** Epoch seconds as local "YYYY-MM-DD HH:MM:SS"; an em dash when absent. */
export function when(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const d = new Date(seconds * 1000);
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${day} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A duration in seconds, to the unit that reads best. Rounded once, to the unit shown, so
 * that 59.6 s reads "1 min 0 s", never "60 s" or "1 min 60 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return "—";
  const value = Math.max(0, Number(seconds));
  const ms = Math.round(value * 1000);
  if (ms < 1000) return `${ms} ms`;
  if (value < 9.95) return `${value.toFixed(1)} s`;
  const total = Math.round(value);
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return total % 60 ? `${minutes} min ${total % 60} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** How long ago a time was, in whole units ("just now" under a second, never "1000 ms"). */
export function ago(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const past = Date.now() / 1000 - seconds;
  if (past < 1) return "just now";
  return past < 60 ? `${Math.floor(past)} s ago` : `${duration(past)} ago`;
}

/** How long until a time ("in 5 min"), or "due" once it passed. */
export function until(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const ahead = seconds - Date.now() / 1000;
  if (ahead < 1) return "due now";
  return ahead < 60 ? `in ${Math.ceil(ahead)} s` : `in ${duration(ahead)}`;
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

/** An attempt's figures (a record's or an error's `usage`), as `zerog job` writes them:
 * wall time, CPU of the job's thread or process, peak resident memory and whose it is. */
export function usage(u) {
  if (!u) return "—";
  const mib = (b) => `${Math.round((Number(b) || 0) / 1048576)} MiB`;
  const own = u.scope === "process";
  const threads = Number(u.threads) || 1;
  const memory = own ? "its own process"
    : threads === 1 ? "the worker process, one job at a time"
      : `the worker process, shared by ${threads} job threads`;
  const s = (x) => (Number(x) || 0).toFixed(2);
  return `wall ${s(u.wall_seconds)} s · CPU ${s(u.cpu_user_seconds)} s user + `
    + `${s(u.cpu_system_seconds)} s system (${own ? "its process" : "its thread"}) · `
    + `peak RSS ${mib(u.peak_rss_bytes)} (${memory}, ${mib(u.start_rss_bytes)} at start)`;
}
