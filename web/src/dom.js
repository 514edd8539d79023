// Small DOM helpers: elements are built with properties and text nodes,
// never from HTML strings.

const CIRCLE = 'M22 12a10 10 0 1 1-20 0a10 10 0 1 1 20 0';

export const ICONS = {
  bell: ['M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9', 'M13.73 21a2 2 0 0 1-3.46 0'],
  ok: [CIRCLE, 'M8 12l3 3 5-6'],
  bad: [CIRCLE, 'M15 9l-6 6M9 9l6 6'],
  caution: ['M10.29 3.86L1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z', 'M12 9v4M12 17h.01'],
  info: [CIRCLE, 'M12 16v-4M12 8h.01'],
  calendar: ['M3 6a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z', 'M16 2v4M8 2v4M3 10h18'],
  close: ['M18 6L6 18M6 6l12 12'],
  check: ['M20 6L9 17l-5-5'],
  trash: ['M3 6h18', 'M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6', 'M10 11v6M14 11v6', 'M9 6V4a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v2'],
  clock: [CIRCLE, 'M12 7v5l3 2'],
};

/** The icon and the colour class of each `status_type`. */
export const STATUS = {
  valid: 'ok',
  success: 'ok',
  error: 'bad',
  invalid: 'bad',
  caution: 'caution',
  neutral: 'info',
  calendar: 'calendar',
};

export function statusOf(type) {
  return Object.prototype.hasOwnProperty.call(STATUS, type) ? type : 'neutral';
}

const SVG = 'http://www.w3.org/2000/svg';

export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of ICONS[name] || ICONS.info) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

/**
 * `h('button', {className: 'btn', onclick}, 'text', child)`: keys starting
 * with `on` are listeners, `attrs` sets attributes, anything else is a
 * property. Strings become text nodes.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null) continue;
      if (key === 'attrs') {
        for (const [name, v] of Object.entries(value)) if (v !== undefined && v !== null && v !== false) el.setAttribute(name, v === true ? '' : String(v));
      } else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2), value);
      } else {
        el[key] = value;
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

export const FOCUSABLE = 'a[href], button:not([disabled]), select:not([disabled]), input:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
