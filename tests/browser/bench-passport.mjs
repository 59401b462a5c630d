// Passport page time to interactive on a running network (not a test):
// for each run, a fresh browser context loads the passport and waits until
// the proof badge has settled (the in-browser verification is the last
// thing the page does). Prints the median and worst of each phase.
//
//   TRACECHAIN_API=http://127.0.0.1:8100 node tests/browser/bench-passport.mjs [runs] [path]
import { api, launch, check } from "./lib.mjs";

const runs = Number(process.argv[2] || 20);
const path = process.argv[3] || "/01/04023456000222/21/1002";

const browser = await launch();
const samples = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(api + path);
  const loaded = Date.now() - started;
  await page.waitForFunction(() => document.getElementById("proof-badge")?.dataset.state !== "pending", null, { timeout: 60_000 });
  const verified = Date.now() - started;
  const state = await page.locator("#proof-badge").getAttribute("data-state");
  check(state === "verified", `run ${i}: badge ${state}`);
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { html: nav.responseEnd - nav.startTime, dom: nav.domContentLoadedEventEnd - nav.startTime };
  });
  samples.push({ html: timing.html, dom: timing.dom, loaded, verified });
  await context.close();
}
await browser.close();

const stat = (key) => {
  const sorted = samples.map((s) => s[key]).sort((a, b) => a - b);
  return `median ${Math.round(sorted[Math.floor(sorted.length / 2)])} ms, worst ${Math.round(sorted[sorted.length - 1])} ms`;
};
console.log(`passport ${path}, ${runs} cold loads (new browser context each)`);
console.log(`  HTML received:        ${stat("html")}`);
console.log(`  DOM content loaded:   ${stat("dom")}`);
console.log(`  load event:           ${stat("loaded")}`);
console.log(`  verified (badge set): ${stat("verified")}`);
