// <herald-notifications>: Herald's in-app notification centre as one custom
// element. See README.md for its attributes, properties, events and CSS
// custom properties.
import { CSS } from './styles.js';
import { InboxApi, HeraldError, tokenSubject } from './api.js';
import { SharedBus } from './bus.js';
import { t, pickLang } from './i18n.js';
import { h, icon, statusOf, FOCUSABLE } from './dom.js';
import { listItem, bannerContent, toastContent, statusMark, bodyOf, refreshTimes } from './view.js';
import { mountDemo } from './demo.js';

const PAGE_SIZE = 20;
const FETCH_SIZE = 100;
const MAX_COUNT_PAGES = 10;
const TOAST_MS = [5000, 5000, 8000, 0];
const MAX_TOASTS = 5;
// reads of the inbox thrown away because live changes came meanwhile, before
// one is applied anyway (with those changes replayed over it)
const MAX_REREADS = 2;

function byNewest(a, b) {
  return b.created_at - a.created_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export class HeraldNotifications extends HTMLElement {
  static get observedAttributes() {
    return ['base-url', 'tenant', 'token', 'lang', 'html-bodies'];
  }

  constructor() {
    super();
    this._tokenProvider = null;
    this._token = null;
    this._refreshing = null;
    this.items = []; // unread items, newest first (what the list may show)
    this.next = null; // cursor after `items`
    this.shown = PAGE_SIZE; // how many of them the list shows
    this.banners = []; // unread header messages, oldest first
    this.alerts = []; // unread alerts, oldest first
    this._count = null;
    this.loaded = false;
    this.generation = 0;
    this.nodes = new Map();
    this.toastList = []; // shown toasts, oldest first: {el, close}
    this.build();
  }

  // ---- public API ----

  /** `async () => token`: called at start without a token, and on 401/403. */
  get tokenProvider() {
    return this._tokenProvider;
  }
  set tokenProvider(provider) {
    this._tokenProvider = typeof provider === 'function' ? provider : null;
    if (this.isConnected && !this.api) this.scheduleStart();
  }

  get token() {
    return this.getAttribute('token');
  }
  set token(value) {
    if (value) this.setAttribute('token', value);
    else this.removeAttribute('token');
  }

  /** The unread count (null before the first answer). */
  get count() {
    return this._count;
  }

  /** Whether this tab polls the bus for the others. */
  get isLeader() {
    return Boolean(this.bus && this.bus.leader);
  }

  /** `en` or `fr`: the attribute's, else the browser's language's. */
  get lang() {
    return pickLang(this.getAttribute('lang'), typeof navigator !== 'undefined' ? navigator.language : 'en');
  }
  set lang(value) {
    this.setAttribute('lang', value);
  }

  get htmlBodies() {
    return this.hasAttribute('html-bodies');
  }

  get baseUrl() {
    return (this.getAttribute('base-url') || location.origin).replace(/\/+$/, '');
  }

  open() {
    this.openPanel(false);
  }

  close() {
    this.closePanel(false);
  }

  /** Reads the inbox again. */
  refresh() {
    return this.resync();
  }

  // ---- lifecycle ----

  connectedCallback() {
    this.onDocumentPointer = (event) => {
      if (!this.panel.hidden && !event.composedPath().includes(this)) this.closePanel(false);
    };
    document.addEventListener('pointerdown', this.onDocumentPointer);
    this.clock = setInterval(() => refreshTimes(this.shadowRoot, this.lang), 30000);
    this.renderStrings();
    this.scheduleStart();
  }

  disconnectedCallback() {
    document.removeEventListener('pointerdown', this.onDocumentPointer);
    clearInterval(this.clock);
    document.documentElement.style.removeProperty('--herald-banner-height');
    this.stop();
  }

  attributeChangedCallback(name, before, after) {
    if (before === after) return;
    if (name === 'lang' || name === 'html-bodies') {
      this.renderStrings();
      this.nodes.clear();
      this.list.replaceChildren();
      // the banner and the modal are built again too (labels, body mode)
      this.bannerItem = null;
      this.render();
      this.showAlert(true);
    } else if (this.isConnected) {
      if (name === 'token') this._token = null;
      this.scheduleStart();
    }
  }

  scheduleStart() {
    if (this.startPending) return;
    this.startPending = true;
    queueMicrotask(() => {
      this.startPending = false;
      if (this.isConnected) this.start();
    });
  }

  stop() {
    if (this.bus) this.bus.stop();
    this.bus = null;
    this.api = null;
    this.uid = null;
    this.session = {};
  }

  /**
   * The provider gave a token of another user: nothing of this one's is kept
   * (inbox, count, toasts, bus) and the element starts again as that user.
   */
  switchUser() {
    this.stop();
    this.items = [];
    this.banners = [];
    this.alerts = [];
    this.next = null;
    this.loaded = false;
    for (const toast of [...this.toastList]) toast.close();
    this.setCount(null);
    this.render();
    this.scheduleStart();
  }

  async start() {
    this.stop();
    const session = (this.session = {});
    this.items = [];
    this.banners = [];
    this.alerts = [];
    this.next = null;
    this.loaded = false;
    this.setError(null);
    const tenant = this.getAttribute('tenant');
    if (!tenant) return;
    let token;
    try {
      token = await this.currentToken();
    } catch (e) {
      token = null;
    }
    if (session !== this.session) return;
    if (!token) return;
    const uid = tokenSubject(token);
    if (!uid) {
      this.fail(new HeraldError(401, 'invalid_token', 'the token has no subject'));
      return;
    }
    this.uid = uid;
    const base = this.baseUrl;
    this.api = new InboxApi({
      baseUrl: base,
      tenant,
      // once the session is over its requests get no token, least of all
      // the next user's
      token: () => (session === this.session ? this.currentToken() : null),
      // A token of another user is no token for this element's channels.
      refresh: async (stale) => {
        const fresh = await this.refreshToken(stale).catch(() => null);
        return fresh && tokenSubject(fresh) === uid ? fresh : null;
      },
    });
    this.bus = new SharedBus({
      key: `herald-bus:${base}|${tenant}|${uid}`,
      channels: [`notification:${uid}`, `user:${uid}`],
      poll: (last, channels, signal) => this.api.poll(last, channels, signal),
      onMessage: (channel, message, replay) => this.onBusMessage(channel, message, replay),
      onResync: () => this.resync(),
      onError: (error) => this.fail(error),
      onRole: (leader) => {
        this.dataset.bus = leader ? 'leader' : 'follower';
      },
    });
    this.bus.start();
    await this.resync();
  }

  async currentToken() {
    if (this._token) return this._token;
    const attribute = this.getAttribute('token');
    if (attribute) return (this._token = attribute);
    return this.refreshToken(null);
  }

  /**
   * A fresh token in place of `stale` (the one a refused request carried):
   * the one already fetched since, else one from the provider (one call at
   * a time), else null.
   */
  refreshToken(stale) {
    if (this._token && this._token !== stale) return Promise.resolve(this._token);
    if (!this._tokenProvider) return Promise.resolve(null);
    if (!this._refreshing) {
      this._refreshing = Promise.resolve()
        .then(() => this._tokenProvider())
        .then((token) => {
          this._token = token ? String(token) : null;
          // another user's token: start again as that user, never mixing
          if (this._token && this.uid && tokenSubject(this._token) !== this.uid) {
            this.switchUser();
            return null;
          }
          return this._token;
        })
        .finally(() => {
          this._refreshing = null;
        });
    }
    return this._refreshing;
  }

  // ---- reading the inbox ----

  /** Reads the unread items again (coalesced: one read at a time). */
  async resync() {
    if (!this.api) return;
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      let rereads = 0;
      do {
        this.resyncAgain = false;
        if (await this.readInbox(rereads >= MAX_REREADS)) rereads++;
        else rereads = 0;
      } while (this.resyncAgain && this.api);
    })().finally(() => {
      this.resyncing = null;
    });
    return this.resyncing;
  }

  /** One read; true when it was thrown away for a newer one (`apply`: never). */
  async readInbox(apply) {
    const api = this.api;
    const generation = this.generation;
    // the live changes while reading, to replay over the snapshot
    const seen = (this.seen = []);
    let page, banners, alerts, count;
    try {
      page = await api.list({ limit: FETCH_SIZE });
      if (page.next_cursor) {
        [banners, alerts, count] = await Promise.all([
          api.list({ channel: 'header_message', limit: FETCH_SIZE }).then((p) => p.items),
          api.list({ channel: 'alert', limit: FETCH_SIZE }).then((p) => p.items),
          this.countFrom(api, page.items.length, page.next_cursor),
        ]);
      } else {
        banners = page.items.filter((i) => i.channel === 'header_message');
        alerts = page.items.filter((i) => i.channel === 'alert');
        count = page.items.length;
      }
    } catch (error) {
      if (api === this.api) this.fail(error);
      return false;
    } finally {
      if (this.seen === seen) this.seen = null;
    }
    if (api !== this.api) return false;
    if (generation !== this.generation && !apply) {
      // a live message came while reading: read again, it may be newer
      this.resyncAgain = true;
      return true;
    }
    this.items = page.items.filter((i) => !i.read).sort(byNewest);
    this.next = page.next_cursor || null;
    this.banners = banners.filter((i) => !i.read).sort((a, b) => byNewest(b, a));
    this.alerts = alerts.filter((i) => !i.read).sort((a, b) => byNewest(b, a));
    // a stream of live changes: this snapshot with them over it (the count
    // then is the last message's; a mismatch reads again later)
    for (const message of seen) {
      this.applyChange(message);
      if (typeof message.count === 'number') count = message.count;
    }
    this.loaded = true;
    this.setError(null);
    this.setCount(count);
    this.render();
    this.dispatch('herald-ready', { count });
    return false;
  }

  async countFrom(api, counted, cursor) {
    for (let pages = 0; cursor && pages < MAX_COUNT_PAGES; pages++) {
      const page = await api.list({ limit: FETCH_SIZE, cursor });
      counted += page.items.length;
      cursor = page.next_cursor;
    }
    return counted;
  }

  async loadMore() {
    if (this.shown < this.items.length) {
      this.shown += PAGE_SIZE;
      this.render();
    }
    if (this.shown >= this.items.length && this.next && this.api) {
      const api = this.api;
      try {
        const page = await api.list({ limit: PAGE_SIZE, cursor: this.next });
        if (api !== this.api) return;
        for (const item of page.items) this.upsert(item);
        this.next = page.next_cursor || null;
      } catch (error) {
        this.fail(error);
      }
      this.render();
    }
  }

  // ---- live messages ----

  onBusMessage(channel, message, replay) {
    // replays (a cold start's catching up) are old: no toast, no item, no
    // count; the inbox is read when they are over
    if (replay || !message || typeof message !== 'object') return;
    if (channel.startsWith('user:')) {
      if (message.type === 'notification') this.toast(message);
      return;
    }
    if (message.type !== 'user-notification') return;
    this.generation++;
    if (this.seen) this.seen.push(message);
    for (const item of this.applyChange(message)) this.dispatch('herald-item', { item });
    if (typeof message.count === 'number') {
      this.setCount(message.count);
      // the count says more than the list holds though the list is whole:
      // something was missed, read again
      if (this.loaded && !this.next && message.count !== this.items.length) this.resync();
    }
    this.render();
  }

  /** Applies a `user-notification`'s items and change; its items. */
  applyChange(message) {
    const content = Array.isArray(message.content) ? message.content : [];
    for (const item of content) this.upsert(item);
    const change = message.change;
    if (change && typeof change === 'object') {
      const items = Array.isArray(change.items) ? change.items : [];
      const ids = Array.isArray(change.ids) ? change.ids.map(String) : [];
      switch (change.action) {
        case 'read':
        case 'postponed':
          for (const item of items) this.drop(item.id);
          for (const id of ids) this.drop(id);
          break;
        case 'deleted':
          for (const id of ids) this.drop(id);
          for (const item of items) this.drop(item.id);
          break;
        case 'read_all':
          this.items = [];
          this.banners = [];
          this.alerts = [];
          this.next = null;
          break;
        case 'due':
          for (const item of items) this.upsert(item);
          break;
        default:
          this.resync();
      }
    }
    return content;
  }

  /** Adds or updates an item (a read one goes). */
  upsert(item) {
    if (!item || item.id === undefined) return;
    item = { ...item, id: String(item.id) };
    if (item.read) {
      this.drop(item.id);
      return;
    }
    const replace = (list, newestFirst) => {
      const at = list.findIndex((i) => i.id === item.id);
      if (at >= 0) list[at] = item;
      else list.push(item);
      list.sort(newestFirst ? byNewest : (a, b) => byNewest(b, a));
    };
    replace(this.items, true);
    if (this.nodes.has(item.id)) {
      this.nodes.get(item.id).remove();
      this.nodes.delete(item.id);
    }
    if (item.channel === 'header_message') replace(this.banners, false);
    if (item.channel === 'alert') replace(this.alerts, false);
  }

  /** Removes an item from everything shown; whether it was there. */
  drop(id) {
    id = String(id);
    const before = this.items.length + this.banners.length + this.alerts.length;
    this.items = this.items.filter((i) => i.id !== id);
    this.banners = this.banners.filter((i) => i.id !== id);
    this.alerts = this.alerts.filter((i) => i.id !== id);
    return before !== this.items.length + this.banners.length + this.alerts.length;
  }

  setCount(count) {
    if (count === this._count) return;
    this._count = count;
    this.renderBell();
    this.dispatch('herald-count', { count });
  }

  // ---- actions ----

  async act(action, item, days) {
    if (!this.api) return;
    const api = this.api;
    try {
      if (action === 'read') await api.read(item.id);
      else if (action === 'postpone') await api.postpone(item.id, days || 7);
      else if (action === 'delete') await api.remove(item.id);
    } catch (error) {
      if (api !== this.api) return false;
      // already gone elsewhere: show what is
      if (error.status === 404) this.drop(item.id) && this.render();
      else this.fail(error);
      return false;
    }
    if (api !== this.api) return true;
    if (this.drop(item.id) && this._count) this.setCount(Math.max(0, this._count - 1));
    this.render();
    return true;
  }

  async markAllRead() {
    if (!this.api) return;
    try {
      await this.api.readAll();
    } catch (error) {
      this.fail(error);
      return;
    }
    this.items = [];
    this.banners = [];
    this.alerts = [];
    this.next = null;
    this.setCount(0);
    this.render();
  }

  // ---- errors and events ----

  fail(error) {
    const detail = { status: error.status ?? 0, error: error.error || 'error', message: error.message };
    this.dispatch('herald-error', detail);
    this.setError(error.isAuth ? t(this.lang, 'authError') : t(this.lang, 'error', { message: error.message }));
  }

  setError(text) {
    this.errorText = text;
    if (this.note) {
      this.note.textContent = text || '';
      this.note.hidden = !text;
    }
  }

  dispatch(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  // ---- the DOM ----

  build() {
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = CSS;
    this.badge = h('span', { className: 'badge', hidden: true, attrs: { 'aria-hidden': 'true', part: 'badge' } });
    this.bell = h(
      'button',
      {
        type: 'button',
        className: 'bell',
        attrs: { part: 'bell', 'aria-expanded': 'false', 'aria-controls': 'panel', 'aria-haspopup': 'dialog' },
        onclick: () => (this.panel.hidden ? this.openPanel(true) : this.closePanel(true)),
      },
      icon('bell'),
      this.badge,
    );
    this.panelTitle = h('h2', { id: 'panel-title', tabIndex: -1 });
    this.markAllButton = h('button', { type: 'button', className: 'btn', attrs: { 'data-action': 'read-all' }, onclick: () => this.markAllRead() });
    this.closeButton = h('button', { type: 'button', className: 'icon-btn', attrs: { 'data-action': 'close' }, onclick: () => this.closePanel(true) }, icon('close'));
    this.note = h('p', { className: 'note error', hidden: true, attrs: { role: 'status' } });
    this.list = h('ul', { className: 'list', attrs: { 'aria-labelledby': 'panel-title' } });
    this.empty = h('p', { className: 'empty', hidden: true });
    this.moreButton = h('button', { type: 'button', className: 'btn', attrs: { 'data-action': 'more' }, onclick: () => this.loadMore() });
    this.foot = h('div', { className: 'panel-foot', hidden: true }, this.moreButton);
    this.panel = h(
      'div',
      { className: 'panel', id: 'panel', hidden: true, attrs: { part: 'panel', role: 'dialog', 'aria-labelledby': 'panel-title' } },
      h('div', { className: 'panel-head' }, this.panelTitle, this.markAllButton, this.closeButton),
      this.note,
      this.list,
      this.empty,
      this.foot,
    );
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        this.closePanel(true);
      }
    });
    this.bell.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.panel.hidden) {
        event.preventDefault();
        this.closePanel(true);
      }
    });

    this.banner = h('div', { className: 'banner', hidden: true, attrs: { part: 'banner', role: 'region' } });
    this.bannerLive = h('div', { className: 'vh', attrs: { 'aria-live': 'polite' } });

    this.dialog = h('dialog', {
      className: 'alert',
      attrs: { part: 'alert', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'alert-title', 'aria-describedby': 'alert-body' },
    });
    this.dialog.addEventListener('cancel', (event) => event.preventDefault());
    this.dialog.addEventListener('close', () => {
      // closed without being acknowledged (Escape pressed twice): open again
      setTimeout(() => {
        if (this.current && !this.dialog.open && this.isConnected && this.alerts.some((i) => i.id === this.current.id)) {
          this.dialog.showModal();
          this.ackButton.focus();
        }
      }, 0);
    });
    this.dialog.addEventListener('keydown', (event) => this.trapFocus(event));

    this.polite = h('div', { attrs: { 'aria-live': 'polite', role: 'status' } });
    this.assertive = h('div', { attrs: { 'aria-live': 'assertive', role: 'alert' } });
    this.toasts = h('div', { className: 'toasts', attrs: { part: 'toasts' } }, this.assertive, this.polite);

    // the page may leave room for the banner: --herald-banner-height
    if (typeof ResizeObserver === 'function') {
      this.bannerSize = new ResizeObserver(() => this.publishBannerHeight());
      this.bannerSize.observe(this.banner);
    }

    root.append(style, this.bell, this.panel, this.banner, this.bannerLive, this.dialog, this.toasts);
  }

  renderStrings() {
    const lang = this.lang;
    this.panelTitle.textContent = t(lang, 'panelTitle');
    this.markAllButton.replaceChildren(icon('check'), t(lang, 'markAllRead'));
    this.closeButton.setAttribute('aria-label', t(lang, 'close'));
    this.empty.textContent = t(lang, 'empty');
    this.moreButton.textContent = t(lang, 'loadMore');
    this.banner.setAttribute('aria-label', t(lang, 'banner'));
    this.toasts.setAttribute('aria-label', t(lang, 'toasts'));
    this.polite.setAttribute('aria-label', t(lang, 'toasts'));
    this.assertive.setAttribute('aria-label', t(lang, 'toasts'));
    this.renderBell();
  }

  renderBell() {
    const lang = this.lang;
    const count = this._count;
    this.bell.setAttribute('aria-label', count === null ? t(lang, 'bell') : count ? t(lang, 'bellUnread', { n: count }) : t(lang, 'bellNone'));
    this.badge.textContent = count > 99 ? '99+' : String(count ?? '');
    this.badge.hidden = !count;
  }

  render() {
    this.renderList();
    this.renderBanner();
    this.showAlert();
  }

  renderList() {
    const lang = this.lang;
    const visible = this.items.slice(0, this.shown);
    const keep = new Set(visible.map((i) => i.id));
    const focused = this.shadowRoot.activeElement;
    const before = [...this.list.children];
    let lost = -1;
    for (const [id, node] of this.nodes) {
      if (keep.has(id)) continue;
      if (focused && node.contains(focused)) lost = before.indexOf(node);
      node.remove();
      this.nodes.delete(id);
    }
    let refocus = null;
    if (lost >= 0) {
      // the focused item went: the focus moves to the same action of the
      // nearest item that stays (after it, else before), else to the title
      const neighbour = before.slice(lost + 1).find((n) => n.isConnected) || before.slice(0, lost).reverse().find((n) => n.isConnected);
      refocus = (neighbour && neighbour.querySelector(`[data-action="${focused.getAttribute('data-action')}"]`)) || this.panelTitle;
    }
    visible.forEach((item, index) => {
      let node = this.nodes.get(item.id);
      if (!node) {
        node = listItem(lang, item, this.htmlBodies, (action, it, days) => this.act(action, it, days));
        this.nodes.set(item.id, node);
      }
      const at = this.list.children[index];
      if (at !== node) this.list.insertBefore(node, at || null);
    });
    this.list.hidden = visible.length === 0;
    this.empty.hidden = !this.loaded || visible.length > 0;
    this.foot.hidden = !(this.items.length > this.shown || this.next);
    const nothing = this.items.length === 0 && !this._count;
    // a button about to be disabled or hidden gives the focus to the title
    if (!refocus && ((nothing && focused === this.markAllButton) || (this.foot.hidden && focused === this.moreButton))) refocus = this.panelTitle;
    this.markAllButton.disabled = nothing;
    if (refocus && !this.panel.hidden) refocus.focus();
  }

  renderBanner() {
    const item = this.banners[0];
    if (!item) {
      // dismissed from the keyboard: the focus goes to the bell, not <body>
      if (this.banner.contains(this.shadowRoot.activeElement)) this.bell.focus();
      this.banner.hidden = true;
      this.banner.replaceChildren();
      this.bannerItem = null;
      return;
    }
    if (this.bannerItem && this.bannerItem.id === item.id) return;
    const hadFocus = this.banner.contains(this.shadowRoot.activeElement);
    this.bannerItem = item;
    this.banner.className = `banner st-${statusOf(item.status_type)}`;
    this.banner.replaceChildren(...bannerContent(this.lang, item, this.htmlBodies, () => this.act('read', item)));
    this.banner.hidden = false;
    this.bannerLive.textContent = `${t(this.lang, 'banner')}: ${item.title || ''}`;
    if (hadFocus) this.banner.querySelector('button').focus();
  }

  publishBannerHeight() {
    const height = this.banner.hidden || !this.isConnected ? 0 : this.banner.getBoundingClientRect().height;
    document.documentElement.style.setProperty('--herald-banner-height', `${Math.ceil(height)}px`);
  }

  /** Shows the oldest alert; `again`: build the one shown again (language, body mode). */
  showAlert(again = false) {
    const item = this.alerts[0];
    if (this.current && !this.alerts.some((i) => i.id === this.current.id)) {
      // read elsewhere
      this.current = null;
      if (this.dialog.open) this.dialog.close();
    }
    if (again) this.current = null;
    if (!item || this.current || !this.isConnected) return;
    this.current = item;
    const lang = this.lang;
    const status = statusOf(item.status_type);
    this.ackButton = h(
      'button',
      { type: 'button', className: 'btn primary', attrs: { 'data-action': 'acknowledge' }, onclick: () => this.acknowledge(item) },
      t(lang, 'acknowledge'),
    );
    this.dialog.className = `alert st-${status}`;
    this.dialog.replaceChildren(
      h(
        'div',
        { className: 'alert-inner' },
        h('div', { className: 'alert-head' }, statusMark(lang, status), h('h2', { className: 'title', id: 'alert-title' }, item.title || '')),
        bodyOf(item, this.htmlBodies, { id: 'alert-body' }),
        h('div', { className: 'alert-foot' }, this.ackButton),
      ),
    );
    if (!this.dialog.open) this.dialog.showModal();
    this.ackButton.focus();
  }

  async acknowledge(item) {
    this.ackButton.disabled = true;
    const done = await this.act('read', item);
    if (!done && this.ackButton) this.ackButton.disabled = false;
  }

  trapFocus(event) {
    if (event.key !== 'Tab') return;
    const focusables = [...this.dialog.querySelectorAll(FOCUSABLE)].filter((el) => !el.closest('[hidden]'));
    if (focusables.length === 0) return;
    const first = focusables[0];
    const last = focusables[focusables.length - 1];
    const active = this.shadowRoot.activeElement;
    if (event.shiftKey && (active === first || !this.dialog.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !this.dialog.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  }

  openPanel(focus) {
    this.panel.hidden = false;
    this.bell.setAttribute('aria-expanded', 'true');
    this.renderList();
    if (focus) (this.panel.querySelector(FOCUSABLE) || this.panelTitle).focus();
  }

  closePanel(focusBell) {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.bell.setAttribute('aria-expanded', 'false');
    if (focusBell) this.bell.focus();
  }

  toast(message) {
    const lang = this.lang;
    const priority = Math.min(3, Math.max(0, Number.isInteger(message.priority) ? message.priority : 1));
    const el = h('div', { className: `toast p${priority}`, attrs: { part: 'toast' } });
    let timer = null;
    const entry = { el };
    const close = (entry.close = () => {
      clearTimeout(timer);
      el.remove();
      this.toastList = this.toastList.filter((e) => e !== entry);
    });
    el.append(...toastContent(lang, message, priority, close));
    const ms = TOAST_MS[priority];
    const arm = () => {
      clearTimeout(timer);
      if (ms) timer = setTimeout(close, ms);
    };
    // a toast being read or used stays
    el.addEventListener('mouseenter', () => clearTimeout(timer));
    el.addEventListener('mouseleave', arm);
    el.addEventListener('focusin', () => clearTimeout(timer));
    el.addEventListener('focusout', arm);
    (priority >= 3 ? this.assertive : this.polite).append(el);
    this.toastList.push(entry);
    // at most MAX_TOASTS: the oldest goes first, unless it holds the focus
    const active = this.shadowRoot.activeElement;
    for (const old of this.toastList.filter((e) => !e.el.contains(active)).slice(0, Math.max(0, this.toastList.length - MAX_TOASTS))) old.close();
    arm();
    this.dispatch('herald-toast', { title: message.title, body: message.body, priority });
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('herald-notifications')) {
  customElements.define('herald-notifications', HeraldNotifications);
}

mountDemo();

export { InboxApi, HeraldError, tokenSubject, SharedBus };
