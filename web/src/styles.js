// The element's styles (in its shadow root). Everything a host may want to
// change is a CSS custom property set on `herald-notifications` (or above
// it); the light values are the defaults, the dark ones apply under
// `prefers-color-scheme: dark` unless `theme="light"`, or with `theme="dark"`.

const LIGHT = `
  --_bg: var(--herald-bg, #ffffff);
  --_fg: var(--herald-fg, #1b1f24);
  --_muted: var(--herald-muted, #57606a);
  --_border: var(--herald-border, #d0d7de);
  --_surface: var(--herald-surface, #f6f8fa);
  --_accent: var(--herald-accent, #0b5cad);
  --_accent-fg: var(--herald-accent-fg, #ffffff);
  --_badge-bg: var(--herald-badge-bg, #c4161c);
  --_badge-fg: var(--herald-badge-fg, #ffffff);
  --_success: var(--herald-success, #1a7f37);
  --_error: var(--herald-error, #cf222e);
  --_caution: var(--herald-caution, #9a6700);
  --_neutral: var(--herald-neutral, #6e7781);
  --_calendar: var(--herald-calendar, #0969da);
  --_shadow: var(--herald-shadow, 0 8px 24px rgba(27, 31, 36, 0.18));
`;

const DARK = `
  --_bg: var(--herald-bg, #1e2227);
  --_fg: var(--herald-fg, #e6e8eb);
  --_muted: var(--herald-muted, #a8b0b9);
  --_border: var(--herald-border, #444c56);
  --_surface: var(--herald-surface, #2a3038);
  --_accent: var(--herald-accent, #7ab7ff);
  --_accent-fg: var(--herald-accent-fg, #0d1117);
  --_badge-bg: var(--herald-badge-bg, #ff7b72);
  --_badge-fg: var(--herald-badge-fg, #0d1117);
  --_success: var(--herald-success, #56d364);
  --_error: var(--herald-error, #ff7b72);
  --_caution: var(--herald-caution, #e3b341);
  --_neutral: var(--herald-neutral, #9ea7b3);
  --_calendar: var(--herald-calendar, #79c0ff);
  --_shadow: var(--herald-shadow, 0 8px 24px rgba(0, 0, 0, 0.55));
`;

