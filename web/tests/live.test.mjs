// Live: the bell's count follows what happens through the API and in other
// tabs within a second; postponed items go and come back when due; one bus
// poll per browser, taken over when the leader's tab closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as S from './support.mjs';

const browser = S.browserForFile();
const { el } = S;
const unread = (n) => (n ? `Notifications, ${n} unread` : 'Notifications, none unread');
const inbox = (user, id) => `/${S.TENANT}/inbox/${id}`;

test('the count follows sends, reads and deletes through the API, within a second', async () => {
  const user = await S.newUser('count');
  const page = await S.open(browser.context, user);
  assert.equal(await S.bellName(page), unread(0));
  assert.equal(await el(page, '.badge').isVisible(), false, 'no badge at zero');
  await S.live(page);

  const a = await S.sendAndDeliver(user);
  await S.bellBecomes(page, unread(1));
  assert.equal(await el(page, '.badge').innerText(), '1');
  const b = await S.sendAndDeliver(user);
  await S.bellBecomes(page, unread(2));
  const c = await S.sendAndDeliver(user);
  await S.bellBecomes(page, unread(3));

  await S.call('POST', `${inbox(user, a.id)}/read`, { token: user.token, body: {} });
  await S.bellBecomes(page, unread(2));
  await S.call('DELETE', inbox(user, b.id), { token: user.token });
  await S.bellBecomes(page, unread(1));
  await el(page, '.bell').click();
  assert.deepEqual(await el(page, '.list .item').evaluateAll((items) => items.map((i) => i.dataset.id)), [c.id], 'the list follows too');
  await S.sendAndDeliver(user);
  await S.bellBecomes(page, unread(2));
  await S.call('POST', `/${S.TENANT}/inbox/read-all`, { token: user.token, body: {} });
  await S.bellBecomes(page, unread(0));
  assert.equal(await el(page, '.list .item').count(), 0);
  assert.equal(await el(page, '.empty').isVisible(), true, 'the list says it is empty');
  await page.close();
});

test('the count follows reads and deletes made in another tab, within a second', async () => {
  const user = await S.newUser('tabs');
  const first = await S.open(browser.context, user);
  const second = await S.open(browser.context, user);
  await S.live(first);
  const a = await S.sendAndDeliver(user, { title: 'Alpha' });
  const b = await S.sendAndDeliver(user, { title: 'Beta' });
  await S.bellBecomes(first, unread(2));
  await S.bellBecomes(second, unread(2));

  // mark read in the second tab: the first follows
  await el(second, '.bell').click();
  await el(second, `.item[data-id="${a.id}"] [data-action="read"]`).click();
  await S.bellBecomes(first, unread(1));
  assert.equal((await S.call('GET', inbox(user, a.id), { token: user.token })).read, true);
  // delete in the first tab: the second follows, list included
  await el(first, '.bell').click();
  await el(first, `.item[data-id="${b.id}"] [data-action="delete"]`).click();
  await S.bellBecomes(second, unread(0));
  await el(second, `.item[data-id="${b.id}"]`).waitFor({ state: 'detached', timeout: 1000 });
  assert.equal((await S.call('GET', inbox(user, b.id), { token: user.token, ok: false })).status, 404);
  await first.close();
  await second.close();
});

test('postponing hides an item; when it comes due it is back', async () => {
  const user = await S.newUser('postpone');
  const item = await S.sendAndDeliver(user, { title: 'Renew the contract' });
  const page = await S.open(browser.context, user);
  await S.live(page);
  await el(page, '.bell').click();
  const row = el(page, `.item[data-id="${item.id}"]`);
  await row.locator('select').selectOption('1');
  await row.locator('[data-action="postpone"]').click();
  await row.waitFor({ state: 'detached', timeout: 1000 });
  await S.bellBecomes(page, unread(0));
  const postponed = await S.call('GET', inbox(user, item.id), { token: user.token });
  assert.equal(postponed.read, false);
  assert.ok(postponed.due_at >= item.due_at + 86_400_000 - 1000, 'postponed by one day');
  assert.deepEqual(await S.inbox(user), [], 'not in the unread inbox meanwhile');

  // a day later: the server pushes it (change: due) and it shows again
  await S.advanceClock(86_400 + 60);
  await S.tick();
  assert.deepEqual((await S.inbox(user)).map((i) => i.id), [item.id], 'due again in the API');
  await el(page, `.item[data-id="${item.id}"]`).waitFor({ timeout: 3000 });
  await S.bellBecomes(page, unread(1));
  await page.close();
});

/** Counts the bus polls of a context: how many, and the most at once. */
function watchPolls(context) {
  const inFlight = new Set();
  const stats = { total: 0, most: 0 };
  const isPoll = (r) => r.method() === 'POST' && r.url().endsWith(`/${S.TENANT}/bus`);
  const done = (r) => inFlight.delete(r);
  context.on('request', (r) => {
    if (!isPoll(r)) return;
    inFlight.add(r);
    stats.total += 1;
    stats.most = Math.max(stats.most, inFlight.size);
  });
  context.on('requestfinished', done);
  context.on('requestfailed', done);
  return {
    stats,
    reset() {
      stats.total = 0;
      stats.most = inFlight.size;
    },
    forget(page) {
      for (const r of inFlight) if (r.frame().page() === page) inFlight.delete(r);
    },
  };
}

