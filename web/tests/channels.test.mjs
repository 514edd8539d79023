// Each channel as the issue says it shows: the bell's list (message), the
// banner at the top (header_message, until read, across reloads), the modal
// alertdialog (alert: holds focus, acknowledging marks it read), toasts
// (Tryton's notify), and bodies that run nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as S from './support.mjs';

const browser = S.browserForFile();
const { el, focused } = S;


test('each channel shows as specified: list, banner, modal, toast', async () => {
  const user = await S.newUser('channels');
  const message = await S.sendAndDeliver(user, { title: 'Invoice 42 validated', body: 'The invoice was validated.' });
  const header = await S.sendAndDeliver(user, { title: 'Maintenance tonight', body: 'The servers go down at 22:00.', channel: 'header_message' });
  const alert = await S.sendAndDeliver(user, { title: 'Password expires', body: 'Change your password today.', channel: 'alert' });
  const page = await S.open(browser.context, user);

  // the modal: an alertdialog, modal, labelled and described, holding focus
  const dialog = el(page, 'dialog[role="alertdialog"]');
  await dialog.waitFor({ state: 'visible', timeout: 2000 });
  assert.equal(await dialog.getAttribute('aria-modal'), 'true');
  const labels = await page.evaluate(() => {
    const root = document.querySelector('herald-notifications').shadowRoot;
    const d = root.querySelector('dialog');
    return {
      open: d.open,
      modal: d.matches(':modal'),
      label: root.getElementById(d.getAttribute('aria-labelledby'))?.textContent,
      description: root.getElementById(d.getAttribute('aria-describedby'))?.textContent,
    };
  });
  assert.deepEqual(labels, { open: true, modal: true, label: alert.title, description: 'Change your password today.' });
  assert.equal((await focused(page)).inDialog, true, 'the modal takes the focus');

  // the banner: at the top of the viewport, one item
  const banner = el(page, '.banner');
  assert.equal(await banner.isVisible(), true);
  assert.match(await banner.innerText(), /Maintenance tonight/);
  const box = await banner.boundingBox();
  assert.equal(box.y, 0, 'the banner sits at the top of the viewport');
  assert.ok(box.width >= 1000, 'the banner spans the page');

  // acknowledge the modal; the bell lists the message (newest first)
  await el(page, 'dialog [data-action="acknowledge"]').click();
  await dialog.waitFor({ state: 'hidden', timeout: 2000 });
  await el(page, '.bell').click();
  const titles = await el(page, '.list .item .title').allInnerTexts();
  assert.deepEqual(titles, [header.title, message.title], 'unread items, newest first');
  assert.equal(await el(page, '.bell').getAttribute('aria-label'), 'Notifications, 2 unread');
  assert.equal(await el(page, '.badge').innerText(), '2');
  const item = el(page, `.item[data-id="${message.id}"]`);
  assert.match(await item.locator('.body').innerText(), /The invoice was validated/);
  const time = item.locator('time');
  assert.ok(Date.parse(await time.getAttribute('datetime')) > 0, 'the time has a machine-readable datetime');
  assert.ok((await time.getAttribute('title')).length > 8, 'and the full date as its title');
  assert.match(await item.locator('.status').getAttribute('class'), /st-/, 'the status type gives the colour');

  // a new message arrives live, on top
  await S.live(page);
  const live = await S.sendAndDeliver(user, { title: 'Live delivery' });
  await el(page, `.item[data-id="${live.id}"]`).waitFor({ timeout: 1000 });
  assert.equal((await el(page, '.list .item .title').allInnerTexts())[0], 'Live delivery');

  // toasts: notify on user:<uid>, polite for low priorities, assertive at 3
  await S.notify(user, { title: 'Export finished', body: 'report.pdf is ready', priority: 1 });
  const toast = el(page, '[aria-live="polite"] .toast');
  await toast.waitFor({ timeout: 2000 });
  assert.match(await toast.innerText(), /Export finished[\s\S]*report\.pdf is ready/);
  await S.notify(user, { title: 'Export failed', priority: 3 });
  const urgent = el(page, '[aria-live="assertive"] .toast');
  await urgent.waitFor({ timeout: 2000 });
  assert.match(await urgent.innerText(), /Export failed/);
  // priority 1 goes by itself after 5 s; priority 3 stays until closed
  await toast.waitFor({ state: 'detached', timeout: 7000 });
  assert.equal(await urgent.isVisible(), true, 'an error toast stays');
  await urgent.locator('[data-action="close"]').click();
  await urgent.waitFor({ state: 'detached', timeout: 1000 });
  assert.deepEqual(browser.errors, []);
  await page.close();
});

