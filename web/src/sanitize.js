// `body_html` is shown only through DOMPurify (an instance of our own, so a
// host's DOMPurify and its hooks are left alone): no script, style, frame,
// form or foreign content, no event handler, no `javascript:` URL; every link
// opens in a new tab without an opener or referrer.
import createDOMPurify from 'dompurify';

let purifier = null;

function instance() {
  if (purifier) return purifier;
  purifier = createDOMPurify(window);
  purifier.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      if (node.hasAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      } else {
        node.removeAttribute('target');
      }
    }
  });
  return purifier;
}

const CONFIG = {
  RETURN_DOM_FRAGMENT: true,
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'form', 'input', 'button', 'select', 'option', 'textarea', 'link', 'meta', 'base', 'template', 'dialog'],
  FORBID_ATTR: ['style', 'id', 'name', 'tabindex', 'autofocus', 'srcset', 'formaction'],
  ALLOW_DATA_ATTR: false,
};

/** A fragment of what DOMPurify keeps of `html`. */
export function sanitize(html) {
  return instance().sanitize(String(html), CONFIG);
}
