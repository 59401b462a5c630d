// The explorer in a real browser: latest blocks update live, search finds
// a block by height and a transaction (and an event) by hash, and the
// block, transaction and organisation pages show what they should.
import { api, check, getJson, screenshot, run, checkNoSideScroll, LIVE_TIMEOUT } from "./lib.mjs";

const DEMO_PARCEL = "urn:epc:id:sscc:4023456.0000000777";

async function search(page, query) {
  await page.goto(`${api}/explorer`);
  await page.getByLabel("Search").fill(query);
  await Promise.all([page.waitForNavigation(), page.getByLabel("Search").press("Enter")]);
}

await run([
  ["home shows blocks, transactions, validators and updates live", async (page) => {
    await page.goto(`${api}/explorer`);
    check(await page.locator("#latest-blocks tbody tr").count() >= 1, "no blocks listed");
    check(await page.locator("#validators tbody tr").count() === 4, "not 4 validators");
    const first = Number(await page.locator("#latest").getAttribute("data-height"));
    await screenshot(page, "explorer-home");
    // Empty blocks come every half second: the list must move on its own.
    await page.waitForFunction(
      (shown) => Number(document.getElementById("latest")?.dataset.height) > shown,
      first,
      { timeout: LIVE_TIMEOUT },
    );
    const top = Number(await page.locator("#latest-blocks tbody tr").first().getAttribute("data-height"));
    check(top > first, `the newest block listed is ${top}, not after ${first}`);
  }],

  ["search finds a block by height", async (page) => {
    await search(page, "3");
    check(page.url().endsWith("/explorer/blocks/3"), `went to ${page.url()}`);
    check((await page.locator("h1").textContent()).trim() === "Block 3", "not block 3");
    check((await page.locator("#certificate-summary").textContent()).includes("of 4 validators"), "no certificate");
    check((await page.getByText("Event log root").count()) === 1, "no roots");
    await screenshot(page, "explorer-block");
  }],

  ["search finds a transaction by hash", async (page) => {
    const parcel = await getJson(`/v1/parcels/${DEMO_PARCEL}`);
    const tx = parcel.custody[0].acceptance;
    await search(page, tx);
    check(page.url().endsWith(`/explorer/transactions/${tx}`), `went to ${page.url()}`);
    check((await page.locator("#tx-id").textContent()).trim() === tx, "wrong transaction shown");
    check((await page.locator("#tx-status").getAttribute("data-status")) === "applied", "not applied");
    check(await page.locator('li.record[data-kind="handoff_accepted"]').count() === 1, "the acceptance record is not shown");
    await screenshot(page, "explorer-transaction");
  }],

  ["search finds an event's transaction by event hash", async (page) => {
    const parcel = await getJson(`/v1/parcels/${DEMO_PARCEL}`);
    const step = parcel.custody[0];
    await search(page, step.eventHash);
    check(page.url().endsWith(`/explorer/transactions/${step.acceptance}`), `went to ${page.url()}`);
  }],

  ["search finds items, parcels and organisations; says when nothing matches", async (page) => {
    await search(page, "urn:epc:id:sgtin:4023456.000022.1002");
    check(page.url().endsWith("/items/01/04023456000222/21/1002"), `item search went to ${page.url()}`);
    await search(page, DEMO_PARCEL);
    check(page.url().includes("/parcels/00/"), `parcel search went to ${page.url()}`);
    await search(page, "Golden Crust Bakery");
    check(page.url().endsWith("/explorer/organisations/golden-crust-bakery"), `organisation search went to ${page.url()}`);
    check(await page.locator("#agents tbody tr").count() >= 1, "no agents listed");
    await screenshot(page, "explorer-organisation");
    const response = await page.goto(`${api}/explorer/search?q=${encodeURIComponent("no such <thing>")}`);
    check(response.status() === 404, `status ${response.status()}`);
    check((await page.locator("#search-query").textContent()) === "no such <thing>", "query not shown as text");
  }],

  ["phone width", async (page) => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${api}/explorer/blocks/3`);
    await checkNoSideScroll(page, "the block page");
    await screenshot(page, "explorer-block-phone");
  }],
]);