test('the modal holds the focus until acknowledged, and acknowledging marks it read', async () => {
  const user = await S.newUser('modal');
  const first = await S.sendAndDeliver(user, {
    title: 'Scheduled downtime',
    body: 'Saturday 8:00 to 10:00. See the details.',
    body_html: '<p>Saturday 8:00 to 10:00. <a href="https://example.com/downtime">See the details</a>.</p>',
    channel: 'alert',
  });
  const second = await S.sendAndDeliver(user, { title: 'Second alert', body: 'Queued behind the first.', channel: 'alert' });
  const page = await S.open(browser.context, user, { html: '1' });
  const dialog = el(page, 'dialog');
  await dialog.waitFor({ state: 'visible', timeout: 2000 });
  assert.equal(await el(page, '#alert-title').innerText(), first.title, 'the oldest alert first');

  // Tab and Shift+Tab stay inside, cycling over its controls
  const seen = new Set();
  for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab', 'Tab']) {
    await page.keyboard.press(key);
    const focus = await focused(page);
    assert.equal(focus.hostFocused && focus.inDialog, true, `after ${key} the focus is in the modal (${JSON.stringify(focus)})`);
    seen.add(`${focus.tag}:${focus.action}`);
  }
  const controls = await page.evaluate(() => document.querySelector('herald-notifications').shadowRoot.querySelectorAll('dialog a[href], dialog button').length);
  assert.equal(seen.size, controls, 'Tab visits every control of the modal');
  // Escape does not dismiss it, even twice
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.waitForTimeout(100);
  assert.equal(await dialog.isVisible(), true, 'Escape does not acknowledge');
  assert.equal((await S.call('GET', `/${S.TENANT}/inbox/${first.id}`, { token: user.token })).read, false);

  // acknowledging (keyboard) marks it read, and the next one shows
  await el(page, 'dialog [data-action="acknowledge"]').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((title) => document.querySelector('herald-notifications').shadowRoot.querySelector('#alert-title')?.textContent === title, second.title, { timeout: 2000 });
  assert.equal((await S.call('GET', `/${S.TENANT}/inbox/${first.id}`, { token: user.token })).read, true, 'acknowledged means read');
  assert.equal((await S.call('GET', `/${S.TENANT}/inbox/${second.id}`, { token: user.token })).read, false);
  await el(page, 'dialog [data-action="acknowledge"]').click();
  await dialog.waitFor({ state: 'hidden', timeout: 2000 });
  assert.equal((await S.call('GET', `/${S.TENANT}/inbox/${second.id}`, { token: user.token })).read, true);
  await page.close();
});

test('the banner shows on every page load until dismissed, which marks it read', async () => {
  const user = await S.newUser('banner');
  const older = await S.sendAndDeliver(user, { title: 'Welcome to the new portal', channel: 'header_message' });
  const newer = await S.sendAndDeliver(user, { title: 'Quarter closing on Friday', channel: 'header_message' });
  const page = await S.open(browser.context, user);
  const banner = el(page, '.banner');
  await banner.waitFor({ timeout: 2000 });
  assert.match(await banner.innerText(), /Welcome to the new portal/, 'the oldest banner first');
  assert.equal(await el(page, '.banner .title').count(), 1, 'one at a time');

  await page.reload();
  await banner.waitFor({ timeout: 3000 });
  assert.match(await banner.innerText(), /Welcome to the new portal/, 'still there after a reload');

  await el(page, '.banner [data-action="dismiss"]').click();
  await page.waitForFunction(() => /Quarter closing/.test(document.querySelector('herald-notifications').shadowRoot.querySelector('.banner').textContent), null, { timeout: 2000 });
  assert.equal((await S.call('GET', `/${S.TENANT}/inbox/${older.id}`, { token: user.token })).read, true, 'dismissed means read');

  await page.reload();
  await banner.waitFor({ timeout: 3000 });
  assert.match(await banner.innerText(), /Quarter closing on Friday/, 'the dismissed banner stays gone');
  await el(page, '.banner [data-action="dismiss"]').click();
  await banner.waitFor({ state: 'hidden', timeout: 2000 });
  assert.equal((await S.call('GET', `/${S.TENANT}/inbox/${newer.id}`, { token: user.token })).read, true);
  await page.reload();
  await S.open(browser.context, user, {}, page);
  await page.waitForTimeout(300);
  assert.equal(await banner.isVisible(), false, 'no banner once all are read');
  await page.close();
});

const PAYLOAD = '<img src=x onerror="window.__pwned=1">';
const HTML_PAYLOAD = `<p>Safe <strong>bold</strong> <a href="javascript:window.__pwned=2">link</a> <a href="https://example.com/doc">doc</a></p>${PAYLOAD}<script>window.__pwned=3</script><iframe src="javascript:parent.__pwned=4"></iframe><form><button>go</button></form>`;

/** A page of the demo without its Content-Security-Policy, so only the element's care keeps a payload from running. */
async function unguardedPage() {
  const page = await browser.context.newPage();
  await page.route((url) => url.pathname === '/ui/', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['content-security-policy'];
    await route.fulfill({ response, headers });
  });
  return page;
}

