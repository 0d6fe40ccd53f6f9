// The analytics page: most compared charts, how often comparisons find changes, and the
// latest comparisons.
import { h, VERDICT_WORDS, short, when } from './dom.js';
import { getJSON } from './api.js';
import { levelOf } from './compare.js';

export function analyticsView(main) {
  document.title = 'Analytics · ChartImpact';
  const ctl = new AbortController();
  main.append(h('h1', {}, 'Analytics'), h('p', { class: 'muted', id: 'loading' }, 'Loading…'));
  (async () => {
    let popular;
    let recent;
    try {
      [popular, recent] = await Promise.all([
        getJSON('/api/analytics/charts/popular?limit=20', ctl.signal),
        getJSON('/api/analysis?limit=25', ctl.signal),
      ]);
    } catch (e) {
      if (e.name === 'AbortError') return;
      main.replaceChildren(h('h1', {}, 'Analytics'), h('div', { class: 'panel error-screen', role: 'alert' }, h('p', {}, `The analytics could not be loaded: ${e.message}`)));
      return;
    }
    const charts = popular.popularCharts || [];
    const withChanges = charts.reduce((n, c) => n + c.withChanges, 0);
    const counted = charts.reduce((n, c) => n + c.comparisonCount, 0);
    const max = Math.max(1, ...charts.map((c) => c.comparisonCount));
    main.replaceChildren(
      h('h1', {}, 'Analytics'),
      h('p', { class: 'muted' }, `From ${when(popular.periodStart)} to ${when(popular.periodEnd)}.`),
      h('div', { class: 'stat-cards' },
        h('div', { class: 'panel', id: 'total-comparisons' }, h('b', {}, popular.totalComparisons), 'comparisons'),
        h('div', { class: 'panel' }, h('b', {}, charts.length), 'charts compared'),
        h('div', { class: 'panel', id: 'change-rate' }, h('b', {}, counted ? `${Math.round((100 * withChanges) / counted)}%` : '–'), 'of comparisons found changes'),
        h('div', { class: 'panel' }, h('b', {}, recent.total), 'stored results')),
      h('section', { class: 'panel', id: 'popular' },
        h('h2', {}, 'Most compared charts'),
        charts.length
          ? h('table', { class: 'data' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Chart'), h('th', { class: 'num' }, 'Comparisons'), h('th', {}, ''), h('th', { class: 'num' }, 'Change rate'), h('th', { class: 'num' }, 'Avg modified'), h('th', { class: 'num' }, 'Avg added'), h('th', { class: 'num' }, 'Avg removed'), h('th', {}, 'Last compared'))),
            h('tbody', {}, charts.map((c) => {
              const bar = h('div', { class: 'bar' });
              bar.style.width = `${Math.round((100 * c.comparisonCount) / max)}%`;
              return h('tr', {},
                h('td', {}, h('code', {}, c.chartPath), h('div', { class: 'muted' }, c.repository)),
                h('td', { class: 'num' }, c.comparisonCount),
                h('td', { class: 'barcell' }, bar),
                h('td', { class: 'num' }, `${Math.round(c.changeRate * 100)}%`),
                h('td', { class: 'num' }, c.avgModified),
                h('td', { class: 'num' }, c.avgAdded),
                h('td', { class: 'num' }, c.avgRemoved),
                h('td', {}, when(c.lastComparisonAt)));
            })))
          : h('p', { class: 'muted' }, 'No comparisons yet.')),
      h('section', { class: 'panel', id: 'recent' },
        h('h2', {}, 'Recent comparisons'),
        recent.comparisons.length
          ? h('table', { class: 'data' },
            h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Chart'), h('th', {}, 'Versions'), h('th', {}, 'Verdict'), h('th', { class: 'num' }, '+ / − / ~'), h('th', { class: 'num' }, 'Changes'))),
            h('tbody', {}, recent.comparisons.map((c) => h('tr', {},
              h('td', {}, when(c.createdAt)),
              h('td', {}, h('a', { href: `/analysis/${c.compareId}` }, c.chartPath), h('div', { class: 'muted' }, c.repository)),
              h('td', {}, `${c.version1} → ${c.version2}`, h('div', { class: 'muted mono' }, `${short(c.commit1)} → ${short(c.commit2)}`)),
              h('td', {}, h('span', { class: `badge ${levelOf(c.verdict)}` }, VERDICT_WORDS[c.verdict] || c.verdict)),
              h('td', { class: 'num' }, `${c.resourcesAdded} / ${c.resourcesRemoved} / ${c.resourcesModified}`),
              h('td', { class: 'num' }, c.totalChanges)))))
          : h('p', { class: 'muted' }, 'No stored results.')));
  })();
  return { dispose() { ctl.abort(); } };
}
