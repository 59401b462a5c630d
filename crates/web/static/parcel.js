// Parcel tracking: every record about this parcel re-reads the parcel's
// state from the page and adds a line to the live log.
import { follow, refresh, describe } from "/static/live.js";

const live = document.getElementById("live");
const log = document.getElementById("live-log");
const status = document.getElementById("live-status");

function setState(state) {
  status.dataset.state = state;
  status.textContent = state === "live" ? "(live)" : "(reconnecting…)";
}

if (live) {
  const parcel = encodeURIComponent(live.dataset.parcel);
  const from = encodeURIComponent(live.dataset.from);
  follow(`/v1/events/stream?parcel=${parcel}&from=${from}`, async (record) => {
    const line = document.createElement("li");
    line.dataset.type = record.type;
    line.textContent = describe(record);
    log.append(line);
    await refresh(["parcel-state"]);
    live.dataset.updates = String(Number(live.dataset.updates || 0) + 1);
  }, setState);
}
