// The operators' page (/operations) in a real headless Chromium against the real server binary,
// with its webhook pipeline on: signed deliveries from GitHub's own payloads, a local bare
// repository served as acme/charts, and a small GitHub API on loopback that answers what the
// publisher asks and reports a rate limit. Screenshots go to target/ui-screenshots/.
//
// Run with the other browser tests (scripts/test.sh), or alone:
// CHARTIMPACT_SERVER_BIN=… node --test operations.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const serverBin = process.env.CHARTIMPACT_SERVER_BIN || join(root, 'target', 'debug', 'chartimpact-server');
const corpus = process.env.CHARTIMPACT_CORPUS || resolve(root, 'tests', 'data', 'corpus');
const hooks = resolve(root, 'tests', 'data', 'github', 'webhooks');
const shots = join(root, 'target', 'ui-screenshots');
const CASE = 'reloader__1.0.119__2.1.0';
const SECRET = 'operations-view-webhook-secret';
const RATE = { limit: 5000, remaining: 4321 };
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

let work;
let server;
let github;
let base;
let browser;
let shas;
const problems = [];
const published = { comments: [], statuses: [] };

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
    s.on('error', fail);
  });
}

const git = (dir, ...args) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();

// What the publisher calls on GitHub, and nothing more: who we are, the pull request, its
// comments, statuses. Every answer carries GitHub's rate-limit headers.
function fakeGithub() {
  let nextId = 100;
  return http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const reply = (status, obj) => {
        const data = obj === undefined ? '' : JSON.stringify(obj);
        res.writeHead(status, {
          'content-type': 'application/json',
          'x-ratelimit-limit': String(RATE.limit),
          'x-ratelimit-remaining': String(RATE.remaining),
          'x-ratelimit-used': String(RATE.limit - RATE.remaining),
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1800),
          'x-ratelimit-resource': 'core',
        }).end(data);
      };
      const path = new URL(req.url, 'http://x').pathname;
      let m;
      if (req.method === 'GET' && path === '/user') return reply(200, { login: 'chartimpact-bot', id: 7, type: 'Bot' });
      if (req.method === 'GET' && (m = path.match(/^\/repos\/acme\/charts\/pulls\/7(\/files)?$/))) {
        if (m[1]) return reply(200, [{ filename: 'chart/values.yaml', status: 'modified', additions: 1, deletions: 1, changes: 2 }]);
        const side = (ref, sha) => ({ sha, ref, repo: { full_name: 'acme/charts', id: 424242 } });
        return reply(200, { number: 7, state: 'open', draft: false, head: side('feature', shas.head), base: side('main', shas.base) });
      }
      if ((m = path.match(/^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments$/))) {
        if (req.method === 'GET') return reply(200, []);
        const c = { id: nextId++, body: JSON.parse(body).body, user: { login: 'chartimpact-bot', type: 'Bot' } };
        published.comments.push(c);
        return reply(201, c);
      }
      if (req.method === 'POST' && (m = path.match(/^\/repos\/[^/]+\/[^/]+\/statuses\/([0-9a-f]{40})$/))) {
        published.statuses.push({ sha: m[1], ...JSON.parse(body) });
        return reply(201, { id: nextId++ });
      }
      return reply(404, { message: 'Not Found' });
    });
  });
}

function pullRequest(repoName, number) {
  const p = JSON.parse(readFileSync(join(hooks, 'pull_request.opened.1.json'), 'utf8'));
  const repo = p.repository;
  Object.assign(repo, { name: repoName, full_name: `acme/${repoName}`, id: 424242, private: false, default_branch: 'main', clone_url: `https://github.com/acme/${repoName}.git` });
  Object.assign(repo.owner, { login: 'acme', id: 99 });
  const pr = p.pull_request;
  Object.assign(pr, { number, state: 'open', draft: false });
  Object.assign(pr.head, { sha: shas.head, ref: 'feature', repo: structuredClone(repo) });
  Object.assign(pr.base, { sha: shas.base, ref: 'main', repo: structuredClone(repo) });
  Object.assign(p, { action: 'opened', number });
  delete p.installation;
  return p;
}

async function deliver(event, payload, id = randomUUID()) {
  const body = JSON.stringify(payload);
  const r = await fetch(`${base}/api/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    },
    body,
  });
  return r.json();
}

async function api(path) {
  return (await fetch(base + path)).json();
}

async function until(what, check, ms = 120000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error at ${page.url()}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  return page;
}

before(async () => {
  if (!existsSync(serverBin)) throw new Error(`no server binary at ${serverBin}: build it (cargo build --bin chartimpact-server) or set CHARTIMPACT_SERVER_BIN`);
  mkdirSync(shots, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'chartimpact-ops-'));
  const src = join(work, 'src');
  execFileSync(join(root, 'scripts', 'make-case-repo.sh'), [join(corpus, 'cases', CASE), src], { stdio: 'pipe' });
  mkdirSync(join(work, 'gh', 'acme'), { recursive: true });
  execFileSync('git', ['clone', '-q', '--bare', src, join(work, 'gh', 'acme', 'charts.git')]);
  shas = { base: git(src, 'rev-parse', 'before^{commit}'), head: git(src, 'rev-parse', 'after^{commit}') };
  github = fakeGithub();
  await new Promise((ok) => github.listen(0, '127.0.0.1', ok));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(serverBin, ['--listen', `127.0.0.1:${port}`, '--data-dir', join(work, 'data'), '--allow-local-repos',
    '--rate-limit', '100000', '--webhook-secrets', SECRET, '--github-git-url', `file://${join(work, 'gh')}`,
    '--github-api-url', `http://127.0.0.1:${github.address().port}`, '--job-max-attempts', '1', '--workers', '2'],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CHARTIMPACT_GITHUB_TOKEN: 'operations-test-token' } });
  let log = '';
  server.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
  server.on('exit', (code) => { if (code) problems.push(`server exited ${code}: ${log}`); });
  await until('the server', async () => {
    try { return (await fetch(`${base}/api/health`)).status === 200; } catch { return false; }
  }, 60000);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  if (github) github.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

