// The demo page's wiring (web/demo/index.html, served by herald-local at
// /ui/). It lives in the bundle because that page's Content-Security-Policy
// runs no inline script; it does nothing on any page whose <html> lacks
// `data-herald-demo`.
//
// /ui/?tenant=demo&lang=fr&theme=dark&html=1#token=<jwt>

const PAGE = {
  en: {
    title: 'Herald notification centre',
    intro: 'This page mounts the <herald-notifications> element for the tenant in the address (?tenant=) with the token in its fragment (#token=). Send a notification through the API and it shows here at once.',
    missing: 'Add ?tenant=<name> to the address and #token=<jwt> after it to sign in.',
    dark: 'Dark theme',
  },
  fr: {
    title: 'Centre de notifications Herald',
    intro: 'Cette page affiche l’élément <herald-notifications> pour le locataire de l’adresse (?tenant=) avec le jeton de son fragment (#token=). Envoyez une notification par l’API : elle s’affiche ici aussitôt.',
    missing: 'Ajoutez ?tenant=<nom> à l’adresse, puis #token=<jwt>, pour vous connecter.',
    dark: 'Thème sombre',
  },
};

export function mountDemo() {
  if (typeof document === 'undefined' || !document.documentElement.hasAttribute('data-herald-demo')) return;
  const ready = () => {
    const query = new URLSearchParams(location.search);
    const element = document.querySelector('herald-notifications');
    if (!element) return;
    const lang = query.get('lang') === 'fr' ? 'fr' : query.get('lang') === 'en' ? 'en' : null;
    const words = PAGE[lang || (navigator.language || '').slice(0, 2)] || PAGE.en;
    if (lang) {
      document.documentElement.lang = lang;
      element.setAttribute('lang', lang);
    }
    const text = (id, value) => {
      const el = document.getElementById(id);
      if (el) el.textContent = value;
    };
    text('demo-title', words.title);
    text('demo-intro', words.intro);
    text('theme-label', words.dark);
    document.title = words.title;

    // light or dark: the query, else the system's preference
    const toggle = document.getElementById('theme-toggle');
    const setTheme = (theme) => {
      document.documentElement.dataset.theme = theme;
      element.setAttribute('theme', theme);
      if (toggle) toggle.setAttribute('aria-pressed', String(theme === 'dark'));
    };
    const asked = query.get('theme');
    setTheme(asked === 'dark' || asked === 'light' ? asked : matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
    if (toggle) toggle.addEventListener('click', () => setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'));

    if (query.get('html') === '1') element.setAttribute('html-bodies', '');
    const tenant = query.get('tenant');
    const token = () => new URLSearchParams(location.hash.slice(1)).get('token');
    text('demo-status', tenant && token() ? '' : words.missing);
    element.setAttribute('base-url', location.origin);
    if (token()) element.setAttribute('token', token());
    if (tenant) element.setAttribute('tenant', tenant);
    addEventListener('hashchange', () => {
      if (token()) element.setAttribute('token', token());
    });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready, { once: true });
  else ready();
}
