// Runs the real Tryton web client's bus (tryton-sao's src/bus.js, unchanged)
// under jsdom against a Herald gateway. sao sends no Authorization header: it
// relies on the session cookie, so the page is opened on the gateway's origin
// with `tryton_session=login:uid:token`.
//
// Prints `ready <client-id>` once listening, then one JSON line per message.
// usage: node sao_bus.mjs <base-url> <database> <login> <uid> <token> [channel ...]
// (the channels after the token are listened to as well)
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { JSDOM } from 'jsdom';

const require = createRequire(import.meta.url);
const [baseUrl, database, login, uid, token, ...channels] = process.argv.slice(2);
const origin = baseUrl.replace(/\/$/, '') + '/';

const dom = new JSDOM('<!doctype html><html><body></body></html>', {
  url: origin,
  runScripts: 'outside-only',
});
const { window } = dom;
window.document.cookie = `tryton_session=${login}:${uid}:${token}; path=/`;
window.eval(readFileSync(require.resolve('jquery/dist/jquery.js'), 'utf8'));

// The parts of sao that bus.js uses.
window.__uuid4 = randomUUID;
window.eval(`
  window.Sao = {
    common: { uuid4: () => window.__uuid4() },
    config: { bus_timeout: 60 * 1000 },
    Logger: { info() {}, error(...args) { console.error('sao:', ...args); } },
    Session: { current_session: null },
  };
  // No desktop notifications in jsdom: sao's own popup then does nothing.
  window.Notification = { permission: 'denied' };
`);
window.eval(readFileSync(require.resolve('tryton-sao/src/bus.js'), 'utf8'));

const Sao = window.Sao;
Sao.Session.current_session = { database, bus_url_host: origin };
const handled = (channel) => (message) => {
  process.stdout.write(JSON.stringify({ channel, message }) + '\n');
};
Sao.Bus.register(`client:${Sao.Bus.id}`, handled(`client:${Sao.Bus.id}`));
Sao.Bus.register(`user:${uid}`, handled(`user:${uid}`));
for (const channel of channels) {
  Sao.Bus.register(channel, handled(channel));
}
Sao.Bus.listen();
process.stdout.write(`ready ${Sao.Bus.id}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
