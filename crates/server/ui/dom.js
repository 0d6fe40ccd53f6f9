// Small DOM helpers: element construction, formatting and a virtualised list.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

// Replaces an element's children; nested arrays are flattened and null/false skipped.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const VERDICT_WORDS = {
  'high-risk': 'High risk',
  'medium-risk': 'Medium risk',
  'low-risk': 'Low risk',
  'no-changes': 'No changes',
};

export const short = (sha) => (sha || '').slice(0, 8);

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || one + 's'}`;
}

export function toast(message) {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove('show'), 2200);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (no permission, not a secure context): select a hidden field.
    const ta = h('textarea', { 'aria-hidden': 'true', class: 'offscreen' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

// A list that only builds the rows in view, so tens of thousands of rows (a 2 MB diff)
// scroll without building tens of thousands of elements. Rows have one fixed height.
export class VirtualList {
  constructor({ rowHeight, render, className, label, role = 'list' }) {
    this.rowHeight = rowHeight;
    this.render = render;
    this.items = [];
    this.el = h('div', { class: `vlist ${className || ''}`, role, tabindex: '0', 'aria-label': label });
    this.spacer = h('div', { class: 'vspacer' });
    this.win = h('div', { class: 'vwindow' });
    this.spacer.append(this.win);
    this.el.append(this.spacer);
    this.el.addEventListener('scroll', () => this.paint(false), { passive: true });
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => this.paint(true)).observe(this.el);
  }

  setItems(items) {
    this.items = items;
    this.spacer.style.height = `${items.length * this.rowHeight}px`;
    this.paint(true);
  }

  paint(force) {
    const top = this.el.scrollTop;
    const height = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - 8);
    const last = Math.min(this.items.length, Math.ceil((top + height) / this.rowHeight) + 8);
    if (!force && first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    this.win.style.transform = `translateY(${first * this.rowHeight}px)`;
    const rows = [];
    for (let i = first; i < last; i++) rows.push(this.render(this.items[i], i));
    this.win.replaceChildren(...rows);
  }

  // Scrolls the least needed to show row `index`.
  reveal(index) {
    const top = index * this.rowHeight;
    const bottom = top + this.rowHeight;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (bottom > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = bottom - this.el.clientHeight;
    this.paint(true);
  }
}
