// The result page (/analysis/{id}): impact first (verdict, signals, rollouts, CRDs, noise),
// then the resource explorer (filters, grouped virtualised list, per-resource changes and YAML
// diff). Filters, the selected resource and the diff mode live in the address bar, so a copied
// link opens exactly this view.
import { fill, h, VERDICT_WORDS, VirtualList, copyText, plural, short, toast, when } from './dom.js';
import { ApiError, getJSON } from './api.js';
import { diffView } from './diffview.js';
import { keptValues } from './compare.js';

const RANK = { high: 3, medium: 2, low: 1 };
const CATEGORIES = [
  ['availability', 'Availability'],
  ['security', 'Security'],
  ['other', 'Other'],
];

export function analysisView(main, id, app) {
  document.title = 'Analysis · ChartImpact';
  const ctl = new AbortController();
  let view = null;
  main.append(h('p', { class: 'muted', id: 'loading' }, 'Loading the analysis…'));

  (async () => {
    let entry = app.results.get(id);
    if (!entry) {
      try {
        const stored = await getJSON(`/api/analysis/${encodeURIComponent(id)}`, ctl.signal);
        entry = { comparison: stored.comparison, request: stored.comparison.request || null, metadata: stored.metadata };
      } catch (e) {
        if (e.name === 'AbortError') return;
        main.replaceChildren(missing(e));
        return;
      }
    }
    main.replaceChildren();
    view = render(main, id, entry, app);
  })();

  return {
    dispose() {
      ctl.abort();
      if (view) view.dispose();
    },
  };
}

function missing(e) {
  const gone = e instanceof ApiError && e.status === 404;
  document.title = (gone ? 'Analysis not found' : 'Analysis unavailable') + ' · ChartImpact';
  return h('div', { class: 'panel error-screen', id: 'missing', role: 'alert' },
    h('h1', {}, gone ? 'This analysis does not exist or has expired' : 'The analysis could not be loaded'),
    h('p', {}, gone
      ? 'Stored results are kept for a limited time (30 days unless the server says otherwise) and then removed. Run the comparison again to get a fresh result.'
      : e.message),
    h('p', {}, h('a', { href: '/', class: 'button primary' }, 'Start a comparison')));
}

function resourceKey(identity) {
  return `${identity.kind}/${identity.namespace || '_'}/${identity.name}`;
}

function importanceOf(resource, signalLevels) {
  let best = signalLevels || 0;
  for (const c of resource.changes || []) best = Math.max(best, RANK[c.importance] || 0);
  if (!best && resource.changeType !== 'modified') best = RANK.medium;
  return best;
}

function levelName(rank) {
  return rank >= 3 ? 'high' : rank === 2 ? 'medium' : rank === 1 ? 'low' : 'none';
}

function display(value) {
  if (value === undefined) return '';
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return s.length > 400 ? `${s.slice(0, 400)}… (${s.length} characters)` : s;
}

