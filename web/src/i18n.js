// Every string the element shows, in English and French. `{n}` and the like
// are filled by `t()`; a missing key falls back to English.
export const STRINGS = {
  en: {
    bell: 'Notifications',
    bellUnread: 'Notifications, {n} unread',
    bellNone: 'Notifications, none unread',
    panelTitle: 'Notifications',
    close: 'Close',
    markAllRead: 'Mark all read',
    markRead: 'Mark read',
    markReadOf: 'Mark read: {title}',
    postpone: 'Postpone',
    postponeOf: 'Postpone: {title}',
    postponeBy: 'Postpone by',
    postponeByOf: 'Postpone by, {title}',
    days1: '1 day',
    days7: '7 days',
    days30: '30 days',
    delete: 'Delete',
    deleteOf: 'Delete: {title}',
    loadMore: 'Load more',
    empty: 'No unread notifications',
    loading: 'Loading…',
    list: 'Unread notifications',
    dismiss: 'Dismiss',
    dismissOf: 'Dismiss: {title}',
    banner: 'Announcement',
    acknowledge: 'OK, understood',
    closeToast: 'Close notification',
    toasts: 'Messages',
    error: 'Herald could not be reached: {message}',
    authError: 'Your session has expired: reload the page to sign in again.',
    status_valid: 'Valid',
    status_success: 'Success',
    status_error: 'Error',
    status_invalid: 'Invalid',
    status_caution: 'Caution',
    status_neutral: 'Information',
    status_calendar: 'Calendar',
    priority0: 'Information',
    priority1: 'Information',
    priority2: 'Warning',
    priority3: 'Error',
  },
  fr: {
    bell: 'Notifications',
    bellUnread: 'Notifications, {n} non lues',
    bellNone: 'Notifications, aucune non lue',
    panelTitle: 'Notifications',
    close: 'Fermer',
    markAllRead: 'Tout marquer comme lu',
    markRead: 'Marquer comme lu',
    markReadOf: 'Marquer comme lu : {title}',
    postpone: 'Reporter',
    postponeOf: 'Reporter : {title}',
    postponeBy: 'Reporter de',
    postponeByOf: 'Reporter de, {title}',
    days1: '1 jour',
    days7: '7 jours',
    days30: '30 jours',
    delete: 'Supprimer',
    deleteOf: 'Supprimer : {title}',
    loadMore: 'Afficher plus',
    empty: 'Aucune notification non lue',
    loading: 'Chargement…',
    list: 'Notifications non lues',
    dismiss: 'Masquer',
    dismissOf: 'Masquer : {title}',
    banner: 'Annonce',
    acknowledge: 'J’ai compris',
    closeToast: 'Fermer la notification',
    toasts: 'Messages',
    error: 'Herald est injoignable : {message}',
    authError: 'Votre session a expiré : rechargez la page pour vous reconnecter.',
    status_valid: 'Valide',
    status_success: 'Succès',
    status_error: 'Erreur',
    status_invalid: 'Invalide',
    status_caution: 'Attention',
    status_neutral: 'Information',
    status_calendar: 'Agenda',
    priority0: 'Information',
    priority1: 'Information',
    priority2: 'Avertissement',
    priority3: 'Erreur',
  },
};

export const LANGS = Object.keys(STRINGS);

/** `en` or `fr`: the attribute if it names one, else the browser's language. */
export function pickLang(attribute, navigatorLanguage) {
  for (const candidate of [attribute, navigatorLanguage]) {
    const short = String(candidate || '').toLowerCase().split(/[-_]/)[0];
    if (LANGS.includes(short)) return short;
  }
  return 'en';
}

export function t(lang, key, vars) {
  const table = STRINGS[lang] || STRINGS.en;
  let text = table[key] ?? STRINGS.en[key] ?? key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : ''));
  return text;
}

/** "3 minutes ago" / "il y a 3 minutes". */
export function relativeTime(lang, ms, now = Date.now()) {
  const seconds = Math.round((ms - now) / 1000);
  const units = [
    ['year', 31536000],
    ['month', 2592000],
    ['week', 604800],
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ];
  const format = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(Math.abs(seconds) < 10 ? 0 : seconds, 'second');
}

export function fullDate(lang, ms) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeStyle: 'short' }).format(new Date(ms));
}
