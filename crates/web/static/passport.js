// The passport's proof badge: the browser fetches the proof bundle and the
// chain's genesis (the validator keys) and checks the bundle itself with
// the WebAssembly verifier — the server's verdict is not the proof.
import { verifyBundle } from "/static/verifier.js";

const badge = document.getElementById("proof-badge");

function show(state, words) {
  badge.dataset.state = state;
  badge.textContent = words;
}

async function json(url) {
  const response = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

async function check() {
  let answer, genesis;
  try {
    [answer, genesis] = await Promise.all([json(badge.dataset.verify), json("/v1/genesis")]);
  } catch (err) {
    show("unverified", `Not verified: could not fetch the proof (${err.message})`);
    return;
  }
  if (!answer || typeof answer.proof !== "object" || answer.proof === null) {
    show("unverified", "Not verified: this node served no proof for this item");
    return;
  }
  let result;
  try {
    result = await verifyBundle(answer.proof, genesis);
  } catch (err) {
    result = { ok: false, error: String(err && err.message ? err.message : err) };
  }
  if (result && result.ok) {
    show("verified", `Verified by ${result.signers} of ${result.validators} validators at block ${result.height}`);
    badge.dataset.height = String(result.height);
  } else {
    show("failed", `Verification failed: ${result && result.error ? result.error : "unknown error"}`);
  }
}

if (badge) check();
