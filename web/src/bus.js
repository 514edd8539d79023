// One long poll per browser: the tabs showing the same Herald, tenant and
// user elect a leader with the Web Locks API; the leader polls the bus and
// relays each message over a BroadcastChannel; the followers only listen.
// When the leader's tab closes its lock is released and a waiting tab takes
// over, carrying on from the last message id any tab saw (kept in
// localStorage, however old: a stale cursor resumes where it was, which is
// never worse than none) and re-reading the inbox, in case something fell
// between.
//
// Without any cursor Herald answers with every message it still keeps (the
// last minutes'): the leader is then "catching up", and what the poll
// returns is a replay, passed on marked as such (`onMessage(.., true)`),
// not relayed. The phase ends at the first answer that waited (no message,
// or one that took a second or more); then every tab reads the inbox again.

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;
const WAITED_MS = 1000;

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
   * @param {(channel: string, message: object, replay: boolean) => void} o.onMessage
   *   `replay`: an old message, got while catching up (only the leader has them)
   * @param {() => void} o.onResync the inbox may have changed unseen
   * @param {(error: Error) => void} o.onError a poll failed (auth included): the poll is tried again, backing off
   * @param {(leader: boolean) => void} [o.onRole]
   */
  constructor(o) {
    Object.assign(this, o);
    this.abort = new AbortController();
    this.leader = false;
    this.catchingUp = false;
    this.storageKey = `${o.key}:last`;
  }

  start() {
    const signal = this.abort.signal;
    this.startedAt = Date.now();
    if (typeof BroadcastChannel === 'function') {
      this.relay = new BroadcastChannel(this.key);
      this.relay.onmessage = (event) => this.receive(event.data);
    }
    if (this.onRole) this.onRole(false);
    const locks = typeof navigator !== 'undefined' && navigator.locks;
    if (locks && this.relay) {
      locks.request(this.key, { signal }, () => this.lead()).catch(() => {});
    } else {
      this.lead();
    }
  }

  stop() {
    this.abort.abort();
    if (this.relay) this.relay.close();
    this.relay = null;
  }

  receive(data) {
    if (!data || this.leader) return;
    if (data.type === 'message') this.onMessage(data.channel, data.message, false);
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
      if (saved && typeof saved.id === 'string') return saved.id;
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
    this.catchingUp = !last;
    let backoff = 0;
    // A new leader may follow another: what happened in between is read
    // again (a tab that just started has just read it).
    if (Date.now() - this.startedAt > 1500) this.resyncAll();
    while (!signal.aborted) {
      try {
        const asked = Date.now();
        const answer = await this.poll(last, this.channels, signal);
        if (signal.aborted) break;
        const message = answer && answer.message;
        let resync = backoff > 0;
        backoff = 0;
        const replay = this.catchingUp && Boolean(message) && Date.now() - asked < WAITED_MS;
        if (this.catchingUp && !replay) {
          this.catchingUp = false;
          resync = true;
        }
        if (message && answer.channel) {
          if (typeof message.message_id === 'string') last = message.message_id;
          this.saveCursor(last);
          if (!replay) this.broadcast({ type: 'message', channel: answer.channel, message });
          this.onMessage(answer.channel, message, replay);
        } else {
          this.saveCursor(last);
        }
        if (resync) this.resyncAll();
      } catch (error) {
        if (signal.aborted) break;
        // a refusal too: the API asked the tokenProvider already and will
        // again on the next try
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
