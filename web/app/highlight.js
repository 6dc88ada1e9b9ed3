// highlight.js — Python source shown with syntax colours: a small tokenizer
// (keywords, builtins, strings incl. triple-quoted and f-strings, comments,
// numbers, decorators, def/class names) whose tokens become <span>s with
// textContent. No HTML string is ever built, so code is always inert text.
import { h } from './dom.js';

const KEYWORDS = new Set(('False None True and as assert async await break class continue def del elif '
  + 'else except finally for from global if import in is lambda nonlocal not or pass raise return try '
  + 'while with yield match case').split(' '));
const BUILTINS = new Set(('abs all any bool bytes dict enumerate filter float format getattr hasattr '
  + 'int isinstance len list map max min next print range repr reversed round set setattr sorted str '
  + 'sum tuple type zip open exec eval compile __import__ globals locals vars super object').split(' '));

const TOKEN = new RegExp([
  '(#[^\\n]*)',                                                     // 1 comment
  '((?:[rRbBuUfF]{0,2})(?:"""[\\s\\S]*?(?:"""|$)|\'\'\'[\\s\\S]*?(?:\'\'\'|$)))', // 2 triple string
  '((?:[rRbBuUfF]{0,2})(?:"(?:\\\\.|[^"\\\\\\n])*"?|\'(?:\\\\.|[^\'\\\\\\n])*\'?))', // 3 string
  '(@[A-Za-z_][\\w.]*)',                                            // 4 decorator
  '(\\b(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\\d[\\d_]*(?:\\.\\d*)?(?:[eE][+-]?\\d+)?j?|\\.\\d+)\\b)', // 5 number
  '([A-Za-z_]\\w*)',                                                // 6 name
].join('|'), 'g');

const MAX_HIGHLIGHT = 200000;   // longer code is shown plain

/** Tokens [{cls|null, text}] of Python source. */
export function tokenize(code) {
  const out = [];
  let last = 0;
  let prevName = '';
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(code); m; m = TOKEN.exec(code)) {
    if (m[0] === '') { TOKEN.lastIndex++; continue; }
    if (m.index > last) out.push({ cls: null, text: code.slice(last, m.index) });
    let cls = null;
    if (m[1]) cls = 'tok-comment';
    else if (m[2] || m[3]) cls = 'tok-string';
    else if (m[4]) cls = 'tok-decorator';
    else if (m[5]) cls = 'tok-number';
    else if (m[6]) {
      if (KEYWORDS.has(m[6])) cls = 'tok-keyword';
      else if (prevName === 'def' || prevName === 'class') cls = 'tok-defname';
      else if (BUILTINS.has(m[6])) cls = 'tok-builtin';
      prevName = m[6];
    }
    if (!m[6]) prevName = '';
    out.push({ cls, text: m[0] });
    last = TOKEN.lastIndex;
  }
  if (last < code.length) out.push({ cls: null, text: code.slice(last) });
  return out;
}

/** A <pre><code> of highlighted Python, with an accessible label. */
export function codeBlock(code, label = 'Python code') {
  const text = String(code ?? '');
  const codeEl = h('code', { class: 'language-python' });
  if (text.length > MAX_HIGHLIGHT) {
    codeEl.textContent = text;
  } else {
    for (const t of tokenize(text)) {
      codeEl.appendChild(t.cls ? h('span', { class: t.cls }, t.text) : document.createTextNode(t.text));
    }
  }
  return h('pre', { class: 'code', tabindex: '0', 'aria-label': label }, codeEl);
}
