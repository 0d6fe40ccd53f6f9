// The web UI in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// against the real server binary on loopback, comparing local git repositories made from the
// shared corpus. Screenshots of the main screens go to target/ui-screenshots/ for review.
//
// Run: scripts/test.sh runs it after the cargo tests; alone: `npm test` in this directory with
// CHARTIMPACT_SERVER_BIN pointing at a built chartimpact-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';
import { makeBigRepo } from './fixtures.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const serverBin = process.env.CHARTIMPACT_SERVER_BIN || join(root, 'target', 'debug', 'chartimpact-server');
const corpus = process.env.CHARTIMPACT_CORPUS || resolve(root, 'tests', 'data', 'corpus');
const shots = join(root, 'target', 'ui-screenshots');
const CASE = 'reloader__1.0.119__2.1.0';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

let work;
let server;
let base;
let browser;
let caseRepo;
let bigRepo;
let chartRepos;
const problems = [];

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
    s.on('error', fail);
  });
}

async function waitHealthy(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.status === 200) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the server did not answer /api/health within ${ms} ms`);
}

async function newPage(opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, ...opts });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error at ${page.url()}: ${e.message} ${e.stack || ''}`.trim()));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push(`console: ${m.text()}`); });
  return page;
}

// The compare form with the case repository entered and its charts and versions looked up.
async function formWithCaseRepo(page) {
  await page.goto(`${base}/`);
  await page.fill('#f-repository', caseRepo);
  await page.press('#f-repository', 'Tab');
  await page.waitForFunction(() => /1 chart/.test(document.getElementById('f-chartPath-status').textContent));
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

async function api(path, body) {
  const r = await fetch(base + path, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
  return { status: r.status, json: await r.json() };
}

before(async () => {
  if (!existsSync(serverBin)) throw new Error(`no server binary at ${serverBin}: build it (cargo build --bin chartimpact-server) or set CHARTIMPACT_SERVER_BIN`);
  mkdirSync(shots, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'chartimpact-ui-'));
  caseRepo = join(work, 'case');
  execFileSync(join(root, 'scripts', 'make-case-repo.sh'), [join(corpus, 'cases', CASE), caseRepo], { stdio: 'pipe' });
  bigRepo = join(work, 'big');
  makeBigRepo(bigRepo, 2500);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(serverBin, ['--listen', `127.0.0.1:${port}`, '--data-dir', join(work, 'data'), '--allow-local-repos',
    '--rate-limit', '100000'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
  server.on('exit', (code) => { if (code) problems.push(`server exited ${code}: ${log}`); });
  await waitHealthy(base, 60000);
  // The corpus's Helm repositories (helm package + helm repo index) on loopback.
  chartRepos = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
    if (rel.split('/').includes('..')) { res.writeHead(400).end(); return; }
    try {
      const data = readFileSync(join(corpus, 'chart-repos', rel));
      res.writeHead(200, { 'content-length': data.length }).end(data);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => chartRepos.listen(0, '127.0.0.1', ok));
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});

after(async () => {
  if (chartRepos) chartRepos.close();
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the UI is served with security headers and loads without errors', async () => {
  const r = await fetch(`${base}/`);
  assert.equal(r.status, 200);
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await r.text(), /<html/);
  const asset = await fetch(`${base}/assets/app.js`);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('content-type'), /javascript/);
  const again = await fetch(`${base}/assets/app.js`, { headers: { 'if-none-match': asset.headers.get('etag') } });
  assert.equal(again.status, 304);
  // The API's unknown routes stay JSON.
  const missing = await fetch(`${base}/api/nope`, { headers: { accept: 'text/html' } });
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type'), /json/);
});

let permalink;
let compareId;

test('compare from the form: pickers, live progress, verdict and signals', async () => {
  const page = await newPage();
  await page.goto(`${base}/`);
  await shot(page, '01-compare-empty');
  await page.fill('#f-repository', caseRepo);
  await page.press('#f-repository', 'Tab');
  // Charts and versions are offered once the repository is known.
  await page.waitForFunction(() => /1 chart/.test(document.getElementById('f-chartPath-status').textContent));
  assert.equal(await page.inputValue('#f-chartPath'), 'chart');
  await page.waitForFunction(() => /2 tags/.test(document.getElementById('f-version1-status').textContent));
  const offered = await page.$$eval('#version-list option', (os) => os.map((o) => o.value));
  assert.deepEqual(offered.slice(0, 2).sort(), ['after', 'before']);
  await page.fill('#f-version1', 'before');
  await page.fill('#f-version2', 'after');
  await shot(page, '02-compare-filled');
  // Record every stage the progress list marks while the comparison runs.
  await page.evaluate(() => {
    window.seenStages = new Set();
    new MutationObserver(() => {
      for (const li of document.querySelectorAll('#progress li.active, #progress li.done')) window.seenStages.add(li.dataset.stage);
    }).observe(document.getElementById('progress'), { subtree: true, attributes: true, childList: true });
  });
  await page.click('#run');
  await page.waitForURL(/\/analysis\/[0-9a-f]{64}/, { timeout: 120000 });
  await page.waitForSelector('#verdict');
  compareId = page.url().match(/analysis\/([0-9a-f]{64})/)[1];
  const stages = await page.evaluate(() => [...(window.seenStages || [])]);
  assert.ok(stages.includes('resolve') && stages.includes('render'), `stages seen: ${stages}`);

  const stored = await api(`/api/analysis/${compareId}`);
  assert.equal(stored.status, 200);
  const impact = stored.json.comparison.impact;
  const words = { 'high-risk': 'High risk', 'medium-risk': 'Medium risk', 'low-risk': 'Low risk', 'no-changes': 'No changes' };
  assert.equal((await page.textContent('#verdict .word')).trim(), words[impact.verdict]);
  // Every signal is shown, one by one or within a group of the same rule.
  const shown = await page.$$eval('#impact .signal', (ls) => ls.reduce((n, l) => n + Number(l.dataset.count), 0));
  assert.equal(shown, impact.signals.length);
  for (const s of impact.signals.slice(0, 5)) {
    assert.ok(await page.locator('#impact .signal .title', { hasText: s.title }).count() > 0, `signal ${s.title} shown`);
  }
  // The stored request remembers the inputs for "re-run".
  assert.equal(stored.json.comparison.request.version2, 'after');
  await shot(page, '03-analysis');
  permalink = page.url();
  await page.context().close();
});

test('filter, open a resource, switch the diff layout, copy the link, open it fresh', async () => {
  const page = await newPage();
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  await page.goto(permalink);
  await page.waitForSelector('#resources .row-res');
  const total = await page.locator('#resources .row-res').count();
  assert.ok(total > 1, 'several changed resources listed');
  await page.selectOption('#filter-kind', 'Deployment');
  const kinds = await page.$$eval('#resources .row-group', (gs) => gs.map((g) => g.firstChild.textContent));
  assert.deepEqual(kinds, ['Deployment']);
  assert.match(page.url(), /kind=Deployment/);
  await page.click('#resources .row-res');
  const name = await page.getAttribute('#resources .row-res[aria-selected="true"]', 'data-key');
  assert.match(name, /^Deployment\//);
  assert.ok((await page.textContent('#detail h2')).startsWith('Deployment '));
  assert.ok(await page.locator('#changes tbody tr').count() > 0, 'the changes of the resource are listed');
  assert.ok(await page.locator('#diff .dl.add, #diff .dl.del').count() > 0, 'the YAML diff shows changed lines');
  await page.click('button[data-view="split"]');
  await page.waitForSelector('#diff[data-mode="split"] .split');
  assert.match(page.url(), /view=split/);
  await shot(page, '04-resource-split');

  // Search narrows to resources whose name or change paths match.
  await page.selectOption('#filter-kind', '');
  await page.fill('#filter-q', 'image');
  await page.waitForFunction(() => /^\d+ of/.test(document.getElementById('count').textContent) && new URL(location.href).searchParams.get('q') === 'image');
  const matching = await page.$$eval('#resources .row-res', (rs) => rs.length);
  assert.ok(matching >= 1 && matching <= total);

  await page.click('#copy-link');
  let link;
  try {
    link = await page.evaluate(() => navigator.clipboard.readText());
  } catch {
    link = await page.getAttribute('#copy-link', 'data-copied');
  }
  assert.equal(link, page.url());
  const selected = await page.getAttribute('#resources .row-res[aria-selected="true"]', 'data-key');
  await page.context().close();

  // A fresh browser context (no storage, no history) opens exactly the same view.
  const fresh = await newPage();
  await fresh.goto(link);
  await fresh.waitForSelector('#resources .row-res[aria-selected="true"]');
  assert.equal(await fresh.inputValue('#filter-q'), 'image');
  assert.equal(await fresh.getAttribute('#resources .row-res[aria-selected="true"]', 'data-key'), selected);
  assert.equal(await fresh.getAttribute('#diff', 'data-mode'), 'split');
  assert.equal(await fresh.getAttribute('button[data-view="split"]', 'aria-pressed'), 'true');
  await fresh.context().close();
});

test('keyboard: / focuses search, j and k move through resources', async () => {
  const page = await newPage();
  await page.goto(`${base}/analysis/${compareId}`);
  await page.waitForSelector('#resources .row-res[aria-selected="true"]');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'filter-q');
  await page.focus('#resources');
  await page.keyboard.press('Home');
  const first = await page.getAttribute('#resources .row-res[aria-selected="true"]', 'data-key');
  await page.keyboard.press('j');
  const second = await page.getAttribute('#resources .row-res[aria-selected="true"]', 'data-key');
  assert.notEqual(first, second);
  await page.keyboard.press('k');
  assert.equal(await page.getAttribute('#resources .row-res[aria-selected="true"]', 'data-key'), first);
  await page.context().close();
});

test('re-run repeats the comparison with the same inputs', async () => {
  const page = await newPage();
  await page.goto(`${base}/analysis/${compareId}`);
  await page.waitForSelector('#rerun:not([disabled])');
  await page.evaluate(() => {
    window.visited = [];
    const push = history.pushState.bind(history);
    history.pushState = (s, t, url) => { window.visited.push(String(url)); push(s, t, url); };
  });
  await page.click('#rerun');
  await page.waitForFunction((id) => window.visited.length >= 2 && window.visited.at(-1) === `/analysis/${id}`, compareId, { timeout: 120000 });
  assert.equal((await page.evaluate(() => window.visited))[0], '/compare');
  await page.waitForSelector('#verdict');
  await page.context().close();
});

test('an unknown revision offers the nearest names, and picking one runs', async () => {
  const page = await newPage();
  await formWithCaseRepo(page);
  await page.fill('#f-version1', 'before');
  await page.fill('#f-version2', 'aftr');
  await page.click('#run');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error-message'), /revision "aftr" not found/);
  assert.ok(await page.locator('#suggestions button', { hasText: 'after' }).count() > 0);
  await shot(page, '05-error-revision');
  await page.click('#suggestions button:has-text("after")');
  await page.waitForURL(/\/analysis\//, { timeout: 120000 });
  await page.context().close();
});

test('a missing chart lists the charts that exist', async () => {
  const page = await newPage();
  await formWithCaseRepo(page);
  await page.fill('#f-chartPath', 'charts/nope');
  await page.fill('#f-version1', 'before');
  await page.fill('#f-version2', 'after');
  await page.click('#run');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error-message'), /chart not found at charts\/nope/);
  assert.deepEqual(await page.$$eval('#charts button', (bs) => bs.map((b) => b.textContent)), ['chart']);
  await shot(page, '06-error-chart');
  await page.context().close();
});

test('a comparison without changes says so plainly', async () => {
  const { status, json } = await api('/api/compare', { repository: caseRepo, chartPath: 'chart', version1: 'after', version2: 'after' });
  assert.equal(status, 200);
  assert.equal(json.impact.verdict, 'no-changes');
  const page = await newPage();
  await page.goto(`${base}/analysis/${json.compareId}`);
  await page.waitForSelector('#verdict');
  assert.equal((await page.textContent('#verdict .word')).trim(), 'No changes');
  assert.match(await page.textContent('#impact'), /Nothing changes in the cluster/);
  assert.match(await page.textContent('#detail'), /No resource changes/);
  assert.equal(await page.locator('#resources .row-res').count(), 0);
  await page.context().close();
});

test('an unknown or expired result says so', async () => {
  const page = await newPage();
  await page.goto(`${base}/analysis/${'0'.repeat(64)}`);
  await page.waitForSelector('#missing');
  assert.match(await page.textContent('#missing'), /does not exist or has expired/);
  await page.context().close();
});

test('a chart from a Helm repository: the source choice, versions from the index, nearest versions offered', async () => {
  const page = await newPage();
  const helmRepo = `http://127.0.0.1:${chartRepos.address().port}/dandydeveloper`;
  await page.goto(`${base}/`);
  await page.selectOption('#f-source', 'helm');
  assert.equal(await page.textContent('label[for="f-chartPath"]'), 'Chart name');
  await page.fill('#f-repository', helmRepo);
  await page.fill('#f-chartPath', 'redis-ha');
  await page.press('#f-chartPath', 'Tab');
  await page.waitForFunction(() => /3 versions of redis-ha/.test(document.getElementById('f-version1-status').textContent));
  assert.deepEqual(await page.$$eval('#version-list option', (o) => o.map((x) => x.value)), ['4.33.2', '4.29.4', '4.26.1']);
  await page.fill('#f-version1', '4.29.4');
  await page.fill('#f-version2', '99.1.0');
  await page.click('#run');
  await page.waitForSelector('#error:not([hidden]) #suggestions button');
  assert.match(await page.textContent('#error-message'), /99\.1\.0/);
  await shot(page, '09-helm-version-not-found');
  await page.click('#suggestions button:has-text("4.33.2")');
  await page.waitForURL(/\/analysis\/[0-9a-f]{64}/, { timeout: 120000 });
  await page.waitForSelector('.result-head h1');
  assert.match(await page.textContent('.result-head h1'), /redis-ha 4\.29\.4 → 4\.33\.2/);
  await shot(page, '10-helm-result');
  const id = page.url().match(/analysis\/([0-9a-f]{64})/)[1];
  const stored = await api(`/api/analysis/${id}`);
  assert.equal(stored.json.comparison.helmRepository, helmRepo);
  assert.equal(stored.json.comparison.request.chart, 'redis-ha');
  assert.match(stored.json.comparison.resolved.version1, /^sha256:/);
  await page.context().close();
});

test('analytics: most compared charts and recent comparisons', async () => {
  const page = await newPage();
  await page.goto(`${base}/analytics`);
  await page.waitForSelector('#popular table');
  assert.match(await page.textContent('#popular'), /chart/);
  const popular = (await api('/api/analytics/charts/popular')).json;
  assert.equal((await page.textContent('#total-comparisons b')).trim(), String(popular.totalComparisons));
  assert.ok(await page.locator(`#recent a[href="/analysis/${compareId}"]`).count() > 0);
  await shot(page, '07-analytics');
  await page.click(`#recent a[href="/analysis/${compareId}"]`);
  await page.waitForSelector('#verdict');
  await page.context().close();
});

test('dark scheme: the page follows the system and the switch', async () => {
  const page = await newPage({ colorScheme: 'dark' });
  await page.goto(`${base}/analysis/${compareId}`);
  await page.waitForSelector('#verdict');
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const dark = await bg();
  await shot(page, '08-analysis-dark');
  await page.click('#theme'); // system → light
  const light = await bg();
  assert.notEqual(dark, light);
  await page.context().close();
});

test('a result of several megabytes stays responsive: lists are virtualised', async () => {
  const req = { repository: bigRepo, chartPath: 'charts/many', version1: 'v1', version2: 'v2' };
  const r = await fetch(`${base}/api/compare`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) });
  const bytes = (await r.arrayBuffer()).byteLength;
  assert.equal(r.status, 200);
  assert.ok(bytes > 2_000_000, `result is ${bytes} bytes`);
  const id = r.headers.get('x-compare-id');
  const page = await newPage();
  await page.goto(`${base}/analysis/${id}`);
  await page.waitForSelector('#resources .row-res');
  assert.match(await page.textContent('#count'), /2500 of 2500/);
  // Only the rows in view are in the document.
  assert.ok(await page.locator('#resources .row-res').count() < 100);
  await page.fill('#filter-q', 'cm-2499');
  await page.waitForFunction(() => /^1 of 2500/.test(document.getElementById('count').textContent));
  await page.click('#resources .row-res');
  await page.waitForSelector('#diff .dl');
  const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
  assert.ok(nodes < 3000, `${nodes} elements in the page`);
  await shot(page, '09-large-result');
  await page.context().close();
});

test('no script errors or CSP violations anywhere above', () => {
  assert.deepEqual(problems, []);
});
