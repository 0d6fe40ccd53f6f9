// The operators' page: the job queue's depth and GitHub's rate limit, the webhook jobs (state,
// repository, pull request, timings, attempts, errors, a re-run button) and the webhook
// deliveries. It refreshes itself while open; the status filter lives in the query string.
import { h, fill, plural, short, toast, when } from './dom.js';
import { getJSON, postJSON } from './api.js';

const STATUSES = ['queued', 'deferred', 'running', 'succeeded', 'failed', 'superseded', 'cancelled'];
const REFRESH_MS = 5000;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

function duration(ms) {
  if (ms == null) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${Math.round(s / 60)} min`;
}

function statusBadge(status) {
  const tone = { failed: 'high', running: 'medium', queued: 'low', deferred: 'low', succeeded: 'added', superseded: 'plain', cancelled: 'plain' }[status] || 'plain';
  return h('span', { class: `badge ${tone}`, 'data-status': status }, status || '–');
}

function pullRequestLink(repo, number) {
  if (!repo || number == null) return '';
  return h('a', { href: `https://github.com/${repo}/pull/${number}`, rel: 'noopener noreferrer', target: '_blank' }, `#${number}`);
}

export function operationsView(main, app) {
  document.title = 'Operations · ChartImpact';
  const ctl = new AbortController();
  const params = new URLSearchParams(location.search);
  let status = STATUSES.includes(params.get('status')) ? params.get('status') : '';
  let timer = null;

  const overview = h('div', { class: 'stat-cards', id: 'ops-overview' }, h('p', { class: 'muted' }, 'Loading…'));
  const filter = h('select', { id: 'jobs-status', 'aria-label': 'Job status' },
    h('option', { value: '' }, 'all statuses'),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)));
  const jobsBody = h('div', { id: 'jobs' });
  const deliveriesBody = h('div', { id: 'deliveries' });
  const updated = h('span', { class: 'muted', id: 'ops-updated' });
  main.append(
    h('h1', {}, 'Operations'),
    h('p', { class: 'muted' }, 'The webhook pipeline of this server: the queue, the jobs it ran and the deliveries GitHub sent. ', updated),
    overview,
    h('section', { class: 'panel', id: 'jobs-panel' },
      h('h2', {}, 'Jobs'),
      h('div', { class: 'actions' }, h('label', {}, 'Show ', filter)),
      jobsBody),
    h('section', { class: 'panel', id: 'deliveries-panel' },
      h('h2', {}, 'Webhook deliveries'),
      deliveriesBody));

  filter.addEventListener('change', () => {
    status = filter.value;
    const q = new URLSearchParams(location.search);
    if (status) q.set('status', status); else q.delete('status');
    app.setQuery(q);
    refresh();
  });

  async function rerun(job, button) {
    button.disabled = true;
    try {
      const r = await postJSON(`/api/jobs/${encodeURIComponent(job.id)}/rerun`, {}, ctl.signal);
      toast(r.coalesced ? `Job ${job.id} is already queued as job ${r.jobId}` : `Job ${job.id} queued again as job ${r.jobId}`);
      await refresh();
    } catch (e) {
      if (e.name === 'AbortError') return;
      button.disabled = false;
      toast(`Not re-run: ${e.message}`);
    }
  }

  function renderOverview(o) {
    const q = o.queue;
    const rate = o.githubRateLimit;
    let rateCard;
    if (!rate) {
      rateCard = h('div', { class: 'panel', id: 'rate-limit' }, h('b', {}, '–'), 'GitHub rate limit: this server does not publish to GitHub');
    } else if (rate.remaining == null) {
      rateCard = h('div', { class: 'panel', id: 'rate-limit' }, h('b', {}, '–'), 'GitHub rate limit: no answer from GitHub yet');
    } else {
      const low = rate.limit ? rate.remaining / rate.limit < 0.1 : false;
      rateCard = h('div', { class: `panel${low ? ' warn' : ''}`, id: 'rate-limit' },
        h('b', {}, `${rate.remaining} / ${rate.limit ?? '?'}`),
        `GitHub requests left${rate.resource ? ` (${rate.resource})` : ''}`,
        rate.resetAt ? h('div', { class: 'muted' }, `resets ${when(rate.resetAt)}`) : null);
    }
    fill(overview,
      h('div', { class: 'panel', id: 'queue-depth' }, h('b', {}, q.depth), 'jobs waiting', h('div', { class: 'muted' }, `${q.queued} queued, ${q.deferred} deferred`)),
      h('div', { class: 'panel', id: 'queue-running' }, h('b', {}, q.running), 'running', h('div', { class: 'muted' }, o.webhooksEnabled ? `${plural(o.workers, 'worker')} in this replica` : 'webhooks are off on this server')),
      rateCard);
  }

  function renderJobs(page) {
    if (!page.jobs.length) {
      fill(jobsBody, h('p', { class: 'muted' }, status ? `No ${status} jobs.` : 'No jobs yet: they appear when GitHub delivers pull request, push or release events.'));
      return;
    }
    fill(jobsBody, h('table', { class: 'data' },
      h('thead', {}, h('tr', {},
        h('th', {}, 'Job'), h('th', {}, 'State'), h('th', {}, 'Repository'), h('th', {}, 'PR'), h('th', {}, 'Revision'),
        h('th', {}, 'Created'), h('th', { class: 'num' }, 'Took'), h('th', { class: 'num' }, 'Attempts'), h('th', {}, 'Error / results'), h('th', {}, ''))),
      h('tbody', {}, page.jobs.map((j) => {
        const button = FINISHED.has(j.status) && !j.supersededBy
          ? h('button', { type: 'button', class: 'rerun', 'data-job': j.id, 'aria-label': `Re-run job ${j.id}` }, 'Re-run')
          : null;
        if (button) button.addEventListener('click', () => rerun(j, button));
        const results = (j.compareIds || []).map((id) => h('a', { href: `/analysis/${id}`, 'data-link': true }, short(id)));
        return h('tr', { 'data-job': j.id, 'data-status': j.status },
          h('td', {}, h('a', { href: `/api/jobs/${j.id}` }, j.id), h('div', { class: 'muted' }, j.kind)),
          h('td', {}, statusBadge(j.status), j.supersededBy ? h('div', { class: 'muted' }, `by job ${j.supersededBy}`) : null),
          h('td', {}, h('code', {}, j.repository)),
          h('td', {}, pullRequestLink(j.repository, j.pullRequest)),
          h('td', {}, h('code', { title: j.revision }, /^[0-9a-f]{40}$/.test(j.revision) ? short(j.revision) : j.revision)),
          h('td', {}, when(j.createdAt), j.startedAt ? h('div', { class: 'muted' }, `started ${when(j.startedAt)}`) : null),
          h('td', { class: 'num' }, duration(j.durationMs)),
          h('td', { class: 'num' }, `${j.attempts} / ${j.maxAttempts}`),
          h('td', { class: 'job-error' }, j.error ? h('span', { class: 'error-text' }, j.error) : results.length ? results.flatMap((a, i) => (i ? [' ', a] : [a])) : ''),
          h('td', {}, button));
      }))),
    page.nextOffset != null ? h('p', { class: 'muted' }, `Showing the newest ${page.jobs.length}.`) : null);
  }

  function renderDeliveries(page) {
    if (!page.deliveries.length) {
      fill(deliveriesBody, h('p', { class: 'muted' }, page.webhooksEnabled ? 'No deliveries yet.' : 'Webhooks are off on this server (start it with --webhook-secrets).'));
      return;
    }
    fill(deliveriesBody, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Received'), h('th', {}, 'Event'), h('th', {}, 'Repository'), h('th', {}, 'Delivery'), h('th', {}, 'Job'))),
      h('tbody', {}, page.deliveries.map((d) => h('tr', { 'data-delivery': d.id },
        h('td', {}, when(d.receivedAt)),
        h('td', {}, h('code', {}, d.action ? `${d.event}.${d.action}` : d.event)),
        h('td', {}, d.repository ? h('code', {}, d.repository) : ''),
        h('td', {}, h('code', { class: 'muted' }, d.id)),
        h('td', {}, d.jobId ? [h('a', { href: `/api/jobs/${d.jobId}` }, d.jobId), ' ', statusBadge(d.jobStatus)] : h('span', { class: 'muted' }, 'no job')))))));
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const jobsUrl = `/api/jobs?limit=50${status ? `&status=${status}` : ''}`;
      const [o, jobs, deliveries] = await Promise.all([
        getJSON('/api/operations', ctl.signal),
        getJSON(jobsUrl, ctl.signal),
        getJSON('/api/deliveries?limit=50', ctl.signal),
      ]);
      renderOverview(o);
      renderJobs(jobs);
      renderDeliveries(deliveries);
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(overview, h('div', { class: 'panel error-screen', role: 'alert' }, h('p', {}, `The operations view could not be loaded: ${e.message}`)));
    }
    if (!ctl.signal.aborted) timer = setTimeout(refresh, REFRESH_MS);
  }

  refresh();
  return { dispose() { ctl.abort(); clearTimeout(timer); } };
}