test('three tabs share one poll; when the leader closes another takes over', async () => {
  const own = await S.launch();
  try {
    const polls = watchPolls(own.context);
    const user = await S.newUser('leader');
    const tabs = [];
    for (let i = 0; i < 3; i++) tabs.push(await S.open(own.context, user));
    const roles = async () => Promise.all(tabs.map((p) => p.evaluate(() => document.querySelector('herald-notifications').dataset.bus)));
    assert.deepEqual((await roles()).sort(), ['follower', 'follower', 'leader']);

    // over 5 s (polls wait 2 s on the test server): one at a time, ~3 in all
    polls.reset();
    await S.sleep(5000);
    assert.equal(polls.stats.most, 1, 'one poll in flight at a time');
    assert.ok(polls.stats.total >= 2 && polls.stats.total <= 4, `${polls.stats.total} polls in 5 s`);

    // a send reaches all three
    const one = await S.sendAndDeliver(user, { title: 'For every tab' });
    for (const tab of tabs) await S.bellBecomes(tab, unread(1));

    // the leader's tab closes: one of the others polls now
    const leaderAt = (await roles()).indexOf('leader');
    const [leader] = tabs.splice(leaderAt, 1);
    polls.forget(leader);
    await leader.close();
    const start = Date.now();
    while (!(await roles()).includes('leader')) {
      assert.ok(Date.now() - start < 2000, 'a tab takes over within 2 s');
      await S.sleep(50);
    }
    assert.deepEqual((await roles()).sort(), ['follower', 'leader']);
    await S.sleep(300);
    polls.reset();
    const two = await S.sendAndDeliver(user, { title: 'After the handover' });
    for (const tab of tabs) await S.bellBecomes(tab, unread(2));
    await S.call('POST', `${inbox(user, one.id)}/read`, { token: user.token, body: {} });
    for (const tab of tabs) await S.bellBecomes(tab, unread(1));
    await S.sleep(3000);
    assert.equal(polls.stats.most, 1, 'still one poll in flight at a time');
    assert.ok(polls.stats.total >= 2, `the new leader polls (${polls.stats.total} polls)`);
    await el(tabs[0], '.bell').click();
    assert.deepEqual(await el(tabs[0], '.list .item').evaluateAll((items) => items.map((i) => i.dataset.id)), [two.id], 'the list followed the handover');
  } finally {
    await own.close();
  }
});

test('a token the server refuses is replaced by one from the host’s tokenProvider', async () => {
  const user = await S.newUser('refresh');
  await S.sendAndDeliver(user, { title: 'After a fresh token' });
  const expired = S.mint(user.id, { ttl: -60 });
  const page = await browser.context.newPage();
  // the demo page without a token: the host gives one through the callback
  await page.goto(`${S.URL_}/ui/?tenant=${S.TENANT}`);
  await page.evaluate(
    ([stale, fresh]) => {
      window.__asked = 0;
      // the first token it gives has expired: Herald answers 401, the element asks again
      document.querySelector('herald-notifications').tokenProvider = async () => (++window.__asked === 1 ? stale : fresh);
    },
    [expired, user.token],
  );
  await S.bellBecomes(page, 'Notifications, 1 unread', 5000);
  assert.equal(await page.evaluate(() => window.__asked), 2, 'asked once at start and once after the 401');
  await page.close();
});

test('a cold start replays nothing: no old toast, no old item event; what comes later shows', async () => {
  const user = await S.newUser('cold');
  // before the page: a toast and an item (the bus keeps both minutes)
  await S.notify(user, { title: 'Before the page', priority: 3 });
  await S.sendAndDeliver(user, { title: 'Delivered before' });
  const page = await browser.context.newPage(); // no cursor for this user in this browser
  await page.addInitScript(() => {
    window.__items = [];
    document.addEventListener('herald-item', (e) => window.__items.push(e.detail.item.title));
  });
  await S.open(browser.context, user, {}, page);
  await page.waitForTimeout(1500);
  assert.equal(await el(page, '.toast').count(), 0, 'an old notify shows no toast');
  assert.deepEqual(await page.evaluate(() => window.__items), [], 'an old item is no live item');
  assert.equal(await S.bellName(page), unread(1), 'the inbox read counts it');
  await S.live(page);
  await S.bellBecomes(page, unread(1));
  await S.notify(user, { title: 'After the page', priority: 3 });
  await el(page, '.toast').waitFor({ timeout: 2000 });
  assert.deepEqual(await el(page, '.toast .title').allInnerTexts(), ['After the page']);
  await S.sendAndDeliver(user, { title: 'Delivered after' });
  await S.bellBecomes(page, unread(2));
  assert.deepEqual(await page.evaluate(() => window.__items), ['Delivered after']);
  await page.close();
});

