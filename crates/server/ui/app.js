// The application shell: a client-side router over five pages, the colour-scheme switch,
// and the in-memory state pages hand each other (a fresh result, the per-repository pickers).
import { h } from './dom.js';
import { compareView } from './compare.js';
import { analysisView } from './analysis.js';
import { analyticsView } from './analytics.js';
import { operationsView } from './operations.js';

const main = document.getElementById('main');

const app = {
  // Results just computed in this tab, by compare id: the analysis page shows them without
  // fetching them again.
  results: new Map(),
  // Tags, branches and charts per repository, fetched once per repository.
  repos: new Map(),
  navigate(url, state) {
    history.pushState(state ?? null, '', url);
    route();
  },
  // Keeps the page's view state (filters, selection) in the address bar without a new entry.
  setQuery(params) {
    const q = params.toString();
    history.replaceState(history.state, '', location.pathname + (q ? `?${q}` : ''));
  },
};

let current = null;

function route() {
  if (current && current.dispose) current.dispose();
  current = null;
  main.replaceChildren();
  const path = location.pathname.replace(/\/+$/, '') || '/';
  let page = '';
  let m;
  if (path === '/' || path === '/compare') {
    page = 'compare';
    current = compareView(main, app);
  } else if ((m = path.match(/^\/analysis\/([^/]+)$/))) {
    page = 'compare';
    current = analysisView(main, decodeURIComponent(m[1]), app);
  } else if (path === '/analytics') {
    page = 'analytics';
    current = analyticsView(main, app);
  } else if (path === '/operations') {
    page = 'operations';
    current = operationsView(main, app);
  } else {
    document.title = 'Page not found · ChartImpact';
    main.append(h('div', { class: 'panel' },
      h('h1', {}, 'Page not found'),
      h('p', {}, `Nothing lives at ${location.pathname}. `, h('a', { href: '/', 'data-link': true }, 'Start a comparison'), '.')));
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// Same-origin links to UI pages change the page without reloading.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname === '/metrics') return;
  e.preventDefault();
  app.navigate(url.pathname + url.search);
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
});

window.addEventListener('popstate', route);

// Colour scheme: the system's, or the person's choice (kept in this browser).
const THEMES = ['system', 'light', 'dark'];
function applyTheme(theme) {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const button = document.getElementById('theme');
  if (button) {
    button.setAttribute('aria-label', `Colour scheme: ${theme === 'system' ? 'follow the system' : theme}`);
    button.title = button.getAttribute('aria-label');
  }
}
let theme = localStorage.getItem('chartimpact-theme') || 'system';
applyTheme(theme);
document.getElementById('theme')?.addEventListener('click', () => {
  theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  localStorage.setItem('chartimpact-theme', theme);
  applyTheme(theme);
});

route();
