// Keyboard only, axe-core in English and French, and screenshots of every
// part in light and dark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';
import * as S from './support.mjs';

const browser = S.browserForFile();
const { el, focused } = S;

test('keyboard only: open the bell, mark an item read, close with Escape', async () => {
  const user = await S.newUser('keys');
  const older = await S.sendAndDeliver(user, { title: 'Older item' });
  const newer = await S.sendAndDeliver(user, { title: 'Newer item' });
  const page = await S.open(browser.context, user);
  await S.live(page);

  // Tab from the top of the page to the bell
  for (let i = 0; i < 10 && !(await focused(page)).bell; i++) await page.keyboard.press('Tab');
  assert.equal((await focused(page)).bell, true, 'the bell is reached with Tab');
  await page.keyboard.press('Enter');
  assert.equal(await el(page, '.bell').getAttribute('aria-expanded'), 'true');
  assert.equal((await focused(page)).inPanel, true, 'opening moves the focus into the list');

  // Tab to the first item's "Mark read", press Space
  for (let i = 0; i < 10 && (await focused(page)).action !== 'read'; i++) await page.keyboard.press('Tab');
  const at = async () => { const f = await focused(page); return { bell: f.bell, action: f.action, inPanel: f.inPanel, item: f.item }; };
  assert.deepEqual(await at(), { bell: false, action: 'read', inPanel: true, item: newer.id });
  await page.keyboard.press('Space');
  await S.bellBecomes(page, 'Notifications, 1 unread');
  assert.equal((await S.call('GET', `/${S.TENANT}/inbox/${newer.id}`, { token: user.token })).read, true);
  assert.deepEqual(await at(), { bell: false, action: 'read', inPanel: true, item: older.id }, 'the focus moves to the next item');

  // Shift+Tab goes back through the panel; Escape closes and returns to the bell
  await page.keyboard.press('Shift+Tab');
  assert.equal((await focused(page)).inPanel, true);
  await page.keyboard.press('Escape');
  assert.equal(await el(page, '.panel').isVisible(), false);
  assert.equal(await el(page, '.bell').getAttribute('aria-expanded'), 'false');
  assert.equal((await focused(page)).bell, true, 'the focus is back on the bell');

  // Space opens it too; "Mark all read" is reachable and works
  await page.keyboard.press('Space');
  for (let i = 0; i < 10 && (await focused(page)).action !== 'read-all'; i++) await page.keyboard.press('Tab');
  assert.equal((await focused(page)).action, 'read-all');
  await page.keyboard.press('Enter');
  await S.bellBecomes(page, 'Notifications, none unread');
  await page.keyboard.press('Escape');
  assert.equal((await focused(page)).bell, true);
  await page.close();
});

test('keyboard only: dismissing the last banner gives the focus to the bell', async () => {
  const user = await S.newUser('bannerkeys');
  await S.sendAndDeliver(user, { title: 'The only banner', channel: 'header_message' });
  const page = await S.open(browser.context, user);
  await el(page, '.banner').waitFor({ timeout: 2000 });
  for (let i = 0; i < 15 && (await focused(page)).action !== 'dismiss'; i++) await page.keyboard.press('Tab');
  assert.equal((await focused(page)).action, 'dismiss', 'Dismiss is reached with Tab');
  await page.keyboard.press('Enter');
  await el(page, '.banner').waitFor({ state: 'hidden', timeout: 2000 });
  assert.equal((await focused(page)).bell, true, 'the focus is on the bell, not lost');
  await page.close();
});

test('when every item goes at once (read all elsewhere) the focus goes to the list’s title', async () => {
  const user = await S.newUser('readall');
  for (const title of ['First', 'Second', 'Third']) await S.sendAndDeliver(user, { title });
  const page = await S.open(browser.context, user);
  await S.live(page);
  await el(page, '.bell').click();
  const second = el(page, '.list .item').nth(1);
  await second.locator('[data-action="read"]').focus();
  assert.equal((await focused(page)).action, 'read');
  await S.call('POST', `/${S.TENANT}/inbox/read-all`, { token: user.token, body: {} });
  await S.bellBecomes(page, 'Notifications, none unread');
  const focus = await focused(page);
  assert.deepEqual([focus.hostFocused, focus.inPanel, focus.tag], [true, true, 'H2'], `the focus is on the title (${JSON.stringify(focus)})`);
  await page.close();
});