test('a token of another user from the tokenProvider starts the element again as that user', async () => {
  const a = await S.newUser('tokenA');
  const b = await S.newUser('tokenB');
  await S.sendAndDeliver(a, { title: 'For A, one' });
  await S.sendAndDeliver(a, { title: 'For A, two' });
  await S.sendAndDeliver(b, { title: 'For B' });
  const page = await browser.context.newPage();
  // A's token stops being accepted when the test says so
  let refuseA = false;
  const sentA = [];
  await page.route((url) => url.pathname.startsWith(`/${S.TENANT}/`), async (route) => {
    if (route.request().headers().authorization === `Bearer ${a.token}`) {
      sentA.push(route.request().url());
      if (refuseA) return route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: 'unauthorized', message: 'expired' }) });
    }
    return route.continue();
  });
  await page.goto(`${S.URL_}/ui/?tenant=${S.TENANT}`);
  await page.evaluate(
    ([first, second]) => {
      window.__asked = 0;
      document.querySelector('herald-notifications').tokenProvider = async () => (++window.__asked === 1 ? first : second);
    },
    [a.token, b.token],
  );
  await S.bellBecomes(page, unread(2), 5000);
  refuseA = true;
  await page.evaluate(() => document.querySelector('herald-notifications').refresh());
  await S.bellBecomes(page, unread(1), 5000);
  assert.equal(await page.evaluate(() => window.__asked), 2);
  await el(page, '.bell').click();
  assert.deepEqual(await el(page, '.list .item .title').allInnerTexts(), ['For B'], 'nothing of A is left');
  await S.live(page);
  const bus = await page.evaluate(() => {
    const host = document.querySelector('herald-notifications');
    return { role: host.dataset.bus, key: host.bus.key, channels: host.bus.channels };
  });
  assert.deepEqual(bus, { role: 'leader', key: `herald-bus:${S.URL_}|${S.TENANT}|${b.id}`, channels: [`notification:${b.id}`, `user:${b.id}`] });
  const before = sentA.length;
  await S.sendAndDeliver(b, { title: 'For B, live' });
  await S.bellBecomes(page, unread(2));
  assert.equal(sentA.length, before, 'A’s token is not used any more');
  await page.close();
});

test('a stream of live changes does not starve the inbox read', async () => {
  const user = await S.newUser('stream');
  await S.sendAndDeliver(user, { title: 'The one item' });
  const leader = await S.open(browser.context, user);
  const follower = await S.open(browser.context, user);
  assert.equal(await follower.evaluate(() => document.querySelector('herald-notifications').dataset.bus), 'follower');
  // the follower's inbox reads take 400 ms; a live change comes every 100 ms
  await follower.route((url) => url.pathname === `/${S.TENANT}/inbox`, async (route) => {
    await S.sleep(400);
    await route.continue().catch(() => {});
  });
  await follower.evaluate(() => {
    window.__ready = 0;
    document.addEventListener('herald-ready', () => window.__ready++);
  });
  const streaming = leader.evaluate(async (key) => {
    const channel = new BroadcastChannel(key);
    const end = Date.now() + 4000;
    while (Date.now() < end) {
      channel.postMessage({ type: 'message', channel: 'notification:x', message: { type: 'user-notification', count: 1, content: [] } });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    channel.close();
  }, `herald-bus:${S.URL_}|${S.TENANT}|${user.id}`);
  await follower.evaluate(() => {
    document.querySelector('herald-notifications').refresh();
  });
  await follower.waitForFunction(() => window.__ready > 0, null, { timeout: 3000 });
  await streaming;
  assert.equal(await S.bellName(follower), unread(1));
  await leader.close();
  await follower.close();
});

test('a refused poll does not end polling: it is tried again, backing off', async () => {
  const user = await S.newUser('refused');
  const page = await browser.context.newPage();
  let polls = 0;
  await page.route((url) => url.pathname === `/${S.TENANT}/bus`, async (route) => {
    if (++polls === 1) return route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: 'unauthorized', message: 'refused once' }) });
    return route.continue().catch(() => {});
  });
  await S.open(browser.context, user, {}, page);
  await S.live(page);
  assert.ok(polls >= 2, `polled again after the refusal (${polls})`);
  assert.equal(await page.evaluate(() => document.querySelector('herald-notifications').dataset.bus), 'leader');
  await S.sendAndDeliver(user, { title: 'After the refusal' });
  await S.bellBecomes(page, unread(1));
  await page.close();
});

test('without Web Locks the tab polls by itself and says it leads', async () => {
  const user = await S.newUser('nolocks');
  const page = await browser.context.newPage();
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }));
  await S.open(browser.context, user, {}, page);
  assert.deepEqual(await page.evaluate(() => [navigator.locks, document.querySelector('herald-notifications').dataset.bus]), [undefined, 'leader']);
  await S.live(page);
  await S.sendAndDeliver(user, { title: 'Without locks' });
  await S.bellBecomes(page, unread(1));
  await page.close();
});
