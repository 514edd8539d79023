// One long poll per browser: the tabs showing the same Herald, tenant and
// user elect a leader with the Web Locks API; the leader polls the bus and
// relays each message over a BroadcastChannel; the followers only listen.
// When the leader's tab closes its lock is released and a waiting tab takes
// over, carrying on from the last message id any tab saw (kept in
// localStorage) and re-reading the inbox, in case something fell between.

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;
// Herald keeps bus messages 5 minutes: an older cursor is worth no more
// than none, and none is safer after a server's restart.
const CURSOR_LIFETIME_MS = 4 * 60 * 1000;

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class SharedBus {
  /**
   * @param {object} o
   * @param {string} o.key the lock's and the channel's name
   * @param {string[]} o.channels the bus channels to poll
   * @param {(last: string|null, channels: string[], signal: AbortSignal) => Promise<{channel: string|null, message: object|null}>} o.poll
   * @param {(channel: string, message: object) => void} o.onMessage
   * @param {() => void} o.onResync the inbox may have changed unseen
   * @param {(error: Error) => void} o.onError
   * @param {(error: Error) => Promise<boolean>} o.onAuthError true when a new token is there
   * @param {(leader: boolean) => void} [o.onRole]
   */
  constructor(o) {
    Object.assign(this, o);
    this.abort = new AbortController();
    this.leader = false;
    this.storageKey = `${o.key}:last`;
  }

  start() {
    const signal = this.abort.signal;
    this.startedAt = Date.now();
    if (typeof BroadcastChannel === 'function') {
      this.relay = new BroadcastChannel(this.key);
      this.relay.onmessage = (event) => this.receive(event.data);
    }
    const locks = typeof navigator !== 'undefined' && navigator.locks;
    if (locks && this.relay) {
      locks.request(this.key, { signal }, () => this.lead()).catch(() => {});
    } else {
      this.lead();
    }
    if (this.onRole) this.onRole(false);
  }

  stop() {
    this.abort.abort();
    if (this.relay) this.relay.close();
    this.relay = null;
  }

  receive(data) {
    if (!data || this.leader) return;
    if (data.type === 'message') this.onMessage(data.channel, data.message);
    else if (data.type === 'resync') this.onResync();
  }

  broadcast(data) {
    try {
      if (this.relay) this.relay.postMessage(data);
    } catch {
      // a closed channel: this tab is going away
    }
  }

  loadCursor() {
    try {
      const saved = JSON.parse(localStorage.getItem(this.storageKey) || 'null');
      if (saved && typeof saved.id === 'string' && Date.now() - saved.at < CURSOR_LIFETIME_MS) return saved.id;
    } catch {
      // no storage: start from what the bus keeps
    }
    return null;
  }

  saveCursor(id) {
    try {
      if (id) localStorage.setItem(this.storageKey, JSON.stringify({ id, at: Date.now() }));
    } catch {
      // no storage
    }
  }

  /** Runs while this tab holds the lock; returning releases it. */
  async lead() {
    const signal = this.abort.signal;
    if (signal.aborted) return;
    this.leader = true;
    if (this.onRole) this.onRole(true);
    let last = this.loadCursor();
    let backoff = 0;
    // A new leader may follow another: what happened in between is read
    // again (a tab that just started has just read it).
    if (Date.now() - this.startedAt > 1500) this.resyncAll();
    while (!signal.aborted) {
      try {
        const answer = await this.poll(last, this.channels, signal);
        if (signal.aborted) break;
        if (backoff) {
          backoff = 0;
          this.resyncAll();
        }
        const message = answer && answer.message;
        if (message && answer.channel) {
          if (typeof message.message_id === 'string') last = message.message_id;
          this.saveCursor(last);
          this.broadcast({ type: 'message', channel: answer.channel, message });
          this.onMessage(answer.channel, message);
        } else {
          this.saveCursor(last);
        }
      } catch (error) {
        if (signal.aborted) break;
        if (error && error.isAuth) {
          if (await this.onAuthError(error)) continue;
          break;
        }
        this.onError(error);
        backoff = backoff ? Math.min(backoff * 2, MAX_BACKOFF_MS) : FIRST_BACKOFF_MS;
        await sleep(backoff, signal);
      }
    }
    this.leader = false;
  }

  resyncAll() {
    this.broadcast({ type: 'resync' });
    this.onResync();
  }
}