test('changing lang or html-bodies builds the banner and the modal again', async () => {
  const user = await S.newUser('relang');
  await S.sendAndDeliver(user, { title: 'Banner', body: 'Bold news', body_html: '<p><strong>Bold</strong> news</p>', channel: 'header_message' });
  await S.sendAndDeliver(user, { title: 'Alert', body: 'Bold alert', body_html: '<p><strong>Bold</strong> alert</p>', channel: 'alert' });
  const page = await S.open(browser.context, user, { lang: 'en' });
  await el(page, 'dialog').waitFor({ timeout: 2000 });
  const look = () => page.evaluate(() => {
    const root = document.querySelector('herald-notifications').shadowRoot;
    return {
      dismiss: root.querySelector('.banner [data-action="dismiss"]').textContent,
      acknowledge: root.querySelector('dialog [data-action="acknowledge"]').textContent,
      strong: root.querySelectorAll('.banner strong, dialog strong').length,
      open: root.querySelector('dialog').open,
    };
  });
  assert.deepEqual(await look(), { dismiss: 'Dismiss', acknowledge: 'OK, understood', strong: 0, open: true });
  await page.evaluate(() => {
    const host = document.querySelector('herald-notifications');
    host.setAttribute('lang', 'fr');
    host.setAttribute('html-bodies', '');
  });
  assert.deepEqual(await look(), { dismiss: 'Masquer', acknowledge: 'J’ai compris', strong: 2, open: true });
  assert.equal((await focused(page)).inDialog, true, 'the modal keeps the focus');
  await page.close();
});

async function axe(page, label) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const describe = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(describe, [], `axe on ${label}`);
  return results;
}

/** Everything on one page: bell open, banner, toast; then the modal. */
async function everything(lang, theme, shots) {
  const user = await S.newUser(`look${lang}${theme}`);
  await S.sendAndDeliver(user, { title: lang === 'fr' ? 'Facture 42 validée' : 'Invoice 42 validated', body: lang === 'fr' ? 'La facture a été validée par Marie.' : 'Mary validated the invoice.', key: 'task:status:valid' });
  await S.sendAndDeliver(user, { title: lang === 'fr' ? 'Réunion à 14 h' : 'Meeting at 2 pm', body: lang === 'fr' ? 'Salle B.' : 'Room B.' });
  await S.sendAndDeliver(user, { title: lang === 'fr' ? 'Maintenance ce soir' : 'Maintenance tonight', body: lang === 'fr' ? 'Les serveurs s’arrêtent à 22 h.' : 'The servers go down at 10 pm.', channel: 'header_message', key: 'message:system' });
  const page = await browser.context.newPage();
  await page.emulateMedia({ colorScheme: theme });
  await S.open(browser.context, user, { lang, theme }, page);
  await S.live(page);
  await el(page, '.banner').waitFor();
  if (shots) await S.screenshot(page, `banner-${theme}`);

  await S.notify(user, { title: lang === 'fr' ? 'Export terminé' : 'Export finished', body: 'report.pdf', priority: 1 });
  await S.notify(user, { title: lang === 'fr' ? 'Échec de la synchronisation' : 'Synchronisation failed', body: lang === 'fr' ? 'Le serveur ne répond pas.' : 'The server does not answer.', priority: 3 });
  await el(page, '[aria-live="assertive"] .toast').waitFor({ timeout: 2000 });
  await el(page, '[aria-live="polite"] .toast').waitFor({ timeout: 2000 });
  if (shots) await S.screenshot(page, `toast-${theme}`);

  await el(page, '.bell').click();
  await el(page, '.list .item').first().waitFor();
  if (shots) await S.screenshot(page, `bell-${theme}`);
  await axe(page, `${lang}/${theme}: bell open, banner, toasts`);
  const strings = {
    bell: await el(page, '.bell').getAttribute('aria-label'),
    markAll: await el(page, '[data-action="read-all"]').innerText(),
    dismiss: await el(page, '.banner [data-action="dismiss"]').innerText(),
    markRead: await el(page, '.item [data-action="read"]').first().innerText(),
  };
  await page.keyboard.press('Escape');

  await S.sendAndDeliver(user, { title: lang === 'fr' ? 'Mot de passe expiré' : 'Password expired', body: lang === 'fr' ? 'Changez votre mot de passe aujourd’hui.' : 'Change your password today.', channel: 'alert', key: 'message:system' });
  await el(page, 'dialog').waitFor({ timeout: 2000 });
  if (shots) await S.screenshot(page, `modal-${theme}`);
  await axe(page, `${lang}/${theme}: modal`);
  strings.acknowledge = await el(page, 'dialog [data-action="acknowledge"]').innerText();
  strings.pageLang = await page.evaluate(() => document.documentElement.lang);
  await page.close();
  return strings;
}

test('axe finds nothing serious, in English; screenshots in light and dark', async () => {
  const light = await everything('en', 'light', true);
  assert.deepEqual(light, {
    bell: 'Notifications, 3 unread',
    markAll: 'Mark all read',
    dismiss: 'Dismiss',
    markRead: 'Mark read',
    acknowledge: 'OK, understood',
    pageLang: 'en',
  });
  await everything('en', 'dark', true);
});

test('axe finds nothing serious, in French, and the strings are French', async () => {
  const strings = await everything('fr', 'light', false);
  assert.deepEqual(strings, {
    bell: 'Notifications, 3 non lues',
    markAll: 'Tout marquer comme lu',
    dismiss: 'Masquer',
    markRead: 'Marquer comme lu',
    acknowledge: 'J’ai compris',
    pageLang: 'fr',
  });
  await everything('fr', 'dark', false);
});
