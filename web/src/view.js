// Builders for the parts the element shows: a list item, the banner's and
// the modal's content, a toast. Server strings go in as text (textContent
// through text nodes); an HTML body only through the sanitiser.
import { h, icon, STATUS, statusOf } from './dom.js';
import { t, relativeTime, fullDate } from './i18n.js';
import { sanitize } from './sanitize.js';

/** The status icon (coloured) with its name for screen readers. */
export function statusMark(lang, type) {
  const status = statusOf(type);
  return h('span', { className: `status st-${status}` }, icon(STATUS[status]), h('span', { className: 'vh' }, t(lang, `status_${status}`)));
}

/** The body: sanitised HTML when allowed and present, else text. */
export function bodyOf(item, htmlBodies, props = {}) {
  const html = htmlBodies && typeof item.body_html === 'string' && item.body_html.trim() !== '';
  const el = h('div', { ...props, className: html ? 'body html' : 'body' });
  if (html) el.append(sanitize(item.body_html));
  else el.textContent = item.body || '';
  return el;
}

export function timeOf(lang, ms) {
  const date = new Date(ms);
  const el = h('time', { dateTime: date.toISOString(), title: fullDate(lang, ms) }, relativeTime(lang, ms));
  el.dataset.ms = String(ms);
  return el;
}

export function refreshTimes(root, lang) {
  for (const el of root.querySelectorAll('time[data-ms]')) el.textContent = relativeTime(lang, Number(el.dataset.ms));
}

/**
 * One item of the bell's list, with its actions.
 * `act(action, item, days?)`: 'read', 'postpone', 'delete'.
 */
export function listItem(lang, item, htmlBodies, act) {
  const title = item.title || '';
  const titleId = `t-${cssId(item.id)}`;
  const days = h(
    'select',
    { attrs: { 'aria-label': t(lang, 'postponeByOf', { title }) } },
    h('option', { value: '1' }, t(lang, 'days1')),
    h('option', { value: '7', selected: true }, t(lang, 'days7')),
    h('option', { value: '30' }, t(lang, 'days30')),
  );
  const li = h(
    'li',
    { className: 'item', attrs: { part: 'item', 'aria-labelledby': titleId } },
    statusMark(lang, item.status_type),
    h('h3', { className: 'title', id: titleId }, title),
    bodyOf(item, htmlBodies),
    h(
      'div',
      { className: 'meta' },
      timeOf(lang, item.created_at),
    ),
    h(
      'div',
      { className: 'actions' },
      h('button', { type: 'button', className: 'btn', attrs: { 'aria-label': t(lang, 'markReadOf', { title }), 'data-action': 'read' }, onclick: () => act('read', item) }, icon('check'), t(lang, 'markRead')),
      days,
      h('button', { type: 'button', className: 'btn', attrs: { 'aria-label': t(lang, 'postponeOf', { title }), 'data-action': 'postpone' }, onclick: () => act('postpone', item, Number(days.value)) }, icon('clock'), t(lang, 'postpone')),
      h('button', { type: 'button', className: 'icon-btn', title: t(lang, 'delete'), attrs: { 'aria-label': t(lang, 'deleteOf', { title }), 'data-action': 'delete' }, onclick: () => act('delete', item) }, icon('trash')),
    ),
  );
  li.dataset.id = item.id;
  return li;
}

/** The banner's content for `item`; `dismiss()` marks it read. */
export function bannerContent(lang, item, htmlBodies, dismiss) {
  const status = statusOf(item.status_type);
  return [
    statusMark(lang, status),
    h('div', { className: 'banner-text' }, h('p', { className: 'title' }, item.title || ''), bodyOf(item, htmlBodies)),
    h(
      'button',
      { type: 'button', className: 'btn', attrs: { 'aria-label': t(lang, 'dismissOf', { title: item.title || '' }), 'data-action': 'dismiss' }, onclick: dismiss },
      icon('close'),
      t(lang, 'dismiss'),
    ),
  ];
}

const TOAST_ICON = ['info', 'info', 'caution', 'bad'];

/** A toast for a Tryton `notify` message; `close()` removes it. */
export function toastContent(lang, message, priority, close) {
  return [
    h('span', { className: 'status' }, icon(TOAST_ICON[priority]), h('span', { className: 'vh' }, `${t(lang, `priority${priority}`)}: `)),
    h(
      'div',
      { className: 'toast-text' },
      h('p', { className: 'title' }, String(message.title ?? '')),
      message.body ? h('div', { className: 'body' }, String(message.body)) : null,
    ),
    h('button', { type: 'button', className: 'icon-btn', attrs: { 'aria-label': t(lang, 'closeToast'), 'data-action': 'close' }, onclick: close }, icon('close')),
  ];
}

function cssId(id) {
  return String(id).replace(/[^A-Za-z0-9_-]/g, '_');
}
