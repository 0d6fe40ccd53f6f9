// The compare page: the form (a chart in a git repository, with its tags, branches and charts
// offered; or a chart in a Helm or OCI repository, with the versions of its index offered), the
// live progress of a running comparison, and an error screen that offers the fix.
import { fill, h, plural, VERDICT_WORDS, when, short } from './dom.js';
import { ApiError, compareStream, getJSON, postJSON } from './api.js';

const STAGES = [
  ['resolve', 'Fetch and resolve revisions'],
  ['render', 'Render both sides'],
  ['diff', 'Diff and assess impact'],
  ['store', 'Store the result'],
];

// The form's last contents in this tab, so "edit the comparison" comes back to them.
let draft = null;

export function compareView(main, app) {
  document.title = 'Compare · ChartImpact';
  const ctl = new AbortController();
  let running = null;

  const field = (name, label, { wide, ...attrs } = {}) => {
    const input = h('input', { type: 'text', id: `f-${name}`, name, autocomplete: 'off', spellcheck: 'false', ...attrs });
    const status = h('div', { class: 'field-status', id: `f-${name}-status`, 'aria-live': 'polite' });
    const labelEl = h('label', { for: `f-${name}` }, label);
    return { input, status, label: labelEl, el: h('div', { class: wide ? 'wide' : '' }, labelEl, input, status) };
  };

  // Where the chart comes from: a git repository (compared at two revisions) or a Helm
  // repository / OCI registry (two published versions).
  const source = h('select', { id: 'f-source', name: 'source' },
    h('option', { value: 'git' }, 'Git repository (two revisions)'),
    h('option', { value: 'helm' }, 'Helm or OCI repository (two published versions)'));
  const sourceEl = h('div', { class: 'wide' }, h('label', { for: 'f-source' }, 'Chart source'), source);

  const repo = field('repository', 'Repository', { required: true, placeholder: 'https://github.com/org/charts', list: 'repo-list', wide: true });
  const chart = field('chartPath', 'Chart path', { required: true, placeholder: 'charts/app', list: 'chart-list' });
  const valuesFile = field('valuesFile', h('span', {}, 'Values file ', h('span', { class: 'hint' }, '(path in the repository, read at each version)')), { placeholder: 'values-prod.yaml' });
  const v1 = field('version1', 'From version', { required: true, list: 'version-list', placeholder: 'tag, branch or commit' });
  const v2 = field('version2', 'To version', { required: true, list: 'version-list', placeholder: 'tag, branch or commit' });
  const release = field('releaseName', 'Release name', { placeholder: 'release' });
  const ns = field('namespace', 'Namespace', { placeholder: 'default' });
  const kube = field('kubeVersion', 'Kubernetes version', { placeholder: 'v1.32.0' });
  const values = h('textarea', { id: 'f-valuesContent', name: 'valuesContent', spellcheck: 'false', placeholder: 'replicaCount: 3\nimage:\n  tag: 1.2.3' });
  const renderer = h('select', { id: 'f-renderer', name: 'renderer' },
    h('option', { value: '' }, 'auto (native, helm as fallback)'),
    h('option', { value: 'native' }, 'native'),
    h('option', { value: 'helm' }, 'helm binary'));
  const ignoreLabels = h('input', { type: 'checkbox', id: 'f-ignoreLabels', name: 'ignoreLabels' });
  const lists = [h('datalist', { id: 'repo-list' }), h('datalist', { id: 'chart-list' }), h('datalist', { id: 'version-list' })];

  const submit = h('button', { class: 'primary', type: 'submit', id: 'run' }, 'Compare');
  const form = h('form', { class: 'compare-form panel', id: 'compare-form', novalidate: true },
    sourceEl, repo.el, chart.el, valuesFile.el, v1.el, v2.el,
    h('details', {},
      h('summary', {}, 'Values and render options'),
      h('div', { class: 'advanced' },
        h('div', { class: 'wide' }, h('label', { for: 'f-valuesContent' }, 'Inline values ', h('span', { class: 'hint' }, '(YAML, applied after the values file; not stored on the server)')), values),
        release.el, ns.el, kube.el,
        h('div', {}, h('label', { for: 'f-renderer' }, 'Renderer'), renderer),
        h('div', {}, h('label', {}, 'Options'), h('label', { class: 'check', for: 'f-ignoreLabels' }, ignoreLabels, 'Ignore labels and annotations')))),
    h('div', { class: 'actions wide' }, submit, h('span', { class: 'muted', id: 'form-error', role: 'alert' })),
    lists);

  const progress = h('section', { class: 'panel', id: 'progress', hidden: true, 'aria-live': 'polite' });
  const errorBox = h('section', { class: 'panel error-screen', id: 'error', hidden: true, role: 'alert' });
  const recent = h('section', { class: 'recent' });
  main.append(h('h1', {}, 'Compare two versions of a Helm chart'), form, progress, errorBox, recent);

  const inputs = { repository: repo.input, chartPath: chart.input, version1: v1.input, version2: v2.input, valuesFile: valuesFile.input, releaseName: release.input, namespace: ns.input, kubeVersion: kube.input };

  // Prefill: a re-run or suggestion hands a request over in history state; a shared link may
  // carry the plain fields in its query.
  const params = new URLSearchParams(location.search);
  const handed = history.state && history.state.request;
  const start = { ...(handed || draft || {}) };
  const helmStart = start.helmRepository || params.get('helmRepository');
  if (helmStart) {
    source.value = 'helm';
    start.repository = helmStart;
    start.chartPath = start.chart || params.get('chart') || '';
  }
  for (const [k, input] of Object.entries(inputs)) input.value = (start[k] ?? (helmStart && (k === 'repository' || k === 'chartPath') ? '' : params.get(k)) ?? '') || '';
  values.value = start.valuesContent || '';
  renderer.value = start.renderer || params.get('renderer') || '';
  ignoreLabels.checked = Boolean(start.ignoreLabels);
  if (values.value || start.releaseName || start.namespace || start.kubeVersion || start.renderer) form.querySelector('details').open = true;

  const helm = () => source.value === 'helm';
  // The fields say what they hold in each mode.
  function applySource() {
    const isHelm = helm();
    repo.label.textContent = isHelm ? 'Helm repository' : 'Repository';
    repo.input.placeholder = isHelm ? 'https://charts.example.com or oci://registry.example.com/charts' : 'https://github.com/org/charts';
    chart.label.textContent = isHelm ? 'Chart name' : 'Chart path';
    chart.input.placeholder = isHelm ? 'redis' : 'charts/app';
    for (const v of [v1, v2]) v.input.placeholder = isHelm ? 'chart version, e.g. 1.2.3 or ^1.2' : 'tag, branch or commit';
    valuesFile.label.querySelector('.hint').textContent = isHelm ? '(path inside the chart, e.g. ci/prod-values.yaml)' : '(path in the repository, read at each version)';
    for (const x of [repo, chart, v1]) x.status.textContent = '';
    lists[1].replaceChildren();
    lists[2].replaceChildren();
    fillRecentRepos(lists[0], isHelm);
  }
  applySource();
  source.addEventListener('change', () => { applySource(); lookup(); });

  chart.input.addEventListener('input', () => { chart.input.dataset.touched = '1'; });
  repo.input.addEventListener('change', lookup);
  chart.input.addEventListener('change', () => { if (helm()) lookup(); });
  lookup();

  function lookup() {
    const url = repo.input.value.trim();
    if (helm()) loadChartVersions(url, chart.input.value.trim());
    else loadRepository(url);
  }

  // The versions of a chart, from the repository's index (or the registry's tags).
  function loadChartVersions(url, name) {
    if (!url) return;
    if (!name) {
      chart.status.textContent = 'Enter the chart\'s name in this repository.';
      return;
    }
    const key = `helm:${url}\n${name}`;
    let info = app.repos.get(key);
    if (!info) {
      info = { versions: postJSON('/api/versions', { helmRepository: url, chart: name }, ctl.signal) };
      app.repos.set(key, info);
      info.versions.catch(() => app.repos.get(key) === info && app.repos.delete(key));
    }
    chart.status.textContent = '';
    v1.status.textContent = 'Reading the repository index…';
    info.versions.then((v) => {
      if (ctl.signal.aborted || !helm() || repo.input.value.trim() !== url || chart.input.value.trim() !== name) return;
      lists[2].replaceChildren(...v.versions.map((n) => h('option', { value: n })));
      v1.status.textContent = `${plural(v.versions.length, 'version')} of ${v.chart}`;
      if (!v1.input.value && v.versions.length > 1) v1.input.placeholder = `e.g. ${v.versions[1]}`;
      if (!v2.input.value && v.versions.length) v2.input.placeholder = `e.g. ${v.versions[0]}`;
    }, (e) => {
      if (e.name === 'AbortError') return;
      v1.status.textContent = `Could not list versions: ${e.message}`;
      if (e.code === 'chart_not_found' && e.body && (e.body.charts || []).length) chart.status.textContent = `Charts with a similar name: ${e.body.charts.join(', ')}`;
    });
  }

  async function loadRepository(url) {
    if (!url) return;
    let info = app.repos.get(url);
    if (!info) {
      info = {
        versions: postJSON('/api/versions', { repository: url }, ctl.signal),
        charts: postJSON('/api/charts', { repository: url }, ctl.signal),
      };
      app.repos.set(url, info);
      // A failed lookup is not cached: the next change of the field tries again.
      info.versions.catch(() => app.repos.get(url) === info && app.repos.delete(url));
      info.charts.catch(() => app.repos.get(url) === info && app.repos.delete(url));
    }
    v1.status.textContent = 'Looking up tags and branches…';
    chart.status.textContent = 'Looking for charts…';
    info.versions.then((v) => {
      if (ctl.signal.aborted || repo.input.value.trim() !== url) return;
      lists[2].replaceChildren(...[...v.tags, ...v.branches].map((n) => h('option', { value: n })));
      v1.status.textContent = `${plural(v.tags.length, 'tag')}, ${plural(v.branches.length, 'branch', 'branches')}`;
      if (!v1.input.value && v.tags.length > 1) v1.input.placeholder = `e.g. ${v.tags[1]}`;
      if (!v2.input.value && v.tags.length) v2.input.placeholder = `e.g. ${v.tags[0]}`;
    }, (e) => {
      if (e.name !== 'AbortError') v1.status.textContent = `Could not list versions: ${e.message}`;
    });
    info.charts.then((c) => {
      if (ctl.signal.aborted || repo.input.value.trim() !== url) return;
      lists[1].replaceChildren(...c.charts.map((x) => h('option', { value: x.path }, `${x.name || x.path}${x.version ? ' ' + x.version : ''}`)));
      const apps = c.charts.filter((x) => !x.library && !x.vendored);
      chart.status.textContent = c.charts.length ? `${plural(c.charts.length, 'chart')} at ${c.revision}` : `no charts at ${c.revision}`;
      // Fill in the only application chart unless the person typed there; selected when the
      // field has focus, so typing replaces it.
      if (!chart.input.value && !chart.input.dataset.touched && apps.length === 1) {
        chart.input.value = apps[0].path;
        if (document.activeElement === chart.input) chart.input.select();
      }
    }, (e) => {
      if (e.name !== 'AbortError') chart.status.textContent = `Could not list charts: ${e.message}`;
    });
  }

  function request() {
    const r = {};
    for (const [k, input] of Object.entries(inputs)) {
      const v = input.value.trim();
      if (v) r[k] = v;
    }
    if (helm()) {
      if (r.repository) r.helmRepository = r.repository;
      if (r.chartPath) r.chart = r.chartPath;
      delete r.repository;
      delete r.chartPath;
    }
    if (values.value.trim()) r.valuesContent = values.value;
    if (renderer.value) r.renderer = renderer.value;
    if (ignoreLabels.checked) r.ignoreLabels = true;
    return r;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const missing = ['repository', 'chartPath', 'version1', 'version2'].filter((k) => !inputs[k].value.trim());
    const formError = document.getElementById('form-error');
    if (missing.length) {
      formError.textContent = `Fill in ${missing.map((k) => inputs[k].labels[0].textContent.trim()).join(', ')}.`;
      inputs[missing[0]].focus();
      return;
    }
    formError.textContent = '';
    run(request());
  });

  async function run(req) {
    draft = req;
    rememberRepo(req.helmRepository || req.repository, Boolean(req.helmRepository));
    if (req.valuesContent) await rememberValues(req.valuesContent);
    errorBox.hidden = true;
    const runCtl = new AbortController();
    running = runCtl;
    submit.disabled = true;
    const started = performance.now();
    const items = new Map(STAGES.map(([id, label]) => [id, h('li', { 'data-stage': id }, h('span', {}, label), h('span', { class: 'ms' }))]));
    const cancel = h('button', { type: 'button', onclick: () => runCtl.abort() }, 'Cancel');
    fill(progress, h('h2', {}, `Comparing ${req.chart || req.chartPath} ${req.version1} → ${req.version2}`), h('ol', { class: 'progress' }, [...items.values()]), cancel);
    progress.hidden = false;
    let last = null;
    const onStage = (s) => {
      const item = items.get(s.stage);
      if (!item) return;
      if (last && last !== item) {
        last.classList.remove('active');
        last.classList.add('done');
      }
      item.classList.add('active');
      last = item;
      const since = () => { item.querySelector('.ms').textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`; };
      since();
    };
    try {
      const result = await compareStream(req, onStage, runCtl.signal);
      for (const item of items.values()) { item.classList.remove('active'); item.classList.add('done'); }
      app.results.set(result.compareId, { comparison: result, request: req, metadata: null });
      draft = null;
      app.navigate(`/analysis/${encodeURIComponent(result.compareId)}`);
    } catch (e) {
      if (last) { last.classList.remove('active'); last.classList.add('failed'); }
      if (e.name === 'AbortError') {
        progress.hidden = true;
        submit.disabled = false;
        return;
      }
      showError(e, req);
    } finally {
      running = null;
      submit.disabled = false;
    }
  }

  function showError(e, req) {
    progress.hidden = true;
    const body = e instanceof ApiError ? e.body : { error: String(e) };
    const offer = (label, patch) => h('button', {
      type: 'button',
      onclick: () => {
        const next = { ...req, ...patch };
        const shown = next.helmRepository ? { ...next, repository: next.helmRepository, chartPath: next.chart } : next;
        for (const [k, input] of Object.entries(inputs)) input.value = shown[k] || '';
        run(next);
      },
    }, label);
    const help = [];
    if (e.code === 'revision_not_found' && body.revision) {
      const which = body.revision === req.version1 ? 'version1' : 'version2';
      const sugg = body.suggestions || [];
      help.push(h('p', {}, sugg.length ? `Did you mean one of these for “${body.revision}”?` : 'No similar tag or branch exists. Pick one from the list in the form.'));
      if (sugg.length) help.push(h('div', { class: 'choices', id: 'suggestions' }, sugg.map((s) => offer(s, { [which]: s }))));
    } else if (e.code === 'version_not_found' && body.version) {
      const which = body.version === req.version1 ? 'version1' : 'version2';
      const sugg = body.suggestions || [];
      help.push(h('p', {}, sugg.length ? `The repository has no version “${body.version}” of ${body.chart}. The nearest:` : 'The repository has no such version of this chart.'));
      if (sugg.length) help.push(h('div', { class: 'choices', id: 'suggestions' }, sugg.map((s) => offer(s, { [which]: s }))));
    } else if (e.code === 'chart_not_found' && req.helmRepository) {
      const charts = body.charts || [];
      help.push(h('p', {}, charts.length ? 'Charts with a similar name in this repository:' : 'The repository has no chart of that name.'));
      if (charts.length) help.push(h('div', { class: 'choices', id: 'charts' }, charts.map((c) => offer(c, { chart: c }))));
    } else if (e.code === 'chart_not_found') {
      const charts = body.charts || [];
      help.push(h('p', {}, charts.length ? `Charts in this repository at ${body.revision}:` : `The repository has no chart (no Chart.yaml) at ${body.revision}.`));
      if (charts.length) help.push(h('div', { class: 'choices', id: 'charts' }, charts.map((c) => offer(c, { chartPath: c }))));
    } else if (e.code === 'values_file_missing') {
      help.push(h('p', {}, `Check the values file path, or clear it to use the chart's defaults.`));
    } else if (e.code === 'repository_not_allowed') {
      help.push(h('p', {}, 'This server only compares repositories on the hosts its operator allowed.'));
    } else if (e.code === 'chart_repository_error') {
      help.push(h('p', {}, 'The chart repository answered, but a chart or one of its dependencies could not be used as it is; the message names which.'));
    } else if (e.code === 'rate_limited' || e.code === 'saturated') {
      help.push(h('p', {}, 'The server is busy. Try again in a few seconds.'));
    }
    fill(errorBox,
      h('h2', {}, 'The comparison failed'),
      h('p', { id: 'error-message' }, body.error || e.message),
      h('p', { class: 'code' }, `code: ${e.code}`),
      ...help,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', onclick: () => { errorBox.hidden = true; inputs.repository.focus(); } }, 'Edit the comparison'),
        h('button', { type: 'button', onclick: () => run(req) }, 'Try again')));
    errorBox.hidden = false;
    errorBox.querySelector('button').focus();
  }

  loadRecent(recent, ctl.signal);

  if (handed && history.state.autorun) {
    // Consume the hand-over so going back to this entry does not run it again.
    history.replaceState({ request: handed }, '', location.pathname + location.search);
    run(handed);
  }

  return {
    dispose() {
      if (!running) draft = request();
      ctl.abort();
      if (running) running.abort();
    },
  };
}

