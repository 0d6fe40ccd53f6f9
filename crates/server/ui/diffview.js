// A unified YAML diff shown unified or side by side, virtualised: only the lines in view are
// built, so a resource with tens of thousands of diff lines scrolls smoothly.
import { h, VirtualList } from './dom.js';

const LINE = 20;

// Unified diff text → rows {type: file|hunk|ctx|add|del, old, new, text}.
export function parseUnified(text) {
  const rows = [];
  let oldNo = 0;
  let newNo = 0;
  for (const line of (text || '').split('\n')) {
    if (line.startsWith('--- ') || line.startsWith('+++ ')) {
      rows.push({ type: 'file', text: line });
    } else if (line.startsWith('@@')) {
      const m = line.match(/^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/);
      if (m) { oldNo = Number(m[1]); newNo = Number(m[2]); }
      rows.push({ type: 'hunk', text: line });
    } else if (line.startsWith('+')) {
      rows.push({ type: 'add', new: newNo++, text: line.slice(1) });
    } else if (line.startsWith('-')) {
      rows.push({ type: 'del', old: oldNo++, text: line.slice(1) });
    } else if (line.startsWith(' ')) {
      rows.push({ type: 'ctx', old: oldNo++, new: newNo++, text: line.slice(1) });
    }
    // "\ No newline at end of file" and the final empty line carry nothing to show.
  }
  return rows;
}

// Pairs deletions with the additions that follow them, line by line, for a side-by-side view.
export function toSplit(rows) {
  const out = [];
  let i = 0;
  while (i < rows.length) {
    const r = rows[i];
    if (r.type === 'del' || r.type === 'add') {
      const dels = [];
      const adds = [];
      while (i < rows.length && rows[i].type === 'del') dels.push(rows[i++]);
      while (i < rows.length && rows[i].type === 'add') adds.push(rows[i++]);
      for (let k = 0; k < Math.max(dels.length, adds.length); k++) out.push({ left: dels[k] || null, right: adds[k] || null });
    } else if (r.type === 'ctx') {
      out.push({ left: r, right: r });
      i++;
    } else {
      out.push({ whole: r });
      i++;
    }
  }
  return out;
}

function cell(row, side) {
  if (!row) return h('div', { class: 'dl empty' }, h('span', { class: 'no' }), h('span', { class: 'tx' }));
  const no = side === 'left' ? row.old : side === 'right' ? row.new : null;
  const mark = row.type === 'add' ? '+' : row.type === 'del' ? '-' : ' ';
  return h('div', { class: `dl ${row.type}` }, h('span', { class: 'no' }, no ?? ''), h('span', { class: 'tx', title: row.text }, side === 'unified' ? mark + row.text : row.text));
}

function unifiedRow(row) {
  if (row.type === 'file' || row.type === 'hunk') return h('div', { class: `dl ${row.type}` }, h('span', { class: 'tx' }, row.text));
  const el = h('div', { class: `dl ${row.type}` },
    h('span', { class: 'no' }, row.old ?? ''),
    h('span', { class: 'no' }, row.new ?? ''),
    h('span', { class: 'tx', title: row.text }, (row.type === 'add' ? '+' : row.type === 'del' ? '-' : ' ') + row.text));
  return el;
}

function splitRow(row) {
  if (row.whole) return h('div', { class: `dl ${row.whole.type}` }, h('span', { class: 'tx' }, row.whole.text));
  return h('div', { class: 'split' }, cell(row.left, 'left'), cell(row.right, 'right'));
}

// The diff of one resource: `mode` is 'unified' or 'split'.
export function diffView(text, mode) {
  const rows = parseUnified(text);
  if (!rows.length) return h('p', { class: 'muted' }, 'No YAML differences to show (the change is in values compared by meaning, e.g. 500m → 0.5).');
  const list = new VirtualList({ rowHeight: LINE, className: 'diff', label: mode === 'split' ? 'Side-by-side YAML diff' : 'Unified YAML diff', render: mode === 'split' ? splitRow : unifiedRow });
  list.el.id = 'diff';
  list.el.dataset.mode = mode;
  list.setItems(mode === 'split' ? toSplit(rows) : rows);
  return list.el;
}
