#!/usr/bin/env node
// Times the web UI on a large result in headless Chromium, beside the naive alternative of
// showing the same result's text report in one <pre>.
//
// usage: node scripts/bench-ui.mjs [SERVER_BIN] [RESOURCES]
//   SERVER_BIN defaults to $CARGO_TARGET_DIR (or target)/release/chartimpact-server, RESOURCES to 2500.
// Needs `npm ci --prefix tests/browser` (playwright-core) and /usr/bin/chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBigRepo } from '../tests/browser/fixtures.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');
const bin = process.argv[2] || join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'release', 'chartimpact-server');
const count = Number(process.argv[3] || 2500);
const RUNS = 5;

const work = mkdtempSync(join(tmpdir(), 'chartimpact-bench-ui-'));
const repo = join(work, 'repo');
makeBigRepo(repo, count);

const port = 18000 + Math.floor(Math.random() * 2000);
const base = `http://127.0.0.1:${port}`;
const server = spawn(bin, ['--listen', `127.0.0.1:${port}`, '--data-dir', join(work, 'data'), '--allow-local-repos', '--rate-limit', '100000'], { stdio: 'ignore' });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/api/health`)).ok) break; } catch { /* starting */ }
    if (i > 300) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = await fetch(`${base}/api/compare`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ repository: repo, chartPath: 'charts/many', version1: 'v1', version2: 'v2' }) });
  const body = await r.json();
  const id = body.compareId;
  const stored = await (await fetch(`${base}/api/analysis/${id}`)).arrayBuffer();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  const ready = [];
  const filter = [];
  const naive = [];
  let elements = 0;
  let naiveElements = 0;
  for (let i = 0; i < RUNS; i++) {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    let t = Date.now();
    await page.goto(`${base}/analysis/${id}`);
    await page.waitForSelector('#resources .row-res');
    await page.waitForSelector('#diff .dl');
    ready.push(Date.now() - t);
    elements = await page.evaluate(() => document.getElementsByTagName('*').length);
    t = Date.now();
    await page.fill('#filter-q', `cm-${count - 1}`);
    await page.waitForFunction(() => /^1 of/.test(document.getElementById('count').textContent));
    filter.push(Date.now() - t);
    await page.close();

    // The naive viewer: fetch the same stored result and put its text report in one <pre>.
    const plain = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await plain.goto(`${base}/api/health`);
    t = Date.now();
    await plain.evaluate(async (url) => {
      const doc = await (await fetch(url)).json();
      document.body.replaceChildren();
      const pre = document.createElement('pre');
      pre.textContent = doc.comparison.diff;
      document.body.append(pre);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    }, `${base}/api/analysis/${id}`);
    naive.push(Date.now() - t);
    naiveElements = await plain.evaluate(() => document.getElementsByTagName('*').length);
    await plain.close();
  }
  await browser.close();
  console.log(JSON.stringify({
    resources: count,
    storedResultBytes: stored.byteLength,
    uiReadyMsMedian: median(ready),
    uiReadyMs: ready,
    uiFilterMsMedian: median(filter),
    uiElements: elements,
    naivePreMsMedian: median(naive),
    naivePreMs: naive,
    naiveElements,
  }, null, 2));
} finally {
  server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