async function loadRecent(el, signal) {
  try {
    const page = await getJSON('/api/analysis?limit=8', signal);
    if (!page.comparisons.length) return;
    el.replaceChildren(h('h2', {}, 'Recent comparisons'),
      h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Chart'), h('th', {}, 'Versions'), h('th', {}, 'Verdict'), h('th', { class: 'num' }, 'Changes'), h('th', {}, 'When'))),
        h('tbody', {}, page.comparisons.map((c) => h('tr', {},
          h('td', {}, h('a', { href: `/analysis/${c.compareId}` }, c.chartPath), h('div', { class: 'muted' }, c.repository)),
          h('td', {}, `${c.version1} → ${c.version2}`, h('div', { class: 'muted mono' }, `${short(c.commit1)} → ${short(c.commit2)}`)),
          h('td', {}, h('span', { class: `badge ${levelOf(c.verdict)}` }, VERDICT_WORDS[c.verdict] || c.verdict)),
          h('td', { class: 'num' }, c.totalChanges),
          h('td', {}, when(c.createdAt)))))));
  } catch {
    // The list is a convenience; the form works without it.
  }
}

export function levelOf(verdict) {
  return { 'high-risk': 'high', 'medium-risk': 'medium', 'low-risk': 'low' }[verdict] || 'plain';
}

