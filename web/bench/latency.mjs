// Latency of the notification centre in a real browser: 100 sends through
// the API (channel message), each timed from the API call to the item's node
// in the element's list. Both times are Date.now() on this one machine (the
// page records when its MutationObserver sees the node). herald-local's
// outbox drain (woken by the queued message) is part of the latency, as it
// would be in use. Then three tabs of one browser for a while: how many bus
// polls.
//
// Same environment as the tests (HERALD_URL, HERALD_TENANT,
// HERALD_JWT_SECRET, CHROMIUM). Prints one JSON object.
//   node bench/latency.mjs [--sends 100] [--window-secs 20]
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as S from '../tests/support.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const SENDS = arg('--sends', 100);
const WINDOW_SECS = arg('--window-secs', 20);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const bundle = await readFile(fileURLToPath(new URL('../dist/herald-notifications.js', import.meta.url)));
const browser = await S.launch();
try {
  const user = await S.newUser('bench');
  const page = await S.open(browser.context, user);
  await S.live(page);
  await page.locator('herald-notifications .bell').click();
  await page.evaluate(() => {
    window.__seen = {};
    const root = document.querySelector('herald-notifications').shadowRoot;
    new MutationObserver((records) => {
      const now = Date.now();
      for (const record of records)
        for (const node of record.addedNodes)
          if (node.classList && node.classList.contains('item')) {
            const title = node.querySelector('.title').textContent;
            if (!(title in window.__seen)) window.__seen[title] = now;
          }
    }).observe(root.querySelector('.list'), { childList: true });
  });

  const latencies = [];
  for (let i = 0; i < SENDS; i++) {
    const title = `Bench ${i} ${Date.now()}`;
    const sent = Date.now();
    await S.send(user, { title });
    await page.waitForFunction((t) => t in window.__seen, title, { timeout: 10000, polling: 10 });
    latencies.push((await page.evaluate((t) => window.__seen[t], title)) - sent);
  }
  await page.close();
  latencies.sort((a, b) => a - b);

  // three tabs: polls in a window, scaled to a minute
  const tabsUser = await S.newUser('benchtabs');
  let polls = 0;
  let inFlight = 0;
  let most = 0;
  const isPoll = (r) => r.method() === 'POST' && r.url().endsWith(`/${S.TENANT}/bus`);
  const tabs = [];
  for (let i = 0; i < 3; i++) tabs.push(await S.open(browser.context, tabsUser));
  await S.sleep(500);
  browser.context.on('request', (r) => {
    if (isPoll(r)) {
      polls += 1;
      inFlight += 1;
      most = Math.max(most, inFlight);
    }
  });
  const finished = (r) => {
    if (isPoll(r)) inFlight = Math.max(0, inFlight - 1);
  };
  browser.context.on('requestfinished', finished);
  browser.context.on('requestfailed', finished);
  await S.sleep(WINDOW_SECS * 1000);

  console.log(
    JSON.stringify(
      {
        n: latencies.length,
        p50_ms: percentile(latencies, 50),
        p90_ms: percentile(latencies, 90),
        p99_ms: percentile(latencies, 99),
        min_ms: latencies[0],
        max_ms: latencies[latencies.length - 1],
        bundle_bytes: bundle.length,
        bundle_gzip_bytes: gzipSync(bundle, { level: 9 }).length,
        polls_with_three_tabs_per_minute: Math.round((polls * 60) / WINDOW_SECS),
        polls_in_flight_at_most: most,
        poll_window_secs: WINDOW_SECS,
        note: 'polls per minute depend on the server\'s bus wait (HERALD_BUS_WAIT_SECS: 20 s by default, 2 s in the tests)',
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
}
