// Herald's HTTP API as the element uses it: the caller's inbox and the bus.

export class HeraldError extends Error {
  constructor(status, error, message) {
    super(message || error || `HTTP ${status}`);
    this.name = 'HeraldError';
    this.status = status;
    this.error = error || 'network';
  }
  get isAuth() {
    return this.status === 401 || this.status === 403;
  }
}

/** The `sub` claim of a JWT (read, not verified: the server verifies). */
export function tokenSubject(token) {
  try {
    const part = String(token).split('.')[1];
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const json = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const sub = JSON.parse(json).sub;
    return sub === undefined || sub === null ? null : String(sub);
  } catch {
    return null;
  }
}

export class InboxApi {
  /**
   * @param {{baseUrl: string, tenant: string, token: () => Promise<string>, refresh: () => Promise<string|null>}} options
   * `token()` gives the current token; `refresh()` a new one after a 401/403
   * (null when there is none to be had).
   */
  constructor({ baseUrl, tenant, token, refresh }) {
    this.root = `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(tenant)}`;
    this.token = token;
    this.refresh = refresh;
  }

  async request(method, path, body, { signal, retry = true } = {}) {
    const token = await this.token();
    if (!token) throw new HeraldError(401, 'unauthorized', 'no token');
    const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(this.root + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new HeraldError(0, 'network', e && e.message);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
    }
    if (response.ok) return data;
    const error = new HeraldError(response.status, data && data.error, data && data.message);
    if (error.isAuth && retry) {
      const fresh = await this.refresh(token);
      if (fresh && fresh !== token) return this.request(method, path, body, { signal, retry: false });
    }
    throw error;
  }

  list({ state, channel, cursor, limit } = {}) {
    const query = new URLSearchParams();
    if (state) query.set('state', state);
    if (channel) query.set('channel', channel);
    if (cursor) query.set('cursor', cursor);
    if (limit) query.set('limit', String(limit));
    const text = query.toString();
    return this.request('GET', `/inbox${text ? `?${text}` : ''}`);
  }

  get(id) {
    return this.request('GET', `/inbox/${encodeURIComponent(id)}`);
  }

  read(id) {
    return this.request('POST', `/inbox/${encodeURIComponent(id)}/read`, {});
  }

  readAll() {
    return this.request('POST', '/inbox/read-all', {});
  }

  postpone(id, days) {
    return this.request('POST', `/inbox/${encodeURIComponent(id)}/postpone`, { days });
  }

  remove(id) {
    return this.request('DELETE', `/inbox/${encodeURIComponent(id)}`);
  }

  /** One long poll (Tryton's bus): `{channel, message}`, both null after the wait. */
  poll(lastMessage, channels, signal) {
    return this.request('POST', '/bus', { last_message: lastMessage ?? null, channels }, { signal });
  }
}
