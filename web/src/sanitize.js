// `body_html` is shown only through DOMPurify (an instance of our own, so a
// host's DOMPurify and its hooks are left alone): no script, style, frame,
// form or foreign content, no event handler; no `class`, `id` or `style`
// (the markup sits in the element's shadow root, under its CSS: it must not
// dress up as its buttons or overlays); no remote resource (an image only
// from a `data:` URL, nothing fetched to report a read); links only to
// http(s) and mailto, each opening in a new tab without opener or referrer.
import createDOMPurify from 'dompurify';

let purifier = null;

const LINK = /^(https?:|mailto:)/i;
const FETCHED = new Set(['src', 'srcset', 'poster', 'background', 'lowsrc', 'dynsrc', 'cite', 'longdesc', 'ping', 'action', 'formaction', 'xlink:href']);

function instance() {
  if (purifier) return purifier;
  purifier = createDOMPurify(window);
  purifier.addHook('uponSanitizeAttribute', (node, data) => {
    const name = data.attrName;
    const value = String(data.attrValue || '').trim();
    if (name === 'href') data.keepAttr = node.nodeName === 'A' && LINK.test(value);
    else if (FETCHED.has(name)) data.keepAttr = name === 'src' && /^data:/i.test(value);
  });
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
  FORBID_TAGS: ['script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'form', 'input', 'button', 'select', 'option', 'textarea', 'link', 'meta', 'base', 'template', 'dialog', 'audio', 'video', 'source', 'track', 'picture'],
  FORBID_ATTR: ['class', 'style', 'id', 'name', 'tabindex', 'autofocus', 'srcset', 'formaction', 'ping'],
  ALLOW_DATA_ATTR: false,
};

/** A fragment of what DOMPurify keeps of `html`. */
export function sanitize(html) {
  return instance().sanitize(String(html), CONFIG);
}