// Recently used repositories, git and Helm kept apart.
function repoListKey(helm) {
  return helm ? 'chartimpact-helm-repos' : 'chartimpact-repos';
}

function rememberRepo(url, helm) {
  const key = repoListKey(helm);
  const list = JSON.parse(localStorage.getItem(key) || '[]').filter((r) => r !== url);
  list.unshift(url);
  localStorage.setItem(key, JSON.stringify(list.slice(0, 12)));
}

function fillRecentRepos(datalist, helm) {
  const list = JSON.parse(localStorage.getItem(repoListKey(helm)) || '[]');
  datalist.replaceChildren(...list.map((r) => h('option', { value: r })));
}

// Inline values are not stored with a result (they may hold credentials); this browser keeps
// them by digest so "re-run" here can repeat the comparison exactly.
export async function valuesDigest(text) {
  if (!crypto.subtle) return null;
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function rememberValues(text) {
  const digest = await valuesDigest(text);
  if (!digest) return;
  const kept = JSON.parse(localStorage.getItem('chartimpact-values') || '{}');
  kept[digest] = text;
  const keys = Object.keys(kept);
  for (const k of keys.slice(0, Math.max(0, keys.length - 20))) delete kept[k];
  localStorage.setItem('chartimpact-values', JSON.stringify(kept));
}

export function keptValues(digest) {
  if (!digest) return null;
  const kept = JSON.parse(localStorage.getItem('chartimpact-values') || '{}');
  return kept[digest] || null;
}