export const CSS = `
:host {
  ${LIGHT}
  --_radius: var(--herald-radius, 8px);
  --_font: var(--herald-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  --_z: var(--herald-z-index, 1000);
  display: inline-block;
  position: relative;
  font-family: var(--_font);
  font-size: var(--herald-font-size, 14px);
  line-height: 1.4;
  color: var(--_fg);
}
:host([hidden]) { display: none; }
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"])) { ${DARK} }
}
:host([theme="dark"]) { ${DARK} }

*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.vh {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
button, select {
  font: inherit; color: inherit;
}
button { cursor: pointer; }
:focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }

.btn {
  display: inline-flex; align-items: center; gap: .3em;
  border: 1px solid var(--_border); border-radius: 6px;
  background: var(--_bg); color: var(--_fg);
  padding: .25em .6em; font-size: .9em;
}
.btn:hover { border-color: var(--_accent); }
.btn.primary { background: var(--_accent); color: var(--_accent-fg); border-color: var(--_accent); }
.btn.link { border-color: transparent; background: transparent; color: var(--_accent); text-decoration: underline; }
.icon-btn {
  display: inline-grid; place-items: center; border: 1px solid transparent; background: transparent;
  color: inherit; border-radius: 6px; width: 2em; height: 2em; padding: 0;
}
.icon-btn:hover { border-color: var(--_border); }
svg { width: 1.25em; height: 1.25em; flex: none; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }

/* the bell */
.bell {
  position: relative; display: inline-grid; place-items: center;
  width: 2.6em; height: 2.6em; border-radius: 50%;
  border: 1px solid var(--_border); background: var(--_bg); color: var(--_fg);
}
.bell svg { width: 1.4em; height: 1.4em; }
.bell[aria-expanded="true"] { border-color: var(--_accent); }
.badge {
  position: absolute; top: -.35em; inset-inline-end: -.35em;
  min-width: 1.5em; height: 1.5em; padding: 0 .35em; border-radius: .75em;
  background: var(--_badge-bg); color: var(--_badge-fg);
  font-size: .75em; font-weight: 700; line-height: 1.5em; text-align: center;
}

/* the list */
.panel {
  position: absolute; top: calc(100% + .5em); inset-inline-end: 0; z-index: var(--_z);
  width: min(27rem, calc(100vw - 1rem)); max-height: min(34rem, 75vh);
  display: flex; flex-direction: column;
  background: var(--_bg); color: var(--_fg);
  border: 1px solid var(--_border); border-radius: var(--_radius); box-shadow: var(--_shadow);
}
.panel-head {
  display: flex; align-items: center; gap: .5em; padding: .6em .75em;
  border-bottom: 1px solid var(--_border);
}
.panel-head h2 { font-size: 1em; margin: 0; flex: 1; }
.list { list-style: none; margin: 0; padding: 0; overflow-y: auto; flex: 1; }
.item {
  display: grid; grid-template-columns: auto 1fr; gap: .25em .6em;
  padding: .7em .75em; border-bottom: 1px solid var(--_border);
}
.item:last-child { border-bottom: 0; }
.item .status { grid-row: span 4; padding-top: .1em; }
.title { font-weight: 600; margin: 0; font-size: 1em; overflow-wrap: anywhere; }
.body { overflow-wrap: anywhere; white-space: pre-line; }
.body.html { white-space: normal; }
.body a { color: var(--_accent); }
.body img { max-width: 100%; height: auto; }
.meta { color: var(--_muted); font-size: .85em; }
.actions { display: flex; flex-wrap: wrap; gap: .4em; align-items: center; margin-top: .3em; }
.actions .icon-btn { margin-inline-start: auto; color: var(--_muted); }
.actions select {
  border: 1px solid var(--_border); border-radius: 6px; background: var(--_bg); padding: .2em .3em; font-size: .9em;
}
.panel-foot { padding: .5em .75em; border-top: 1px solid var(--_border); text-align: center; }
.empty, .note { padding: 1.25em .75em; color: var(--_muted); text-align: center; margin: 0; }
.note.error { color: var(--_error); }

/* status colours */
.st-valid, .st-success { color: var(--_success); }
.st-error, .st-invalid { color: var(--_error); }
.st-caution { color: var(--_caution); }
.st-neutral { color: var(--_neutral); }
.st-calendar { color: var(--_calendar); }

/* the banner */
.banner {
  position: fixed; top: 0; left: 0; right: 0; z-index: calc(var(--_z) + 1);
  display: flex; align-items: flex-start; gap: .75em;
  padding: .75em 1em; background: var(--_surface); color: var(--_fg);
  border-bottom: 1px solid var(--_border); border-inline-start: 6px solid currentColor;
  box-shadow: var(--_shadow);
}
.banner > .status { padding-top: .1em; }
.banner-text { flex: 1; color: var(--_fg); }
.banner-text .title { margin-bottom: .15em; }

/* the modal */
dialog.alert {
  width: min(32rem, calc(100vw - 2rem)); padding: 0; border: 1px solid var(--_border);
  border-radius: var(--_radius); background: var(--_bg); color: var(--_fg); box-shadow: var(--_shadow);
  border-top: 6px solid currentColor;
}
dialog.alert::backdrop { background: rgba(0, 0, 0, .5); }
.alert-inner { padding: 1em 1.25em; color: var(--_fg); }
.alert-head { display: flex; gap: .6em; align-items: flex-start; }
.alert-head .title { font-size: 1.15em; }
.alert .body { margin: .75em 0 1em; max-height: 50vh; overflow-y: auto; }
.alert-foot { display: flex; justify-content: flex-end; gap: .5em; }

/* toasts */
.toasts {
  position: fixed; bottom: 1em; inset-inline-end: 1em; z-index: calc(var(--_z) + 2);
  display: flex; flex-direction: column; gap: .5em; width: min(22rem, calc(100vw - 2em));
  pointer-events: none;
}
.toast {
  pointer-events: auto; display: flex; gap: .6em; align-items: flex-start;
  padding: .7em .8em; border-radius: var(--_radius); background: var(--_bg); color: var(--_fg);
  border: 1px solid var(--_border); border-inline-start: 6px solid currentColor; box-shadow: var(--_shadow);
}
.toast .toast-text { flex: 1; color: var(--_fg); }
.toast.p0, .toast.p1 { color: var(--_calendar); }
.toast.p2 { color: var(--_caution); }
.toast.p3 { color: var(--_error); }
`;
