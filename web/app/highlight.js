// highlight.js — Python source shown with syntax colours. The tokens come
// from speed-highlight's tokenizer (vendored: web/vendor/speed-highlight,
// its `tokenizeWith`, which calls back with each piece of text and its type
// and builds no HTML); each token becomes a <span> whose text is set as
// text, so code is always inert. Only the grammars given here are used
// (Python, and the TODO markers inside its comments); nothing is loaded.
import { h } from './dom.js';
import { tokenizeWith } from '../vendor/speed-highlight/tokenize.js';
import py from '../vendor/speed-highlight/languages/py.js';
import todo from '../vendor/speed-highlight/languages/todo.js';

const LANGUAGES = { py, todo };

// speed-highlight's token types → the stylesheet's classes
const CLASSES = {
  cmnt: 'tok-comment', str: 'tok-string', kwd: 'tok-keyword', bool: 'tok-builtin',
  num: 'tok-number', func: 'tok-defname', class: 'tok-class', var: 'tok-var',
  oper: 'tok-oper', err: 'tok-todo', insert: 'tok-todo',
};

const MAX_HIGHLIGHT = 200000;   // longer code is shown plain

/** Tokens [{cls|null, text}] of Python source; their texts joined give it back. */
export function tokenize(code) {
  const out = [];
  tokenizeWith(String(code ?? ''), 'py', (text, type) => {
    if (text) out.push({ cls: CLASSES[type] ?? null, text });
  }, { languages: LANGUAGES });
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
