import sanitizeHtml from 'sanitize-html';

/**
 * Credential notes keep simple formatting and lose everything that can run, load or submit. An allowlist
 * (sanitize-html on htmlparser2) rather than a blocklist: whatever is not named here is removed.
 */

const LINK_SCHEMES = ['http:', 'https:', 'mailto:'];

// Tags whose mere presence runs code, loads content, redirects or submits data. `noscript` too: browsers read its
// content as raw text while htmlparser2 reads markup, the classic hiding place for a handler (mutation XSS).
const ACTIVE_TAGS = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'meta', 'link', 'style', 'form', 'portal', 'noscript']);
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background', 'poster', 'codebase', 'dynsrc', 'lowsrc', 'cite', 'ping']);
// Browsers drop ASCII whitespace and control characters inside a scheme ("java\tscript:"), so compare without them.
const SCRIPT_URL = /^(?:javascript|vbscript|livescript):|^data:(?!image\/(?:png|gif|jpeg|webp|avif)[;,])/;
const SCRIPT_CSS = /expression\s*\(|javascript:|vbscript:|-moz-binding|behavior\s*:/;

function safeHref(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    // The WHATWG parser reads the URL as a browser would; relative and scheme-less links have no meaning in a note.
    const url = new URL(raw);
    return LINK_SCHEMES.includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

const options: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'b', 'strong', 'i', 'em', 'u', 'ul', 'ol', 'li', 'a', 'code', 'pre', 'blockquote', 'h1', 'h2', 'h3', 'h4', 'table', 'caption', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td'],
  allowedAttributes: { a: ['href', 'title', 'rel'], ol: ['start'], th: ['colspan', 'rowspan', 'scope'], td: ['colspan', 'rowspan'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: {},
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // Content of these is code, markup-as-text or form state, never note text.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'select', 'xmp', 'noscript', 'noembed', 'noframes', 'iframe', 'object', 'template', 'title', 'plaintext'],
  transformTags: {
    a: (tagName, attribs) => {
      const href = safeHref(attribs.href);
      const title = attribs.title;
      return { tagName, attribs: { ...(href ? { href, rel: 'noopener noreferrer' } : {}), ...(title ? { title } : {}) } };
    },
  },
};

export function sanitizeNotesHtml(html: string): string {
  return sanitizeHtml(html, options);
}

/** Whether sanitizing removes something executable, not merely unsupported formatting. */
export function containsActiveContent(html: string): boolean {
  let active = false;
  sanitizeHtml(html, {
    ...options,
    onOpenTag: (name, attribs) => {
      if (active) return;
      active = ACTIVE_TAGS.has(name.toLowerCase()) || Object.entries(attribs).some(([attribute, value]) => isActiveAttribute(attribute.toLowerCase(), value));
    },
  });
  return active;
}

function isActiveAttribute(name: string, value: string): boolean {
  if (name.startsWith('on') || name === 'srcdoc') return true;
  const compact = value.replace(/[\x00-\x20]+/g, '').toLowerCase();
  if (URL_ATTRIBUTES.has(name)) return SCRIPT_URL.test(compact);
  if (name === 'style') return SCRIPT_CSS.test(value.toLowerCase()) || SCRIPT_CSS.test(compact);
  return false;
}