function render(main, id, entry, app) {
  const cmp = entry.comparison;
  const sd = cmp.structuredDiff || { resources: [], stats: { resources: {}, changes: {} }, metadata: {} };
  const impact = cmp.impact || { verdict: 'no-changes', signals: [], rollouts: [], crdChanges: [], totals: {} };
  const diffs = cmp.resourceDiffs || [];
  document.title = `${cmp.chartPath} ${cmp.version1} → ${cmp.version2} · ${VERDICT_WORDS[impact.verdict] || impact.verdict} · ChartImpact`;

  // Signals and rollouts name their resource as Kind/name with a separate namespace; refKey
  // turns that into the explorer's key. Signals by key give importance and links.
  const signalRank = new Map();
  const refKey = (s) => `${s.kind}/${s.namespace || '_'}/${s.resource.split('/').slice(1).join('/')}`;
  for (const s of impact.signals || []) {
    const k = refKey(s);
    signalRank.set(k, Math.max(signalRank.get(k) || 0, RANK[s.level] || 0));
  }
  const resources = sd.resources.map((r, index) => {
    const key = resourceKey(r.identity);
    const paths = (r.changes || []).map((c) => c.path).join('\n');
    return {
      r,
      index,
      key,
      rank: importanceOf(r, signalRank.get(key)),
      haystack: `${r.identity.kind}/${r.identity.namespace}/${r.identity.name}\n${paths}`.toLowerCase(),
    };
  });
  const byKey = new Map();
  for (const res of resources) if (!byKey.has(res.key)) byKey.set(res.key, res);

  // View state, from and to the address bar.
  const params = new URLSearchParams(location.search);
  const state = {
    types: new Set((params.get('type') || '').split(',').filter(Boolean)),
    kind: params.get('kind') || '',
    ns: params.get('ns') ?? '',
    imp: params.get('imp') || '',
    q: params.get('q') || '',
    r: params.get('r') || '',
    view: params.get('view') === 'split' ? 'split' : 'unified',
  };
  const save = () => {
    const p = new URLSearchParams();
    if (state.types.size) p.set('type', [...state.types].sort().join(','));
    if (state.kind) p.set('kind', state.kind);
    if (state.ns) p.set('ns', state.ns);
    if (state.imp) p.set('imp', state.imp);
    if (state.q) p.set('q', state.q);
    if (state.r) p.set('r', state.r);
    if (state.view !== 'unified') p.set('view', state.view);
    app.setQuery(p);
  };

  // ---- Header
  const stats = sd.stats || { resources: {}, changes: {} };
  const rs = stats.resources || {};
  const req = entry.request;
  const rerun = h('button', { type: 'button', id: 'rerun', disabled: !req, title: req ? 'Run this comparison again with the same inputs' : 'This result does not record its inputs' }, 'Re-run');
  rerun.addEventListener('click', () => {
    const request = { ...req };
    const digest = request.valuesContentSha256;
    delete request.valuesContentSha256;
    if (digest) {
      const kept = keptValues(digest);
      if (!kept) {
        toast('The inline values are not stored on the server: paste them in the form to re-run.');
        app.navigate('/compare', { request });
        return;
      }
      request.valuesContent = kept;
    }
    app.navigate('/compare', { request, autorun: true });
  });
  const copy = h('button', { type: 'button', id: 'copy-link' }, 'Copy link');
  copy.addEventListener('click', async () => {
    const ok = await copyText(location.href);
    copy.dataset.copied = location.href;
    toast(ok ? 'Link copied' : `Copy this link: ${location.href}`);
  });
  const meta = entry.metadata;
  main.append(
    h('div', { class: 'result-head' },
      h('div', { class: 'what' },
        h('h1', {}, h('code', {}, cmp.chartPath), ` ${cmp.version1} → ${cmp.version2}`),
        h('div', {}, cmp.repository),
        dependencyLine(cmp),
        h('div', { class: 'meta' },
          cmp.resolved && h('span', { class: 'mono' }, `${short(cmp.resolved.version1)} → ${short(cmp.resolved.version2)}`),
          cmp.renderer && h('span', {}, `rendered by ${cmp.renderer.name} ${cmp.renderer.version}`),
          meta && h('span', {}, `stored ${when(meta.storedAt)}`),
          meta && h('span', { id: 'expires' }, `expires ${when(meta.expiresAt)}`),
          cmp.timings && cmp.timings.total != null && h('span', {}, `computed in ${cmp.timings.total} ms`))),
      h('div', { class: 'tools' }, copy, rerun, h('a', { class: 'button', href: `/api/analysis/${encodeURIComponent(id)}`, download: `chartimpact-${id.slice(0, 12)}.json` }, 'JSON'))));

  // ---- Verdict
  const totals = impact.totals || {};
  main.append(h('section', { class: `verdict ${impact.verdict}`, id: 'verdict', 'aria-label': 'Verdict' },
    h('span', { class: 'word' }, VERDICT_WORDS[impact.verdict] || impact.verdict),
    h('div', { class: 'counts' },
      h('span', {}, h('b', {}, totals.high || 0), ' high'),
      h('span', {}, h('b', {}, totals.medium || 0), ' medium'),
      h('span', {}, h('b', {}, totals.low || 0), ' low signals'),
      h('span', {}, '· ', h('b', {}, rs.added || 0), ' added'),
      h('span', {}, h('b', {}, rs.removed || 0), ' removed'),
      h('span', {}, h('b', {}, rs.modified || 0), ' modified'),
      h('span', {}, h('b', {}, rs.unchanged || 0), ' unchanged'))));

  // ---- Impact
  const select = (key) => {
    if (!byKey.has(key)) return;
    state.r = key;
    // A filter that hides the resource would make the link go nowhere: clear filters.
    if (!visible().some((x) => x.key === key)) clearFilters();
    refresh();
    document.getElementById('explorer').scrollIntoView({ block: 'start' });
  };
  const resourceLink = (s) => (byKey.has(refKey(s))
    ? h('button', { type: 'button', class: 'link', onclick: () => select(refKey(s)) }, s.resource)
    : h('span', {}, s.resource));
  const clip = (v) => (v.length > 160 ? `${v.slice(0, 160)}…` : v);
  const change = (s) => [
    s.oldValue != null && h('span', { class: 'change-value old', title: s.oldValue }, clip(s.oldValue)),
    (s.oldValue != null || s.newValue != null) && '→',
    s.newValue != null && h('span', { class: 'change-value new', title: s.newValue }, clip(s.newValue)),
  ];
  const signalItem = (s) => h('li', { class: 'signal', 'data-rule': s.rule, 'data-count': 1 },
    h('div', {}, h('span', { class: `badge ${s.level}` }, s.level), ' ', h('span', { class: 'title' }, s.title)),
    h('div', { class: 'desc' }, s.description),
    h('div', { class: 'where' },
      resourceLink(s),
      s.field && h('code', {}, s.field),
      change(s)));
  // One rule firing on many resources (a label change across a chart, thousands of ConfigMaps)
  // is one entry whose resources are listed on demand: a large result must not build thousands
  // of items up front.
  const groupItem = (g) => {
    const s = g[0];
    const body = h('div', {});
    const more = h('details', {}, h('summary', {}, `Show the ${g.length} resources`), body);
    more.addEventListener('toggle', () => {
      if (!more.open || body.childElementCount) return;
      const first = g.slice(0, 100);
      fill(body,
        h('ul', { class: 'plain-list' }, first.map((x) => h('li', {}, resourceLink(x), ' ', x.field && h('code', {}, x.field), ' ', change(x)))),
        g.length > first.length && h('p', { class: 'muted' }, `… and ${g.length - first.length} more: filter the resources below.`));
    });
    return h('li', { class: 'signal grouped', 'data-rule': s.rule, 'data-count': g.length },
      h('div', {}, h('span', { class: `badge ${s.level}` }, s.level), ' ', h('span', { class: 'title' }, s.title), h('span', { class: 'muted' }, ` — ${g.length} resources`)),
      h('div', { class: 'desc' }, `For example: ${s.description}`),
      more);
  };
  const signalItems = (list) => {
    const groups = new Map();
    for (const s of list) {
      const k = `${s.level}\u0000${s.rule}\u0000${s.title}`;
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(s);
    }
    return [...groups.values()].flatMap((g) => (g.length > 3 ? [groupItem(g)] : g.map(signalItem)));
  };
  const panels = [];
  for (const [cat, label] of CATEGORIES) {
    const list = (impact.signals || []).filter((s) => s.category === cat);
    if (!list.length) continue;
    panels.push(h('section', { class: 'panel', id: `signals-${cat}` }, h('h2', {}, `${label} (${list.length})`), h('ul', { class: 'signals' }, signalItems(list))));
  }
  if (!panels.length) panels.push(h('section', { class: 'panel' }, h('h2', {}, 'Signals'), h('p', { class: 'muted' }, impact.verdict === 'no-changes' ? 'Nothing changes in the cluster.' : 'No risk signals: the changes match no rule for availability or security.')));
  if ((impact.rollouts || []).length) {
    panels.push(h('section', { class: 'panel', id: 'rollouts' }, h('h2', {}, `Rollouts (${impact.rollouts.length})`),
      h('p', { class: 'muted' }, 'These workloads replace their pods on upgrade, because their pod template changes:'),
      h('ul', { class: 'plain-list' }, impact.rollouts.map((r) => h('li', {},
        resourceLink(r), ' — ', r.causes.join(', '))))));
  }
  if ((impact.crdChanges || []).length) {
    panels.push(h('section', { class: 'panel', id: 'crds' }, h('h2', {}, `CustomResourceDefinitions (${impact.crdChanges.length})`),
      h('ul', { class: 'plain-list' }, impact.crdChanges.map((c) => h('li', {}, h('code', {}, c.name), ` ${c.changeType}`,
        h('ul', { class: 'plain-list' },
          [['versions added', c.versionsAdded], ['versions removed', c.versionsRemoved], ['served/storage', c.flagChanges], ['properties added', c.propertiesAdded], ['properties removed', c.propertiesRemoved]]
            .filter(([, v]) => v && v.length)
            .map(([what, v]) => h('li', {}, `${what}: ${v.join(', ')}`))))))));
  }
  const notes = [];
  if (stats.chartVersionNoise) notes.push(h('li', { id: 'noise' }, `${plural(stats.chartVersionNoise, 'resource')} changed only chart-version labels (helm.sh/chart, app.kubernetes.io/version, chart): collapsed, not listed below.`));
  if (stats.suppressedResources) notes.push(h('li', {}, `${plural(stats.suppressedResources, 'resource')} suppressed by the request's filters.`));
  if (stats.suppressedChanges) notes.push(h('li', {}, `${plural(stats.suppressedChanges, 'change')} suppressed by the request's filters.`));
  for (const w of (sd.metadata && sd.metadata.warnings) || []) notes.push(h('li', {}, `Warning: ${w}`));
  if (notes.length) panels.push(h('section', { class: 'panel', id: 'notes' }, h('h2', {}, 'Notes'), h('ul', { class: 'plain-list' }, notes)));
  main.append(h('section', { class: 'impact-grid', id: 'impact', 'aria-label': 'Impact' }, panels));

  // ---- Explorer
  const kinds = [...new Set(resources.map((x) => x.r.identity.kind))].sort();
  const namespaces = [...new Set(resources.map((x) => x.r.identity.namespace || ''))].sort();
  const typeBoxes = ['added', 'removed', 'modified'].map((t) => {
    const box = h('input', { type: 'checkbox', id: `type-${t}`, value: t });
    box.addEventListener('change', () => { if (box.checked) state.types.add(t); else state.types.delete(t); refresh(); });
    const n = resources.filter((x) => x.r.changeType === t).length;
    return { box, el: h('label', { class: 'check', for: `type-${t}` }, box, `${t} (${n})`) };
  });
  const kindSel = h('select', { id: 'filter-kind', 'aria-label': 'Kind' }, h('option', { value: '' }, `All kinds (${kinds.length})`),
    kinds.map((k) => h('option', { value: k }, `${k} (${resources.filter((x) => x.r.identity.kind === k).length})`)));
  const nsSel = h('select', { id: 'filter-ns', 'aria-label': 'Namespace' }, h('option', { value: '' }, 'All namespaces'),
    namespaces.map((n) => h('option', { value: n || '_' }, n || '(cluster-scoped)')));
  const impSel = h('select', { id: 'filter-imp', 'aria-label': 'Importance' },
    h('option', { value: '' }, 'Any importance'), h('option', { value: 'high' }, 'High'), h('option', { value: 'medium' }, 'Medium or higher'), h('option', { value: 'low' }, 'Low or higher'));
  const search = h('input', { type: 'search', id: 'filter-q', placeholder: 'Search names and change paths  ( / )', 'aria-label': 'Search names and change paths' });
  kindSel.addEventListener('change', () => { state.kind = kindSel.value; refresh(); });
  nsSel.addEventListener('change', () => { state.ns = nsSel.value; refresh(); });
  impSel.addEventListener('change', () => { state.imp = impSel.value; refresh(); });
  let searchTimer = 0;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.q = search.value.trim(); refresh(); }, 120);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { search.value = ''; state.q = ''; refresh(); }
    if (e.key === 'ArrowDown' || e.key === 'Enter') { e.preventDefault(); move(1, true); list.el.focus(); }
  });
  const syncControls = () => {
    for (const t of typeBoxes) t.box.checked = state.types.has(t.box.value);
    kindSel.value = state.kind;
    nsSel.value = state.ns;
    impSel.value = state.imp;
    search.value = state.q;
  };
  const clearBtn = h('button', { type: 'button', class: 'ghost', id: 'clear-filters' }, 'Clear filters');
  const clearFilters = () => {
    state.types.clear(); state.kind = ''; state.ns = ''; state.imp = ''; state.q = '';
    syncControls();
  };
  clearBtn.addEventListener('click', () => { clearFilters(); refresh(); });
  const countLine = h('div', { class: 'count-line', id: 'count', 'aria-live': 'polite' });

  let rows = [];
  const list = new VirtualList({
    rowHeight: 30,
    className: 'resources',
    label: 'Changed resources',
    role: 'listbox',
    render: (row) => {
      if (row.group) return h('div', { class: 'row-group', role: 'presentation' }, h('span', {}, row.group), h('span', {}, row.count));
      const id = row.res.r.identity;
      const el = h('div', {
        class: 'row-res', role: 'option', id: `res-${row.res.index}`, 'data-key': row.res.key,
        'aria-selected': row.res.key === state.r ? 'true' : 'false', title: `${id.kind} ${id.namespace ? id.namespace + '/' : ''}${id.name}`,
      },
      h('span', { class: `dot ${levelName(row.res.rank)}`, title: `importance: ${levelName(row.res.rank)}` }),
      h('span', { class: `badge ${row.res.r.changeType}` }, row.res.r.changeType),
      h('span', { class: 'name' }, id.name),
      id.namespace && h('span', { class: 'ns' }, id.namespace));
      el.addEventListener('click', () => { state.r = row.res.key; refresh(); });
      return el;
    },
  });
  list.el.id = 'resources';
  list.el.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'j') { e.preventDefault(); move(1); }
    else if (e.key === 'ArrowUp' || e.key === 'k') { e.preventDefault(); move(-1); }
    else if (e.key === 'Home') { e.preventDefault(); move(-Infinity); }
    else if (e.key === 'End') { e.preventDefault(); move(Infinity); }
  });
  const detail = h('section', { class: 'detail panel', id: 'detail', 'aria-live': 'polite' });
  main.append(h('section', { id: 'explorer', 'aria-label': 'Resources' },
    h('h2', {}, `Resources (${resources.length} changed)`),
    h('div', { class: 'explorer' },
      h('div', {},
        h('div', { class: 'filters' },
          search,
          h('fieldset', {}, h('legend', {}, 'Change'), typeBoxes.map((t) => t.el)),
          h('div', { class: 'row' }, kindSel, nsSel),
          h('div', { class: 'row' }, impSel, clearBtn)),
        countLine,
        list.el),
      detail)));

  // ---- Full text report, built only when opened (it can be megabytes).
  const report = h('details', { id: 'report' }, h('summary', {}, 'Full text report'));
  report.addEventListener('toggle', () => {
    if (report.open && !report.querySelector('pre')) report.append(h('pre', { class: 'report' }, cmp.diff || ''));
  }, { once: false });
  main.append(h('section', {}, report));

  function visible() {
    const q = state.q.toLowerCase();
    const min = RANK[state.imp] || 0;
    return resources.filter((x) =>
      (!state.types.size || state.types.has(x.r.changeType))
      && (!state.kind || x.r.identity.kind === state.kind)
      && (!state.ns || (x.r.identity.namespace || '_') === state.ns)
      && x.rank >= min
      && (!q || x.haystack.includes(q)));
  }

  let shown = [];
  function refresh() {
    shown = visible();
    const groups = new Map();
    for (const x of shown) {
      const k = x.r.identity.kind;
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(x);
    }
    rows = [];
    for (const k of [...groups.keys()].sort()) {
      rows.push({ group: k, count: groups.get(k).length });
      for (const res of groups.get(k)) rows.push({ res });
    }
    // Keep the order of the list for keyboard moves.
    shown = rows.filter((r) => r.res).map((r) => r.res);
    countLine.replaceChildren(h('span', {}, `${shown.length} of ${resources.length} resources`), h('span', {}, 'j/k or ↑/↓ to move'));
    list.setItems(rows);
    const i = rows.findIndex((r) => r.res && r.res.key === state.r);
    if (i >= 0) {
      list.reveal(i);
      list.el.setAttribute('aria-activedescendant', `res-${rows[i].res.index}`);
    } else list.el.removeAttribute('aria-activedescendant');
    showDetail();
    save();
  }

  function move(step, fromSearch) {
    if (!shown.length) return;
    let i = shown.findIndex((x) => x.key === state.r);
    if (fromSearch && i < 0) i = -1;
    if (step === -Infinity) i = 0;
    else if (step === Infinity) i = shown.length - 1;
    else i = Math.min(shown.length - 1, Math.max(0, i + step));
    state.r = shown[i].key;
    refresh();
  }

  function showDetail() {
    const res = byKey.get(state.r);
    if (!res) {
      detail.replaceChildren(h('p', { class: 'muted' }, resources.length ? 'Select a resource to see its changes and YAML diff.' : 'No resource changes.'));
      return;
    }
    const r = res.r;
    const id = r.identity;
    const changes = r.changes || [];
    const modeBtn = (mode, label) => {
      const b = h('button', { type: 'button', 'aria-pressed': state.view === mode ? 'true' : 'false', 'data-view': mode }, label);
      b.addEventListener('click', () => { state.view = mode; showDetail(); save(); });
      return b;
    };
    const resourceSignals = (impact.signals || []).filter((s) => refKey(s) === res.key);
    fill(detail,
      h('h2', {}, `${id.kind} ${id.name}`),
      h('div', { class: 'meta' },
        h('span', { class: `badge ${r.changeType}` }, r.changeType),
        h('span', {}, id.apiVersion),
        h('span', {}, id.namespace ? `namespace ${id.namespace}` : 'cluster-scoped'),
        r.previousApiVersion && h('span', {}, `apiVersion ${r.previousApiVersion} → ${id.apiVersion}`),
        r.source && h('span', { class: 'mono' }, r.source),
        (r.flags || []).map((f) => h('span', { class: 'badge plain' }, f))),
      resourceSignals.length ? h('ul', { class: 'signals', id: 'resource-signals' }, resourceSignals.map(signalItem)) : null,
      changes.length
        ? h('table', { class: 'changes', id: 'changes' },
          h('colgroup', {}, h('col', { class: 'c-path' }), h('col', { class: 'c-imp' }), h('col', { class: 'c-type' }), h('col', {})),
          h('thead', {}, h('tr', {}, h('th', {}, 'Path'), h('th', {}, 'Importance'), h('th', {}, 'Kind of change'), h('th', {}, 'Before → after'))),
          h('tbody', {}, changes.map((c) => h('tr', {},
            h('td', { class: 'path' }, c.path),
            h('td', {}, h('span', { class: `badge ${c.importance}` }, c.importance)),
            h('td', {}, c.semanticType || c.valueType, h('div', { class: 'muted' }, `${c.op}${c.changeCategory && c.changeCategory !== 'unknown' ? ' · ' + c.changeCategory : ''}`), (c.flags || []).map((f) => h('div', { class: 'muted' }, f))),
            h('td', {},
              c.lineDiff
                ? h('pre', { class: 'line-diff' }, c.lineDiff)
                : [c.before !== undefined && h('div', { class: 'change-value old' }, `− ${display(c.before)}`),
                  c.after !== undefined && h('div', { class: 'change-value new' }, `+ ${display(c.after)}`)])))))
        : h('p', { class: 'muted' }, r.changeType === 'added' ? 'A new resource: the whole object is added.' : r.changeType === 'removed' ? 'The resource is deleted on upgrade.' : 'No field changes listed.'),
      h('div', { class: 'view-toggle', role: 'group', 'aria-label': 'Diff layout' }, h('strong', {}, 'YAML diff'), modeBtn('unified', 'Unified'), modeBtn('split', 'Side by side')),
      diffView(diffs[res.index] || '', state.view));
  }

  const onKey = (e) => {
    if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
      e.preventDefault();
      search.focus();
    }
  };
  document.addEventListener('keydown', onKey);

  syncControls();
  if (!state.r && resources.length && !params.has('r')) {
    // Open the most important resource first.
    const first = [...resources].sort((a, b) => b.rank - a.rank || a.index - b.index)[0];
    state.r = first.key;
  }
  refresh();

  return { dispose() { document.removeEventListener('keydown', onKey); clearTimeout(searchTimer); } };
}

