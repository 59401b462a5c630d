// Live pages: follow the node's record stream (SSE, resumable) and re-read
// parts of the server-rendered page when something happens, so the page
// is always rendered by the same code whether loaded or updated.

// Every record type the stream sends (SSE named events; `message` only
// fires for unnamed ones).
export const RECORD_TYPES = [
  "event", "error_declaration", "recall", "parcel_registered",
  "handoff_proposed", "handoff_accepted", "handoff_rejected",
  "handoff_cancelled", "parcel_delivered", "parcel_exception",
  "document_anchored", "account_registered", "agent_registered",
  "role_changed", "membership_proposed", "membership_approved", "note",
];

// Opens `url` as an EventSource; calls onRecord(record) for every record
// and onState("live" | "reconnecting") as the connection changes. The
// browser resumes after the last record id by itself (Last-Event-ID).
export function follow(url, onRecord, onState) {
  const source = new EventSource(url);
  for (const type of RECORD_TYPES) {
    source.addEventListener(type, (message) => {
      let record;
      try {
        record = JSON.parse(message.data);
      } catch {
        return;
      }
      onRecord(record);
    });
  }
  source.addEventListener("open", () => onState("live"));
  source.addEventListener("error", () => onState("reconnecting"));
  return source;
}

// One refresh at a time; a request during one runs once more after it.
let running = null;
let again = false;

// Replaces the elements with these ids by their counterparts in a fresh
// copy of this page. Resolves to true when the page was re-read.
export async function refresh(ids) {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    let ok = false;
    do {
      again = false;
      ok = await reread(ids);
    } while (again);
    return ok;
  })();
  try {
    return await running;
  } finally {
    running = null;
  }
}

async function reread(ids) {
  let response;
  try {
    response = await fetch(location.pathname + location.search, {
      headers: { accept: "text/html" },
      cache: "no-store",
    });
  } catch {
    return false;
  }
  if (!response.ok) return false;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const id of ids) {
    const next = fresh.getElementById(id);
    const current = document.getElementById(id);
    if (next && current) current.replaceWith(document.importNode(next, true));
  }
  document.dispatchEvent(new CustomEvent("tracechain:refreshed", { detail: { ids } }));
  return true;
}

// Words for a record, for a screen-reader-friendly log line.
export function describe(record) {
  const words = record.type.replaceAll("_", " ");
  const data = record.data || {};
  const parties = data.from && data.to ? ` (${data.from} → ${data.to})` : data.to ? ` (to ${data.to})` : "";
  return `Block ${record.height}: ${words}${parties}`;
}
