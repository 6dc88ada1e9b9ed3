// The dashboard's pure helpers, run in Node (no browser): the link filter of
// web/app/dom.js, the Python tokens of web/app/highlight.js (speed-highlight's
// tokenizer, vendored: every byte of the source comes back, in order, markup
// stays text, hostile input stays fast), the diff of web/app/diff.js (jsdiff,
// vendored), and web/vendor/ against web/package-lock.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeHref } from '../../../web/app/dom.js';
import { tokenize } from '../../../web/app/highlight.js';
import { diffLines } from '../../../web/app/diff.js';

test('safeHref keeps in-app routes and same-origin paths, refuses everything else', () => {
  for (const ok of ['#/servers', '#/tools/abc-123', '/api/x', '#/servers/a%20b']) assert.equal(safeHref(ok), ok);
  for (const bad of ['javascript:alert(1)', ' javascript:alert(1)', 'JAVASCRIPT:x', 'data:text/html,x',
    '//evil.example/x', 'https://evil.example/', 'vbscript:x', '#/x"onmouseover="y', '/\\evil', '']) {
    assert.equal(safeHref(bad), '#/', bad);
  }
});

test('the tokenizer covers the source exactly and classifies Python', () => {
  const src = 'import json\n@dec\nasync def main(x: str = "a#b") -> dict:\n    """doc\n  more"""\n'
    + '    # c <script>alert(1)</script> TODO\n    return {"n": 0x1F + 2.5e3, \'s\': f"{x}", "t": True}  # end\n';
  const toks = tokenize(src);
  assert.equal(toks.map((t) => t.text).join(''), src);
  const cls = (text) => toks.find((t) => t.text === text)?.cls;
  assert.equal(cls('import'), 'tok-keyword');
  assert.equal(cls('async'), 'tok-keyword');
  assert.equal(cls('main'), 'tok-defname');
  assert.equal(cls('"a#b"'), 'tok-string');
  assert.equal(cls('"""doc\n  more"""'), 'tok-comment');      // a docstring reads as a comment
  assert.equal(cls('# c <script>alert(1)</script> '), 'tok-comment');
  assert.equal(cls('TODO'), 'tok-todo');
  assert.equal(cls('0x1F'), 'tok-number');
  assert.equal(cls('True'), 'tok-builtin');
  // unterminated strings and odd input still cover every byte
  for (const odd of ['"""never closed', "'open\nx", '\u0000\uffff🙂 é', 'a'.repeat(5000), '', 'f"{', 'f"""{x',
    '#'.repeat(3000), '"\\'.repeat(3000)]) {
    assert.equal(tokenize(odd).map((t) => t.text).join(''), odd);
  }
  // the largest code a tool may have (100 KB), hostile shapes, tokenized fast
  for (const big of ['"'.repeat(100000), "f'{".repeat(33000), '1.e'.repeat(33000), 'x = (\n'.repeat(16000),
    '\'\'\''.repeat(33000)]) {
    const t0 = performance.now();
    assert.equal(tokenize(big).map((t) => t.text).join(''), big);
    assert.ok(performance.now() - t0 < 2000, `tokenizing ${JSON.stringify(big.slice(0, 6))}… took ${performance.now() - t0} ms`);
  }
});

test('the diff: hunks with context, additions and removals, bounded on unrelated large versions', () => {
  const kinds = (lines) => lines.map((l) => `${l.kind}:${l.text}`);
  assert.deepEqual(kinds(diffLines('a\nb\nc', 'a\nc\nd')),
    ['hunk:@@ -1,3 +1,3 @@', 'ctx: a', 'del:-b', 'ctx: c', 'add:+d']);
  assert.deepEqual(diffLines('same', 'same'), []);
  const old = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
  const changed = old.replace('line 20', 'line twenty <img src=x onerror=alert(1)>');
  const lines = diffLines(old, changed);
  assert.equal(lines.filter((l) => l.kind === 'hunk').length, 1);
  assert.equal(lines.filter((l) => l.kind === 'ctx').length, 6, 'three lines of context each side');
  assert.ok(lines.some((l) => l.text === '+line twenty <img src=x onerror=alert(1)>'));
  // two unrelated 100 KB versions: answered within the time bound, nothing lost
  const rand = (seed) => Array.from({ length: 5000 }, (_, i) => `v${seed}-${(i * 7919 + seed) % 10007}`).join('\n');
  const t0 = performance.now();
  const big = diffLines(rand(1), rand(2));
  assert.ok(performance.now() - t0 < 3000, `diff took ${performance.now() - t0} ms`);
  assert.equal(big.filter((l) => l.kind === 'add').length, 5000);
  assert.equal(big.filter((l) => l.kind === 'del').length, 5000);
});

test('web/vendor/: only what scripts/vendor-web.sh copies from web/package-lock.json, each library with its license', async () => {
  const { readFileSync, existsSync } = await import('node:fs');
  const webDir = new URL('../../../web/', import.meta.url);
  const lock = JSON.parse(readFileSync(new URL('package-lock.json', webDir), 'utf8'));
  const pkg = JSON.parse(readFileSync(new URL('package.json', webDir), 'utf8'));
  for (const [name, version] of Object.entries(pkg.dependencies)) {
    assert.equal(lock.packages[`node_modules/${name}`]?.version, version, `${name} pinned in the lockfile`);
    assert.match(lock.packages[`node_modules/${name}`].integrity, /^sha512-/, `${name} has an integrity hash`);
  }
  for (const dir of ['diff', 'speed-highlight', 'uplot']) {
    assert.ok(existsSync(new URL(`vendor/${dir}/LICENSE`, webDir)), `vendor/${dir}/LICENSE`);
  }
  assert.match(readFileSync(new URL('vendor/uplot/uPlot.min.js', webDir), 'utf8'),
    /^\/\*! https:\/\/github\.com\/leeoniya\/uPlot \(v1\.6\.32\) \*\/[\s\S]*\nexport default uPlot;\n$/);
  // the byte-for-byte comparison needs the registry: CI runs scripts/vendor-web.sh --check
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
  // every vendored module the app imports is preloaded too (no request waterfall)
  for (const f of modules) {
    const src = readFileSync(new URL(f, appDir), 'utf8');
    for (const [, path] of src.matchAll(/from '\.\.\/vendor\/([^']+)'/g)) {
      assert.ok(html.includes(`<link rel="modulepreload" href="/vendor/${path}">`), `index.html does not preload vendor/${path}`);
    }
  }
});
