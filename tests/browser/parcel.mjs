// Parcel tracking in a real browser: the demo parcel's completed route,
// and a new parcel whose page follows its hand-offs live as they are
// proposed, accepted and delivered (driven through the tracechain CLI).
import { api, check, cli, agentKey, scratchFile, screenshot, run, checkNoSideScroll, LIVE_TIMEOUT } from "./lib.mjs";

const DEMO_PARCEL = "urn:epc:id:sscc:4023456.0000000777";
// Unique per run, so the test can be repeated against one network.
const PARCEL = `urn:epc:id:sscc:4023456.${String(Date.now() % 1e10).padStart(10, "0")}`;

function parcelCli(command, organisation, extra = []) {
  return cli(["parcel", command, "--api", api, "--parcel", PARCEL, "--key", agentKey(organisation), ...extra]);
}

async function waitFor(page, condition, what, arg) {
  try {
    await page.waitForFunction(condition, arg, { timeout: LIVE_TIMEOUT });
  } catch (err) {
    throw new Error(`the page did not show ${what} within ${LIVE_TIMEOUT} ms`);
  }
}

await run([
  ["demo parcel: delivered, five hand-offs with both signers, excursion marked", async (page) => {
    await page.goto(`${api}/parcels/${DEMO_PARCEL}`);
    check((await page.locator("#parcel-status").getAttribute("data-status")) === "delivered", "not delivered");
    const steps = page.locator("#custody li.handoff");
    check(await steps.count() === 5, `${await steps.count()} hand-offs shown`);
    const first = await steps.first().textContent();
    check(first.includes("Offered") && first.includes("Accepted"), "a hand-off does not show both signers");
    check(await page.locator('#sensors figure.chart[data-excursions="1"]').count() === 1, "the excursion is not marked");
    await screenshot(page, "parcel-demo");
    // Scanning the parcel's label (its Digital Link) leads to this page.
    await page.goto(`${api}/00/040234560000007771`);
    await Promise.all([page.waitForNavigation(), page.locator("#track-parcel").click()]);
    check(page.url().endsWith("/parcels/00/040234560000007771"), `the parcel's passport links to ${page.url()}`);
    await page.setViewportSize({ width: 360, height: 740 });
    await checkNoSideScroll(page, "the parcel page");
    await screenshot(page, "parcel-demo-phone");
  }],

  ["new parcel: the page follows each hand-off live", async (page) => {
    const info = scratchFile("browser-parcel.json", JSON.stringify({ contents: "sample loaves", recipient: "FreshMart" }));
    parcelCli("register", "golden-crust-bakery", ["--recipient", "freshmart", "--route", "swift-freight,freshmart", "--document", info]);
    await page.goto(`${api}/parcels/${PARCEL}`);
    check((await page.locator("#parcel-status").getAttribute("data-status")) === "registered", "not registered");
    await waitFor(page, () => document.getElementById("live-status")?.dataset.state === "live", "the live stream connected");

    parcelCli("handoff", "golden-crust-bakery", ["--to", "swift-freight"]);
    await waitFor(page, () => document.getElementById("pending") !== null, "the pending hand-off");
    check((await page.locator("#pending").textContent()).includes("Swift Freight"), "the pending hand-off does not name Swift Freight");
    await screenshot(page, "parcel-live-pending");

    parcelCli("accept", "swift-freight");
    await waitFor(page, () => document.querySelectorAll("#custody li.handoff").length === 1 && !document.getElementById("pending"), "the accepted hand-off");
    check((await page.locator("#custodian").textContent()).includes("Swift Freight"), "custodian is not Swift Freight");
    check((await page.locator("#parcel-status").getAttribute("data-status")) === "in_transit", "not in transit");
    await screenshot(page, "parcel-live-accepted");

    parcelCli("handoff", "swift-freight", ["--to", "freshmart"]);
    parcelCli("deliver", "freshmart");
    await waitFor(page, () => document.getElementById("parcel-status")?.dataset.status === "delivered", "the delivery");
    check(await page.locator("#custody li.handoff").count() === 2, "not two hand-offs after delivery");
    const log = await page.locator("#live-log li").allTextContents();
    check(log.some((line) => line.includes("handoff accepted")), `live log: ${log.join(" | ")}`);
    check(log.some((line) => line.includes("parcel delivered")), `live log: ${log.join(" | ")}`);
    await screenshot(page, "parcel-live-delivered");
  }],

  ["unknown parcel gets a page that says so", async (page) => {
    const response = await page.goto(`${api}/parcels/urn:epc:id:sscc:4023456.0000000001`);
    check(response.status() === 404, `status ${response.status()}`);
    check((await page.locator("h1").textContent()).includes("not found"), "no 'not found' heading");
  }],
]);
