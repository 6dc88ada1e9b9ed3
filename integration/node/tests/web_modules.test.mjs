// The dashboard's pure helpers, run in Node (no browser): the link filter of
// web/app/dom.js, the Python tokenizer of web/app/highlight.js (every byte of
// the source comes back, in order, and markup stays text), the diff helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeHref } from '../../../web/app/dom.js';
import { tokenize } from '../../../web/app/highlight.js';
import { parseUnified, diffLines } from '../../../web/app/diff.js';

test('safeHref keeps in-app routes and same-origin paths, refuses everything else', () => {
  for (const ok of ['#/servers', '#/tools/abc-123', '/api/x', '#/servers/a%20b']) assert.equal(safeHref(ok), ok);
  for (const bad of ['javascript:alert(1)', ' javascript:alert(1)', 'JAVASCRIPT:x', 'data:text/html,x',
    '//evil.example/x', 'https://evil.example/', 'vbscript:x', '#/x"onmouseover="y', '/\\evil', '']) {
    assert.equal(safeHref(bad), '#/', bad);
  }
});

test('the tokenizer covers the source exactly and classifies Python', () => {
  const src = 'import json\n@dec\nasync def main(x: str = "a#b") -> dict:\n    """doc\n  more"""\n'
    + '    # c <script>alert(1)</script>\n    return {"n": 0x1F + 2.5e3, \'s\': f"{x}"}  # end\n';
  const toks = tokenize(src);
  assert.equal(toks.map((t) => t.text).join(''), src);
  const cls = (text) => toks.find((t) => t.text === text)?.cls;
  assert.equal(cls('import'), 'tok-keyword');
  assert.equal(cls('async'), 'tok-keyword');
  assert.equal(cls('main'), 'tok-defname');
  assert.equal(cls('str'), 'tok-builtin');
  assert.equal(cls('"a#b"'), 'tok-string');
  assert.equal(cls('"""doc\n  more"""'), 'tok-string');
  assert.equal(cls('# c <script>alert(1)</script>'), 'tok-comment');
  assert.equal(cls('0x1F'), 'tok-number');
  assert.equal(cls('@dec'), 'tok-decorator');
  // unterminated strings and odd input still cover every byte
  for (const odd of ['"""never closed', "'open\nx", '\u0000\uffff🙂 é', 'a'.repeat(5000), '']) {
    assert.equal(tokenize(odd).map((t) => t.text).join(''), odd);
  }
});

test('diff helpers', () => {
  const lines = parseUnified('--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n z');
  assert.deepEqual(lines.map((l) => l.kind), ['meta', 'meta', 'hunk', 'del', 'add', 'ctx']);
  assert.deepEqual(diffLines('a\nb\nc', 'a\nc\nd').map((l) => l.text), [' a', '-b', ' c', '+d']);
  assert.deepEqual(diffLines('same', 'same').map((l) => l.kind), ['ctx']);
});

test('web/: no HTML sinks or eval in the app code; no inline script or style in index.html; every module preloaded', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const webDir = new URL('../../../web/', import.meta.url);
  const appDir = new URL('app/', webDir);
  const modules = readdirSync(appDir).filter((f) => f.endsWith('.js'));
  assert.ok(modules.length >= 10, modules.join(' '));
  for (const f of modules) {
    const src = readFileSync(new URL(f, appDir), 'utf8');
    for (const sink of [/\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /\beval\s*\(/,
      /new\s+Function\b/, /setTimeout\(\s*['"`]/, /\.setAttribute\(\s*['"]on/i, /createContextualFragment/, /DOMParser/]) {
      assert.doesNotMatch(src, sink, `${f} uses ${sink}`);
    }
  }
  const html = readFileSync(new URL('index.html', webDir), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline <script>');
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'inline style or handler');
  for (const f of modules.filter((m) => m !== 'main.js')) {
    assert.ok(html.includes(`<link rel="modulepreload" href="/app/${f}">`), `index.html does not preload ${f}`);
  }
});