let failedJob;

test('the operations page shows the queue, the rate limit, jobs and deliveries', async () => {
  const page = await newPage();
  await page.goto(`${base}/operations`);
  await page.waitForSelector('#queue-depth');
  assert.match(await page.textContent('#jobs'), /No jobs yet/);
  await shot(page, '20-operations-empty');

  const pong = await deliver('ping', JSON.parse(readFileSync(join(hooks, 'ping.1.json'), 'utf8')), 'ping-1');
  assert.equal(pong.status, 'pong');
  const ok = await deliver('pull_request', pullRequest('charts', 7), 'pr-ok');
  const bad = await deliver('pull_request', pullRequest('missing', 3), 'pr-missing');
  failedJob = bad.jobId;
  const done = (id, status) => until(`job ${id} ${status}`, async () => (await api(`/api/jobs/${id}`)).status === status);
  await done(ok.jobId, 'succeeded');
  await done(bad.jobId, 'failed');
  // The publisher answered GitHub: its rate limit is known now.
  assert.ok(published.statuses.some((s) => s.sha === shas.head && s.state === 'success'), JSON.stringify(published.statuses));

  // The page refreshes itself.
  await page.waitForSelector(`#jobs tr[data-job="${bad.jobId}"][data-status="failed"]`, { timeout: 15000 });
  await page.waitForSelector(`#jobs tr[data-job="${ok.jobId}"][data-status="succeeded"]`, { timeout: 15000 });
  const rows = await page.$$eval('#jobs tbody tr', (trs) => trs.map((tr) => ({ id: tr.dataset.job, status: tr.dataset.status, text: tr.textContent })));
  assert.deepEqual(rows.map((r) => r.id), [bad.jobId, ok.jobId]);
  const [failed, succeeded] = rows;
  assert.equal(failed.status, 'failed');
  assert.match(failed.text, /acme\/missing/);
  assert.match(failed.text, /#3/);
  assert.match(failed.text, /1 \/ 1/, 'attempts of the maximum');
  assert.equal(succeeded.status, 'succeeded');
  assert.match(succeeded.text, /#7/);
  const result = await page.getAttribute(`#jobs tr[data-job="${ok.jobId}"] a[data-link]`, 'href');
  assert.match(result, /^\/analysis\/[0-9a-f]{64}$/);
  assert.equal(await page.locator(`#jobs tr[data-job="${ok.jobId}"] button.rerun`).count(), 1);

  const deliveries = await page.$$eval('#deliveries tbody tr', (trs) => trs.map((tr) => [tr.dataset.delivery, tr.textContent]));
  assert.deepEqual(deliveries.map((d) => d[0]), ['pr-missing', 'pr-ok', 'ping-1']);
  assert.match(deliveries[0][1], /pull_request\.opened/);
  assert.match(deliveries[0][1], /failed/);
  assert.match(deliveries[2][1], /no job/);

  await page.waitForFunction((want) => document.getElementById('rate-limit').textContent.includes(want), `${RATE.remaining} / ${RATE.limit}`, { timeout: 15000 });
  assert.match(await page.textContent('#queue-depth'), /^0jobs waiting/);
  assert.match(await page.textContent('#queue-running'), /2 workers/);
  await shot(page, '21-operations');

  // The result link opens the stored analysis in the UI.
  await page.click(`#jobs tr[data-job="${ok.jobId}"] a[data-link]`);
  await page.waitForSelector('#verdict');
  await page.context().close();
});

test('re-run a failed job from the page, and filter by state', async () => {
  const page = await newPage();
  await page.goto(`${base}/operations`);
  await page.waitForSelector(`#jobs tr[data-job="${failedJob}"] button.rerun`);
  await page.click(`#jobs tr[data-job="${failedJob}"] button.rerun`);
  await page.waitForFunction(() => /queued again as job/.test(document.getElementById('toast').textContent));
  const jobs = (await api('/api/jobs')).jobs;
  assert.equal(jobs.length, 3);
  const rerun = jobs[0];
  assert.equal(rerun.repository, 'acme/missing');
  assert.equal(rerun.pullRequest, 3);
  await until('the re-run to fail again', async () => (await api(`/api/jobs/${rerun.id}`)).status === 'failed');
  await page.waitForSelector(`#jobs tr[data-job="${rerun.id}"][data-status="failed"]`, { timeout: 15000 });
  await shot(page, '22-operations-rerun');

  await page.selectOption('#jobs-status', 'failed');
  await page.waitForFunction(() => [...document.querySelectorAll('#jobs tbody tr')].every((tr) => tr.dataset.status === 'failed'));
  assert.match(page.url(), /status=failed/);
  assert.equal(await page.locator('#jobs tbody tr').count(), 2);
  await shot(page, '23-operations-failed');
  // The filter survives a reload (it is in the address).
  await page.reload();
  await page.waitForSelector('#jobs tbody tr');
  assert.equal(await page.inputValue('#jobs-status'), 'failed');
  await page.context().close();
});

test('no script errors on the operations page', () => {
  assert.deepEqual(problems, []);
});

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}