test('bodies run nothing: text bodies are text, HTML bodies are sanitised', async () => {
  const user = await S.newUser('xss');
  const text = await S.sendAndDeliver(user, { title: 'Text payload', body: PAYLOAD });
  const html = await S.sendAndDeliver(user, { title: 'HTML payload', body: 'Safe bold link doc', body_html: HTML_PAYLOAD });

  // without the policy a payload put in the page does run (the test can fail)
  const control = await unguardedPage();
  await S.open(browser.context, user, {}, control);
  await control.evaluate((payload) => {
    const div = document.createElement('div');
    div.innerHTML = payload.replace('__pwned', '__control');
    document.body.append(div);
  }, PAYLOAD);
  await control.waitForFunction(() => window.__control === 1, null, { timeout: 2000 });
  await control.close();

  for (const params of [{}, { html: '1' }]) {
    const page = await unguardedPage();
    await S.open(browser.context, user, params, page);
    await el(page, '.bell').click();
    const textBody = el(page, `.item[data-id="${text.id}"] .body`);
    assert.equal(await textBody.textContent(), PAYLOAD, 'a text body shows as text');
    assert.equal(await textBody.locator('img').count(), 0);

    const htmlBody = el(page, `.item[data-id="${html.id}"] .body`);
    if (params.html) {
      assert.equal(html.body_html, HTML_PAYLOAD, 'the inbox carries body_html');
      assert.equal(await htmlBody.locator('strong').innerText(), 'bold', 'HTML bodies keep their markup');
      const links = await htmlBody.locator('a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.target, a.rel]));
      assert.deepEqual(links, [[null, '', ''], ['https://example.com/doc', '_blank', 'noopener noreferrer']]);
      assert.equal(await htmlBody.locator('img[onerror], script, iframe, form, button').count(), 0);
    } else {
      assert.equal(await htmlBody.locator('strong').count(), 0, 'without html-bodies the body is text');
    }
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, `nothing ran (${JSON.stringify(params)})`);
    await page.close();
  }
});

test('toasts are at most five: the oldest go', async () => {
  const user = await S.newUser('toasts');
  const page = await S.open(browser.context, user);
  await S.live(page);
  for (let i = 1; i <= 7; i++) await S.notify(user, { title: `Toast ${i}`, priority: 3 });
  await page.waitForFunction(() => document.querySelector('herald-notifications').shadowRoot.textContent.includes('Toast 7'), null, { timeout: 3000 });
  await page.waitForTimeout(200);
  assert.deepEqual(await el(page, '.toast .title').allInnerTexts(), ['Toast 3', 'Toast 4', 'Toast 5', 'Toast 6', 'Toast 7']);
  await page.close();
});

// Sanitised HTML sits in the element's shadow root, under its own CSS: no
// class, id or style to dress as its buttons or overlays; no remote resource.
const SPOOF = '<a class="btn primary" id="ack" style="position:fixed" href="https://example.com/spoof">OK</a><div class="banner">fake</div><img alt="tracker" src="https://example.com/x.png"><img alt="inline" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><a href="/relative">rel</a>';

test('the sanitiser keeps markup and drops scripts in an item relayed to another tab', async () => {
  // Independent of what the server carries: a second tab receives, over the
  // tabs' BroadcastChannel, an item whose body_html is the payload.
  const user = await S.newUser('relay');
  const leader = await unguardedPage();
  await S.open(browser.context, user, { html: '1' }, leader);
  const follower = await unguardedPage();
  await S.open(browser.context, user, { html: '1' }, follower);
  assert.equal(await follower.evaluate(() => document.querySelector('herald-notifications').dataset.bus), 'follower');
  await leader.evaluate(
    ({ key, payload }) => {
      const channel = new BroadcastChannel(key);
      const now = Date.now();
      const item = { id: 'relayed-1', notification: 'n1', key: 'message:internal', channel: 'message', status_type: 'error', title: 'Relayed', body: 'plain', body_html: payload, context: null, created_at: now, due_at: now, read: false, read_at: null };
      channel.postMessage({ type: 'message', channel: 'notification:x', message: { type: 'user-notification', count: 1, content: [item] } });
      channel.close();
    },
    { key: `herald-bus:${S.URL_}|${S.TENANT}|${user.id}`, payload: HTML_PAYLOAD + SPOOF },
  );
  await el(follower, '.bell').click();
  const body = el(follower, '.item[data-id="relayed-1"] .body');
  await body.waitFor({ timeout: 2000 });
  assert.equal(await body.locator('strong').innerText(), 'bold');
  assert.equal(await body.locator('img').count(), 3, 'the images stay');
  assert.equal(await body.locator('img[onerror], script, iframe, form, button, a[href^="javascript"]').count(), 0, 'its handler and the scripts go');
  assert.equal(await body.locator('[class], [id], [style], style').count(), 0, 'no class, id or style');
  assert.deepEqual(await body.locator('img').evaluateAll((imgs) => imgs.map((i) => [i.alt, i.getAttribute('src')])), [['', null], ['tracker', null], ['inline', 'data:image/gif;base64,R0lGODlhAQABAAAAACw=']], 'only data: images keep their source');
  assert.deepEqual(await body.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), [null, 'https://example.com/doc', 'https://example.com/spoof', null], 'links: http(s) and mailto only');
  assert.equal(await el(follower, '.item[data-id="relayed-1"] .status').getAttribute('class'), 'status st-error');
  await follower.waitForTimeout(500);
  assert.equal(await follower.evaluate(() => window.__pwned), undefined, 'nothing ran');
  await leader.close();
  await follower.close();
});
