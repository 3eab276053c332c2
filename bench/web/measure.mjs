// The fleet page at scale (issue 6: 10,000 hosts render in < 1 s): times the fleet API
// call and the first render of the fleet page in headless chromium against a running
// server. Usage: node measure.mjs BASE_URL TOKEN NODE_MODULES_DIR [RUNS]
import { createRequire } from 'node:module';
import path from 'node:path';

const [base, token, modulesDir, runsText] = process.argv.slice(2);
const runs = Number(runsText || 5);
const require = createRequire(path.join(path.resolve(modulesDir), 'noop.js'));
const { chromium } = require('playwright-core');

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function apiMs(query) {
  const times = [];
  let bytes = 0;
  for (let i = 0; i < runs; ++i) {
    const t0 = performance.now();
    const r = await fetch(new URL('api/v1/fleet?' + query, base), { headers: { Authorization: 'Bearer ' + token } });
    const body = await r.text();
    times.push(performance.now() - t0);
    bytes = body.length;
    if (r.status !== 200) throw new Error(`fleet API: ${r.status} ${body}`);
  }
  return { ms: median(times), bytes };
}

for (const q of ['limit=100', 'limit=1000', 'limit=100&state=problems', 'limit=100&cluster=cluster-1250']) {
  const { ms, bytes } = await apiMs(q);
  console.log(`GET /api/v1/fleet?${q}: median ${ms.toFixed(0)} ms, ${(bytes / 1024).toFixed(0)} KiB`);
}

const browser = await chromium.launch({ executablePath: process.env.TB_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
page.setDefaultTimeout(180000);
await page.goto(base);
await page.evaluate((t) => sessionStorage.setItem('trustbase-token', t), token);
const renders = [];
const observed = [];  // by playwright, polling included
const apiInPage = [];
const domAndPaint = [];
for (let i = 0; i < runs; ++i) {
  // From navigation start to the matrix in the DOM and painted (next animation frame).
  await page.goto('about:blank');
  const t0 = Date.now();
  await page.goto(base + '#/fleet');
  await page.waitForSelector('#matrix');
  await page.waitForSelector('#fleet-page[data-painted-at]');
  observed.push(Date.now() - t0);
  const f = await page.$eval('#fleet-page', (el) => ({ api: Number(el.dataset.apiMs), done: Number(el.dataset.apiDone), painted: Number(el.dataset.paintedAt) }));
  // The page's own clock: performance.now() counts from the navigation's start, so the
  // paint time is the render time as the browser saw it, without playwright's polling.
  renders.push(f.painted);
  apiInPage.push(f.api);
  domAndPaint.push(f.painted - f.done);
}
const cells = await page.$$eval('#matrix td.cell', (c) => c.length);
console.log(`fleet page first render (navigation start to painted matrix: load, login check, API, DOM, paint): ` +
            `median ${median(renders).toFixed(0)} ms (runs: ${renders.map((r) => r.toFixed(0)).join(', ')}), ${cells} cells on the page`);
console.log(`  as seen by playwright (its selector polling included): median ${median(observed)} ms`);
console.log(`  of which the page's API calls (fleet, clusters, signatures in parallel): median ${median(apiInPage).toFixed(0)} ms; ` +
            `building the DOM and painting: median ${median(domAndPaint).toFixed(0)} ms`);
await browser.close();
