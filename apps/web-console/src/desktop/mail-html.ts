// Prepares a message's HTML (already sanitized by the router) for its sandboxed frame: a
// Content-Security-Policy that forbids scripts, frames, fonts and remote loads; cid: images replaced by
// the stored attachment (data: URLs); remote images held back until the agent allows them for this
// message; links opened in a new tab only when clicked. This is the second wall, not the first: the
// frame's sandbox has no allow-scripts whatever the HTML says.

/** What a prepared message contains. */
export interface PreparedMail {
  srcdoc: string;
  /** Remote images held back (0 when allowed or there are none). */
  blockedImages: number;
}

const DROPPED_ELEMENTS =
  'script, iframe, frame, frameset, object, embed, applet, base, meta, link, form, portal, noscript, template';
const SAFE_LINK = /^(https?:|mailto:)/i;
const REMOTE = /^(https?:)?\/\//i;
const REMOTE_IMAGE = /^https?:\/\/[^/]/i;

function frameCsp(allowRemoteImages: boolean): string {
  const images = allowRemoteImages ? 'data: https: http:' : 'data:';
  return `default-src 'none'; img-src ${images}; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'`;
}

/**
 * Builds the frame document. `cidImages` maps a content id (without angle brackets) to a data: URL.
 * Uses DOMParser, whose documents run no script and load nothing.
 */
export function prepareMailHtml(
  html: string,
  options: { allowRemoteImages: boolean; cidImages: Record<string, string> },
): PreparedMail {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  doc.querySelectorAll(DROPPED_ELEMENTS).forEach((element) => element.remove());
  let blockedImages = 0;
  for (const element of Array.from(doc.querySelectorAll('*'))) {
    for (const attribute of Array.from(element.attributes)) {
      if (/^on/i.test(attribute.name) || attribute.name === 'srcset' || attribute.name === 'background') {
        if (attribute.name === 'background' && REMOTE.test(attribute.value)) blockedImages += options.allowRemoteImages ? 0 : 1;
        if (!(attribute.name === 'background' && options.allowRemoteImages && REMOTE.test(attribute.value))) {
          element.removeAttribute(attribute.name);
        }
      }
    }
  }
  for (const image of Array.from(doc.querySelectorAll('img, image, input[type=image], video, audio, source'))) {
    const src = image.getAttribute('src') ?? '';
    // The router's sanitizer keeps a remote image as an inert data-remote-src (http/https only).
    const heldBack = image.getAttribute('data-remote-src') ?? '';
    if (!src && REMOTE_IMAGE.test(heldBack)) {
      if (options.allowRemoteImages) image.setAttribute('src', heldBack);
      else {
        blockedImages += 1;
        image.setAttribute('data-blocked', 'remote image');
      }
    } else if (/^cid:/i.test(src)) {
      const id = decodeURIComponent(src.slice(4)).replace(/^<|>$/g, '');
      const dataUrl = options.cidImages[id];
      if (dataUrl) image.setAttribute('src', dataUrl);
      else image.removeAttribute('src');
    } else if (REMOTE.test(src)) {
      if (!options.allowRemoteImages) {
        blockedImages += 1;
        image.removeAttribute('src');
        image.setAttribute('data-blocked', 'remote image');
      }
    } else if (!/^data:image\//i.test(src)) {
      image.removeAttribute('src');
    }
  }
  for (const link of Array.from(doc.querySelectorAll('a, area'))) {
    const href = link.getAttribute('href') ?? '';
    if (SAFE_LINK.test(href.trim())) {
      link.setAttribute('target', '_blank');
      link.setAttribute('rel', 'noopener noreferrer');
    } else {
      link.removeAttribute('href');
    }
  }
  const head = doc.head;
  const csp = doc.createElement('meta');
  csp.setAttribute('http-equiv', 'Content-Security-Policy');
  csp.setAttribute('content', frameCsp(options.allowRemoteImages));
  head.prepend(csp);
  // Style attributes, not a <style> element: the page's CSP (inherited by srcdoc frames) allows only
  // the former, and the sanitizer keeps mail's own styling in attributes too.
  doc.body.setAttribute(
    'style',
    `margin:0;padding:12px;font:15px/1.5 system-ui,sans-serif;color:#1d2330;overflow-wrap:anywhere;${doc.body.getAttribute('style') ?? ''}`,
  );
  for (const image of Array.from(doc.querySelectorAll('img'))) {
    image.setAttribute('style', `${image.getAttribute('style') ?? ''};max-width:100%;height:auto`);
  }
  for (const blocked of Array.from(doc.querySelectorAll('[data-blocked]'))) {
    blocked.setAttribute(
      'style',
      `${blocked.getAttribute('style') ?? ''};display:inline-block;min-width:24px;min-height:16px;outline:1px dashed #9a5300`,
    );
  }
  return { srcdoc: `<!doctype html>${doc.documentElement.outerHTML}`, blockedImages };
}

/**
 * HTML the router rendered (a template) made safe to put into the reply editor: the same elements,
 * event handlers and unsafe links dropped as in a message frame. The editor then keeps only what its
 * schema knows, and the router sanitizes the reply again when it is sent.
 */
export function sanitizeForEditor(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  doc.querySelectorAll(DROPPED_ELEMENTS).forEach((element) => element.remove());
  for (const element of Array.from(doc.querySelectorAll('*'))) {
    for (const attribute of Array.from(element.attributes)) {
      if (/^on/i.test(attribute.name) || attribute.name === 'srcset' || attribute.name === 'background') {
        element.removeAttribute(attribute.name);
      }
    }
  }
  for (const link of Array.from(doc.querySelectorAll('a[href]'))) {
    if (!SAFE_LINK.test((link.getAttribute('href') ?? '').trim())) link.removeAttribute('href');
  }
  return doc.body.innerHTML;
}

/** Text as HTML character data (every markup character a reference). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Plain text shown in the same frame (escaped; links not made clickable). */
export function textAsHtml(text: string): string {
  const escaped = escapeHtml(text);
  return `<pre style="font:inherit;margin:0;white-space:pre-wrap">${escaped}</pre>`;
}
