import { describe, expect, it } from 'vitest';
import { containsActiveContent, sanitizeNotesHtml } from '../../src/lib/html.ts';

describe('sanitizeNotesHtml keeps harmless formatting', () => {
  it.each([
    ['inline formatting', '<p>Hi <b>b</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u><br>next</p>', '<p>Hi <b>b</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u><br />next</p>'],
    ['lists', '<ul><li>one</li></ul><ol start="3"><li>three</li></ol>', '<ul><li>one</li></ul><ol start="3"><li>three</li></ol>'],
    ['code and quotes', '<pre><code>ssh -i key host</code></pre><blockquote>rotate monthly</blockquote>', '<pre><code>ssh -i key host</code></pre><blockquote>rotate monthly</blockquote>'],
    ['headings h1-h4 only', '<h1>a</h1><h4>b</h4><h5>c</h5><h6>d</h6>', '<h1>a</h1><h4>b</h4>cd'],
    ['table basics', '<table><caption>c</caption><thead><tr><th colspan="2" scope="col">h</th></tr></thead><tbody><tr><td rowspan="1">d</td></tr></tbody></table>', '<table><caption>c</caption><thead><tr><th colspan="2" scope="col">h</th></tr></thead><tbody><tr><td rowspan="1">d</td></tr></tbody></table>'],
    ['escaped text', 'a & b < c', 'a &amp; b &lt; c'],
    ['unsupported but harmless tags as text', '<div><span class="x">kept text</span></div>', 'kept text'],
  ])('%s', (_name, input, expected) => {
    expect(sanitizeNotesHtml(input)).toBe(expected);
    expect(containsActiveContent(input)).toBe(false);
  });
});

describe('sanitizeNotesHtml links', () => {
  it.each([
    ['https, with rel added and target/rel replaced', '<a href="https://example.com/p?q=1" target="_blank" rel="opener" title="docs">x</a>', '<a href="https://example.com/p?q=1" rel="noopener noreferrer" title="docs">x</a>'],
    ['http, normalized', '<a href="HTTP://Example.COM">x</a>', '<a href="http://example.com/" rel="noopener noreferrer">x</a>'],
    ['mailto', '<a href="mailto:ops@example.com">m</a>', '<a href="mailto:ops@example.com" rel="noopener noreferrer">m</a>'],
    ['relative, dropped', '<a href="/admin">r</a>', '<a>r</a>'],
    ['protocol-relative, dropped', '<a href="//evil.example">p</a>', '<a>p</a>'],
    ['other schemes, dropped', '<a href="ftp://x/y">f</a><a href="file:///etc/passwd">g</a>', '<a>f</a><a>g</a>'],
  ])('%s', (_name, input, expected) => {
    expect(sanitizeNotesHtml(input)).toBe(expected);
    expect(containsActiveContent(input)).toBe(false);
  });
});

// Payloads after the OWASP XSS Filter Evasion Cheat Sheet and common mutation-XSS vectors.
describe('sanitizeNotesHtml strips active content (and containsActiveContent reports it)', () => {
  it.each([
    ['external script', '<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>after', 'after'],
    ['inline script', '<p>a<script>alert(1)</script>b</p>', '<p>ab</p>'],
    ['malformed script nesting', '<<SCRIPT>alert("XSS");//\\<</SCRIPT>', '&lt;'],
    ['img with javascript: src', `<IMG SRC="javascript:alert('XSS');">`, ''],
    ['img onerror', '<img src=x onerror=alert(1)>text', 'text'],
    ['svg onload', '<svg/onload=alert(1)>', ''],
    ['body onload', "<BODY ONLOAD=alert('XSS')>text", 'text'],
    ['handler on an allowed tag', '<p onclick="steal()">p</p>', '<p>p</p>'],
    ['handler on an allowed link', '<a href="https://ok.example" onmouseover="alert(1)">x</a>', '<a href="https://ok.example/" rel="noopener noreferrer">x</a>'],
    ['javascript: link', '<a href="javascript:alert(1)">x</a>', '<a>x</a>'],
    ['mixed-case scheme', '<a href="JaVaScRiPt:alert(1)">x</a>', '<a>x</a>'],
    ['decimal entities', '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>', '<a>x</a>'],
    ['hex entities without semicolons', '<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)">x</a>', '<a>x</a>'],
    ['embedded tab', '<a href="jav\tascript:alert(1)">x</a>', '<a>x</a>'],
    ['encoded tab', '<a href="jav&#x09;ascript:alert(1)">x</a>', '<a>x</a>'],
    ['leading spaces and control character', '<a href=" &#14;  javascript:alert(1)">x</a>', '<a>x</a>'],
    ['vbscript: link', '<a href="vbscript:msgbox(1)">x</a>', '<a>x</a>'],
    ['data: HTML link', '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>', '<a>x</a>'],
    ['iframe', '<iframe src="https://evil.example">inner</iframe>after', 'after'],
    ['iframe srcdoc', '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>', ''],
    ['object', '<object data="x.swf">fallback</object>', ''],
    ['embed', '<embed src="x.swf">', ''],
    ['form', '<form action="https://evil.example"><input name="p"><button>go</button></form>', 'go'],
    ['style element', '<style>body{background:url(javascript:alert(1))}</style>styled', 'styled'],
    ['style attribute with javascript:', `<div style="background-image: url(javascript:alert('XSS'))">d</div>`, 'd'],
    ['style attribute with expression()', `<p style="width: expression(alert('XSS'));">p</p>`, '<p>p</p>'],
    ['meta refresh', `<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert('XSS');">`, ''],
    ['base href', '<base href="javascript:alert(1)//">', ''],
    ['link stylesheet', '<link rel="stylesheet" href="https://evil.example/x.css">', ''],
    ['noscript mutation', '<noscript><p title="</noscript><img src=x onerror=alert(1)>">', ''],
    ['math/style mutation', '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>', '<table></table>'],
    ['svg xlink:href', '<svg><a xlink:href="javascript:alert(1)"><text>t</text></a></svg>', '<a>t</a>'],
    ['button formaction', '<button formaction="javascript:alert(1)">b</button>', 'b'],
  ])('%s', (_name, input, expected) => {
    const output = sanitizeNotesHtml(input);
    expect(output).toBe(expected);
    expect(output).not.toMatch(/<script|javascript:|vbscript:|\son\w+=|<iframe|<object|<embed|<form|<style/i);
    expect(containsActiveContent(input)).toBe(true);
  });

  it('is idempotent on its own output', () => {
    const once = sanitizeNotesHtml('<p onclick="x">a <a href="https://e.example/?a=1&b=2">l</a><script>bad()</script></p>');
    expect(sanitizeNotesHtml(once)).toBe(once);
    expect(containsActiveContent(once)).toBe(false);
  });
});

describe('containsActiveContent ignores inert material', () => {
  it.each([
    ['plain text mentioning javascript:', 'Use javascript: URLs never. onclick= is bad.'],
    ['a comment', '<!--<script>alert(1)</script>-->c'],
    ['script text inside a textarea', '<textarea><script>alert(1)</script></textarea>'],
    ['an inline image', '<img src="data:image/png;base64,AAAA" alt="logo">'],
    ['a harmless title attribute', '<a href="https://x.example" title="javascript: tips">x</a>'],
  ])('%s', (_name, input) => {
    expect(containsActiveContent(input)).toBe(false);
  });
});
