// Explorer home: new blocks and transactions appear as they are
// finalized. Blocks come from polling the status (empty blocks have no
// records); transactions from the record stream.
import { follow, refresh } from "/static/live.js";

const POLL_MS = 2000;
const latest = () => document.getElementById("latest");

async function height() {
  try {
    const response = await fetch("/v1/status", { cache: "no-store" });
    if (!response.ok) return null;
    return (await response.json()).height;
  } catch {
    return null;
  }
}

async function poll() {
  const shown = Number(latest()?.dataset.height || 0);
  const now = await height();
  if (now !== null && now > shown) {
    await refresh(["latest", "chain-status"]);
  }
  setTimeout(poll, POLL_MS);
}

if (latest()) {
  setTimeout(poll, POLL_MS);
  follow("/v1/events/stream", () => refresh(["latest", "chain-status"]), () => {});
}