// Each dependency (subchart) with its version on both sides, changed ones first; how the
// newer side got it (vendored in charts/, fetched at the lock's version, …) in its title.
function dependencyLine(cmp) {
  const deps = cmp.dependencies;
  if (!deps || !(deps.version1.length || deps.version2.length)) return null;
  const key = (d) => `${d.parent}/${d.alias || d.name}`;
  const old = new Map(deps.version1.map((d) => [key(d), d]));
  const items = deps.version2.map((d) => {
    const o = old.get(key(d));
    old.delete(key(d));
    const name = d.alias || d.name;
    const changed = o && o.version !== d.version;
    return { changed, text: changed ? `${name} ${o.version} → ${d.version}` : o ? `${name} ${d.version}` : `${name} ${d.version} (new)`, title: `${d.repository || 'vendored'} · ${d.source}` };
  });
  for (const d of old.values()) items.push({ changed: true, text: `${d.alias || d.name} ${d.version} (removed)`, title: d.repository || '' });
  items.sort((a, b) => Number(b.changed) - Number(a.changed));
  return h('div', { class: 'meta', id: 'dependencies' }, h('span', {}, 'Dependencies:'),
    ...items.map((i) => h('span', { class: i.changed ? 'dep changed' : 'dep', title: i.title }, i.text)));
}
