// The in-browser verifier (crates/web/static/verifier.js + verifier.wasm)
// run in Node on saved bundles: the first verification (which loads the
// module) and then p50 / p99 of 100 more. Not a test.
//
//   node tests/browser/bench-verifier.mjs GENESIS.json BUNDLE.json...
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const dir = new URL("../../crates/web/static/", import.meta.url).pathname;
const realFetch = globalThis.fetch;
globalThis.fetch = async (url) => {
  const u = new URL(url);
  if (u.protocol === "file:") return new Response(readFileSync(u), { headers: { "content-type": "application/wasm" } });
  return realFetch(url);
};
const t0 = performance.now();
const { verifyBundle } = await import(pathToFileURL(dir + "verifier.js").href);
const genesis = JSON.parse(readFileSync(process.argv[2], "utf8"));
for (const f of process.argv.slice(3)) {
  let b = JSON.parse(readFileSync(f, "utf8"));
  if (b.proof) b = b.proof;
  const first = performance.now();
  const r0 = await verifyBundle(b, genesis);
  const firstMs = performance.now() - first;
  if (!r0.ok) throw new Error(f + ": " + r0.error);
  const times = [];
  for (let i = 0; i < 100; i++) { const s = performance.now(); await verifyBundle(b, genesis); times.push(performance.now() - s); }
  times.sort((a, b) => a - b);
  console.log(`${f}: first ${firstMs.toFixed(1)} ms (incl. wasm load), then p50 ${times[50].toFixed(2)} ms p99 ${times[98].toFixed(2)} ms`);
}
