// What the browser tests share: tokens, the admin's and the operator's API
// calls, and a Chromium that reaches only this machine.
//
// Environment: HERALD_URL (http://127.0.0.1:PORT of a herald-local),
// HERALD_TENANT (demo), HERALD_JWT_SECRET, CHROMIUM (/usr/bin/chromium),
// HERALD_SCREENSHOT_DIR (where screenshots go).
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const URL_ = (process.env.HERALD_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
export const TENANT = process.env.HERALD_TENANT || 'demo';
export const SECRET = process.env.HERALD_JWT_SECRET || 'herald-test-secret-not-for-production';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = process.env.HERALD_SCREENSHOT_DIR || join(tmpdir(), 'herald-screenshots');

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** An HS256 JWT for `sub`, valid for an hour. */
export function mint(sub, { db = TENANT, roles = [], ttl = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64({ sub: String(sub), db, roles, iat: now, exp: now + ttl });
  const signature = createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

export const ADMIN = mint('admin', { roles: ['admin'] });
export const OPERATOR = mint('operator', { db: '*', roles: ['admin'] });

/** `fetch` of Herald's API as `token`; the parsed answer, or throws on a status not 2xx. */
export async function call(method, path, { token = ADMIN, body, ok = true } = {}) {
  const response = await fetch(URL_ + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (ok && !response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return ok ? data : { status: response.status, data };
}

let next = 0;
/**
 * A new user in the directory, with a token. Ids are numbers drawn so no
 * two tests (nor two runs on one server) share a user.
 */
export async function newUser(login = 'user') {
  next += 1;
  const id = String((Math.floor(Date.now() / 1000) % 1e6) * 1e5 + (process.pid % 1000) * 100 + next);
  const name = `${login}${id}`;
  await call('PUT', `/${TENANT}/users/${id}`, { body: { login: name, email: `${name}@example.com` } });
  return { id, token: mint(id) };
}

/** Sends a notification to `user` on `channel`; the server's answer. */
export function send(user, { title = `Note ${randomUUID().slice(0, 8)}`, body = 'Something happened.', body_html, channel = 'message', key = 'message:internal' } = {}) {
  const request = { key, title, body, recipients: { users: [user.id] }, force_channel: channel };
  if (body_html !== undefined) request.body_html = body_html;
  return call('POST', `/${TENANT}/notifications`, { body: request });
}

/** Runs the scheduled jobs and drains the outbox now. */
export function tick() {
  return call('POST', '/_local/tick', { token: OPERATOR, body: {} });
}

export function advanceClock(seconds) {
  return call('POST', '/_local/clock', { token: OPERATOR, body: { advance_secs: seconds } });
}

/** Tryton's notify: a toast on `user:<id>`. */
export function notify(user, { title, body = '', priority = 1 }) {
  return call('POST', `/${TENANT}/notify`, { body: { title, body, priority, user: Number(user.id) } });
}

/** The user's inbox items (unread by default). */
export async function inbox(user, query = '') {
  return (await call('GET', `/${TENANT}/inbox${query}`, { token: user.token })).items;
}

/** Waits until `user`'s inbox holds an item titled `title`; the item. */
export async function delivered(user, title, { timeout = 5000 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const item = (await inbox(user, '?state=all&limit=100')).find((i) => i.title === title);
    if (item) return item;
    if (Date.now() > end) throw new Error(`"${title}" never reached ${user.id}'s inbox`);
    await tick();
  }
}

/** Sends and drains: the item once it is in the inbox. */
export async function sendAndDeliver(user, options = {}) {
  const title = options.title || `Note ${randomUUID().slice(0, 8)}`;
  await send(user, { ...options, title });
  await tick();
  return delivered(user, title);
}

export const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * A browser context of its own (fresh profile): `{context, close}`.
 * `colorScheme` and `locale` as Playwright takes them.
 */
export async function launch({ colorScheme = 'light', locale = 'en-US', viewport = { width: 1100, height: 760 } } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'herald-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    colorScheme,
    locale,
    viewport,
    reducedMotion: 'reduce',
  });
  const errors = [];
  context.on('weberror', (e) => errors.push(String(e.error())));
  return {
    context,
    errors,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true }).catch(() => {});
    },
  };
}

/** The demo page's address for `user`. */
export function pageUrl(user, params = {}) {
  const query = new URLSearchParams({ tenant: TENANT, ...params });
  return `${URL_}/ui/?${query}#token=${user.token}`;
}

/**
 * Opens the demo page for `user` in `context` and waits until the element
 * read the inbox and its tab's bus role is settled; the page.
 */
export async function open(context, user, params = {}, page = null) {
  page = page || (await context.newPage());
  await page.goto(pageUrl(user, params));
  await page.waitForFunction(() => {
    const el = document.querySelector('herald-notifications');
    return el && el.count !== null && el.dataset.bus;
  });
  return page;
}

/**
 * Waits until the page's bus leader (any tab) has a poll waiting: its role is
 * settled and, on a cold start (no cursor), it has caught up (what the bus
 * kept is replayed at once; the phase ends with the first poll that waits,
 * 2 s on the test server, the default 20 s for the bench).
 */
export async function live(page) {
  await page.waitForFunction(() => {
    const el = document.querySelector('herald-notifications');
    return el.dataset.bus && !(el.bus && el.bus.catchingUp);
  }, null, { timeout: 30000, polling: 50 });
  // The leader's poll is in flight; give the request a moment to reach the server.
  await page.waitForTimeout(300);
}

/** One browser for a test file: launched before its tests, closed after them. */
export function browserForFile(options) {
  const browser = {};
  before(async () => Object.assign(browser, await launch(options)));
  after(async () => browser.close && (await browser.close()));
  return browser;
}

/** A part of the element (its shadow tree), as a locator. */
export const el = (page, selector) => page.locator(`herald-notifications ${selector}`);

/** Where the focus is, described: the element holds it, and which part. */
export function focused(page) {
  return page.evaluate(() => {
    const host = document.querySelector('herald-notifications');
    const active = document.activeElement === host ? host.shadowRoot.activeElement : null;
    return {
      hostFocused: document.activeElement === host,
      bell: Boolean(active && active.classList.contains('bell')),
      action: active && active.getAttribute('data-action'),
      inPanel: Boolean(active && active.closest('.panel')),
      inDialog: Boolean(active && active.closest('dialog')),
      item: active && active.closest('.item') ? active.closest('.item').dataset.id : null,
      tag: active && active.tagName,
    };
  });
}

/** The element's shadow root, to query in the page: `shadow(page, sel)` as a locator. */
export function shadow(page) {
  return page.locator('herald-notifications');
}

/** The bell's accessible name (`Notifications, 3 unread`). */
export function bellName(page) {
  return page.evaluate(() => document.querySelector('herald-notifications').shadowRoot.querySelector('.bell').getAttribute('aria-label'));
}

/** Waits (≤ `timeout` ms) until the bell's name is `name`; the time it took. */
export async function bellBecomes(page, name, timeout = 1000) {
  const start = Date.now();
  await page.waitForFunction((expected) => document.querySelector('herald-notifications').shadowRoot.querySelector('.bell').getAttribute('aria-label') === expected, name, { timeout, polling: 20 });
  return Date.now() - start;
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
