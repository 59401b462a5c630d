// Shared by the browser test scripts: launching Debian's Chromium through
// playwright-core, a tiny test runner, screenshots, and the tracechain
// CLI for changes the pages must show.
//
// Environment (set by tests/browser.rs):
//   TRACECHAIN_API        base URL of a demo node, e.g. http://127.0.0.1:20104
//   TRACECHAIN_BIN        the tracechain binary
//   TRACECHAIN_DEMO_DIR   the localnet directory (keys under demo/<org>/)
//   BROWSER_ARTIFACTS     where screenshots go
//   CHROMIUM              the browser (default /usr/bin/chromium)
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const api = (process.env.TRACECHAIN_API || "http://127.0.0.1:8100").replace(/\/$/, "");
export const artifacts =
  process.env.BROWSER_ARTIFACTS || fileURLToPath(new URL("../../target/browser-artifacts", import.meta.url));
const demoDir = process.env.TRACECHAIN_DEMO_DIR || ".tracechain/localnet";
const bin = process.env.TRACECHAIN_BIN || "tracechain";

// How long a page gets to show what a finalized block changed.
export const LIVE_TIMEOUT = 30_000;

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

// A page that fails the test on uncaught script errors, with its console
// kept for the failure report.
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...options });
  const page = await context.newPage();
  page.consoleLines = [];
  page.on("console", (m) => page.consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => page.consoleLines.push(`[pageerror] ${e.message}`));
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

export async function getJson(path) {
  const response = await fetch(api + path, { headers: { accept: "application/json" } });
  check(response.ok, `GET ${path}: ${response.status} ${await response.clone().text()}`);
  return response.json();
}

// Runs `tracechain` with `args`; throws with its stderr on failure.
export function cli(args) {
  try {
    return execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    throw new Error(`tracechain ${args.join(" ")} failed: ${err.stderr || err.message}`);
  }
}

export function agentKey(organisation) {
  return join(demoDir, "demo", organisation, "agent.key");
}

export function scratchFile(name, text) {
  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, name);
  writeFileSync(path, text);
  return path;
}

// The page must fit a phone's width: nothing wider than the viewport.
export async function checkNoSideScroll(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `${what} is ${overflow}px wider than a phone screen`);
}

// Runs each test in order, prints one line per test and a summary line,
// and exits non-zero if any failed (with the page's console output and a
// screenshot for the failing one).
export async function run(tests) {
  const browser = await launch();
  let passed = 0;
  let failed = 0;
  for (const [name, test] of tests) {
    const page = await newPage(browser);
    const started = Date.now();
    try {
      await test(page, browser);
      passed += 1;
      console.log(`ok - ${name} (${Date.now() - started} ms)`);
    } catch (err) {
      failed += 1;
      console.log(`not ok - ${name}: ${err.stack || err}`);
      console.log(`  url: ${page.url()}`);
      for (const line of page.consoleLines) console.log(`  console ${line}`);
      try {
        const shot = await screenshot(page, `FAILED-${name.replace(/[^a-z0-9]+/gi, "-")}`);
        console.log(`  screenshot: ${shot}`);
      } catch {}
    } finally {
      await page.context().close();
    }
  }
  await browser.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
