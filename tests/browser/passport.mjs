// The product passport in a real browser: a genuine loaf is shown as
// genuine and its proof verifies in the browser; a loaf made from the
// recalled wheat lot shows the recall; a proof altered in transit makes
// the badge say verification failed.
import { api, check, screenshot, run, checkNoSideScroll, LIVE_TIMEOUT } from "./lib.mjs";

const GENUINE = "/01/04023456000222/21/1002";
const RECALLED = "/items/01/04023456000222/21/2004";
const SUSPICIOUS = "/items/urn:epc:id:sgtin:4023456.000022.1003";

// The badge once the in-browser check has finished.
async function settledBadge(page) {
  const badge = page.locator("#proof-badge");
  await page.waitForFunction(
    () => document.getElementById("proof-badge")?.dataset.state !== "pending",
    null,
    { timeout: LIVE_TIMEOUT },
  );
  return { state: await badge.getAttribute("data-state"), text: (await badge.textContent()).trim() };
}

// Flips one hex digit in the middle of the longest hex string in `value`
// (a header, path, root or signature: every byte of a bundle is checked).
function tamper(value) {
  let longest = null;
  const visit = (node, holder, key) => {
    if (typeof node === "string") {
      if (/^[0-9a-f]{16,}$/i.test(node) && (!longest || node.length > longest.node.length)) {
        longest = { node, holder, key };
      }
    } else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) visit(v, node, k);
    }
  };
  visit(value, null, null);
  check(longest, "the proof bundle has no hex field to tamper with");
  const at = Math.floor(longest.node.length / 2);
  const digit = longest.node[at].toLowerCase();
  const flipped = digit === "0" ? "1" : "0";
  longest.holder[longest.key] = longest.node.slice(0, at) + flipped + longest.node.slice(at + 1);
  return longest.key;
}

await run([
  ["genuine item: verdict, journey, chart, QR, verified in the browser", async (page) => {
    await page.goto(api + GENUINE);
    const verdict = page.locator("#verdict");
    check((await verdict.getAttribute("data-verdict")) === "genuine", "verdict is not genuine");
    check((await verdict.textContent()).includes("genuine"), "the word 'genuine' is not on the page");
    check(await page.locator("ol.timeline li").count() >= 3, "the journey has fewer than 3 steps");
    check(await page.locator("#trace details").count() >= 1, "no expandable trace");
    const chart = page.locator('#sensors figure.chart[data-kind="Temperature"]');
    check(await chart.count() === 1, "no temperature chart for the pallet's readings");
    const qrLoaded = await page.locator("figure.qr img").evaluate((img) => img.complete && img.naturalWidth > 0);
    check(qrLoaded, "the QR code image did not load");
    const badge = await settledBadge(page);
    await screenshot(page, "passport-genuine");
    check(badge.state === "verified", `badge is ${badge.state}: ${badge.text}`);
    check(/^Verified by \d+ of \d+ validators at block \d+$/.test(badge.text), `badge says: ${badge.text}`);
  }],

  ["recalled item shows the recall", async (page) => {
    await page.goto(api + RECALLED);
    check((await page.locator("#verdict").getAttribute("data-verdict")) === "recalled", "verdict is not recalled");
    const recall = page.locator("#recall");
    check(await recall.isVisible(), "no recall notice");
    check((await recall.textContent()).includes("WHEAT-B"), "the recall does not name the wheat lot");
    await settledBadge(page);
    await screenshot(page, "passport-recalled");
  }],

  ["suspicious (cloned) code says why", async (page) => {
    await page.goto(api + SUSPICIOUS);
    check((await page.locator("#verdict").getAttribute("data-verdict")) === "suspicious", "verdict is not suspicious");
    check((await page.locator("#verdict").textContent()).includes("cloned"), "no clone sighting in the reasons");
  }],

  ["a tampered proof makes the badge fail", async (page) => {
    let field = null;
    await page.route("**/v1/verify/**", async (route) => {
      const response = await route.fetch();
      const answer = await response.json();
      if (answer && typeof answer.proof === "object" && answer.proof !== null) {
        field = tamper(answer.proof);
      }
      await route.fulfill({ response, json: answer });
    });
    await page.goto(api + GENUINE);
    const badge = await settledBadge(page);
    await screenshot(page, "passport-tampered");
    check(field !== null, "the node served no proof bundle to tamper with");
    check(badge.state === "failed", `badge is ${badge.state} after tampering with ${field}: ${badge.text}`);
    check(badge.text.startsWith("Verification failed: "), `badge says: ${badge.text}`);
  }],

  ["unknown code is said to be unknown", async (page) => {
    const response = await page.goto(api + "/01/04023456000222/21/999999");
    check(response.status() === 200, `status ${response.status()}`);
    check((await page.locator("#verdict").getAttribute("data-verdict")) === "unknown", "verdict is not unknown");
  }],

  ["QR endpoint serves SVG and PNG of the Digital Link", async () => {
    const svg = await fetch(api + "/qr" + GENUINE + "?format=svg");
    check(svg.ok && svg.headers.get("content-type") === "image/svg+xml", `SVG: ${svg.status}`);
    check((await svg.text()).includes("<svg"), "not an SVG");
    const png = await fetch(api + "/qr" + GENUINE + "?format=png");
    check(png.ok && png.headers.get("content-type") === "image/png", `PNG: ${png.status}`);
    const bytes = new Uint8Array(await png.arrayBuffer());
    check(bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47, "not a PNG");
  }],

  ["phone width and keyboard", async (page) => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(api + GENUINE);
    await checkNoSideScroll(page, "the passport");
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.textContent);
    check(focused === "Skip to content", `first Tab focuses '${focused}'`);
    await page.keyboard.press("Enter");
    check(await page.evaluate(() => document.activeElement?.id) === "main", "the skip link does not reach the content");
    await settledBadge(page);
    await screenshot(page, "passport-phone");
  }],
]);
