// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core.
// Builds the demo fleet (trustbase demo: real packages, scans and planted deviations),
// serves its store, logs in as admin and as reader, visits every page, checks that each
// planted deviation the demo reports is visible where an operator would look, promotes a
// patch with confirmation and finds it in the audit log. Screenshots go to OUT_DIR.
//
// Usage: node dashboard.test.mjs TRUSTBASE_BINARY OUT_DIR NODE_MODULES_DIR
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const [trustbase, outDir, modulesDir] = process.argv.slice(2);
if (!trustbase || !outDir || !modulesDir) {
  console.error('usage: node dashboard.test.mjs TRUSTBASE_BINARY OUT_DIR NODE_MODULES_DIR');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modulesDir), 'noop.js'));
const { chromium } = require('playwright-core');

const chromiumPath = process.env.TB_CHROMIUM || '/usr/bin/chromium';
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });
const work = fs.mkdtempSync('/tmp/tb-web-');
const db = path.join(work, 'demo', 'trustbase.db');
const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}`);

function tb(args) {
  const r = spawnSync(trustbase, ['--db', db, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`trustbase ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

// ---- the demo fleet and its planted deviations ------------------------------------------
const demo = spawnSync(trustbase, ['demo', '--clusters', '4', '--dir', path.join(work, 'demo')], { encoding: 'utf8', timeout: 120000 });
fs.writeFileSync(path.join(outDir, 'demo.log'), (demo.stdout || '') + (demo.stderr || ''));
assert.equal(demo.status, 0, 'trustbase demo failed: see demo.log');
// "  found   eq-02-b      modified        /opt/acme/...   story"
const planted = [];
let inList = false;
for (const line of demo.stdout.split('\n')) {
  if (line.startsWith('planted deviations')) { inList = true; continue; }
  if (!inList) continue;
  const m = line.match(/^\s+(found|MISSED)\s+(\S+)\s+(\S+)\s+(\S+)/);
  if (!m) break;
  planted.push({ host: m[2], kind: m[3], what: m[4] });
}
assert.ok(planted.length >= 8, `expected the demo's planted deviations, got ${planted.length}`);
log(`demo built: ${planted.length} planted deviations`);

const adminToken = tb(['token', 'add', '--name', 'web-admin', '--role', 'admin']);
const readerToken = tb(['token', 'add', '--name', 'web-reader', '--role', 'reader']);

// ---- the server -------------------------------------------------------------------------
const server = spawn(trustbase, ['--db', db, 'serve', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
const serverLog = fs.createWriteStream(path.join(outDir, 'server.log'));
server.stderr.pipe(serverLog);
const port = await new Promise((resolve, reject) => {
  let text = '';
  const timer = setTimeout(() => reject(new Error('the server did not start')), 30000);
  server.stdout.on('data', (d) => {
    text += d;
    const m = text.match(/listening on [^\s]*:(\d+)/);
    if (m) { clearTimeout(timer); resolve(Number(m[1])); }
  });
  server.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
});
const base = `http://127.0.0.1:${port}/`;
log(`server on ${base}`);

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'], headless: true });
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const shot = (name) => page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });

  // Static files: the CSP header is there.
  const index = await page.request.get(base);
  assert.match(index.headers()['content-security-policy'] || '', /^default-src 'self'/);

  // ---- login ----
  await page.goto(base);
  await page.waitForSelector('#login');
  await page.fill('#token', 'tb_wrong');
  await page.click('#login-button');
  await page.waitForSelector('#login .error:has-text("refused")');
  await page.fill('#token', adminToken);
  await page.click('#login-button');
  await page.waitForSelector('#fleet-page');
  assert.equal(await page.textContent('#who'), 'web-admin (admin)');
  await shot('01-fleet');
  log('logged in as admin: fleet page');

  // ---- fleet: planted problems in the matrix, clusters flagged ----
  const cellState = (host, signature) => page.$eval(`#matrix tr[data-host="${host}"]`, (row, sig) => {
    const cols = [...document.querySelectorAll('#matrix th.col')].map((th) => th.textContent);
    const i = cols.indexOf(sig);
    return i < 0 ? null : row.querySelectorAll('td.cell')[i].dataset.state;
  }, signature);
  for (const p of planted) {
    if (p.kind === 'partial' || p.kind === 'missing' || p.kind === 'unexpected') {
      assert.equal(await cellState(p.host, p.what), p.kind, `${p.host} ${p.what} shows ${p.kind}`);
      assert.ok(await page.$(`#problems tr[data-problem="${p.kind}"][data-host="${p.host}"]`), `problem row ${p.kind} ${p.host}`);
    } else if (p.kind === 'modified' && p.what.includes('/trader/')) {
      assert.equal(await cellState(p.host, 'acme-trader@4.2.2'), 'tampered', `${p.host} trader tampered`);
    }
  }
  const flagged = await page.$$eval('#matrix tr.cluster [data-flag="not-identical"]', (els) => els.length);
  assert.ok(flagged >= 1, 'a non-identical cluster is flagged');
  // Filters: state=tampered leaves the tampered host(s) only.
  await page.selectOption('#filter-state', 'tampered');
  await page.click('#apply-filters');
  await page.waitForSelector('#fleet-page[data-query*="state=tampered"] #matrix td.cell[data-state="tampered"]');
  const rowsShown = await page.$$eval('#matrix tr[data-host]', (rows) => rows.length);
  assert.ok(rowsShown >= 1 && rowsShown <= 2, `tampered filter shows ${rowsShown} rows`);
  await shot('02-fleet-filtered');
  await page.click('text=Clear');
  await page.waitForSelector('#fleet-page:not([data-query*="state="]) #matrix');
  log('fleet: every planted problem cell shown, filter works');

  // ---- cluster pages: drift grouped by product ----
  const driftPlanted = planted.filter((p) => p.kind === 'added' || (p.kind === 'modified' && !p.what.includes('/trader/')));
  for (const p of driftPlanted) {
    const cluster = await page.evaluate(async (host) => (await (await fetch('/api/v1/hosts/' + encodeURIComponent(host),
      { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('trustbase-token') } })).json()).cluster, p.host);
    await page.goto(`${base}#/cluster/${encodeURIComponent(cluster)}`);
    await page.waitForSelector(`#cluster-page[data-cluster="${cluster}"]`);
    const row = await page.$(`[data-drift-host="${p.host}"] tr[data-path="${p.what}"]`);
    assert.ok(row, `${p.host}: drift row for ${p.what}`);
    assert.equal(await row.getAttribute('data-change'), p.kind);
    const group = await row.evaluate((r) => r.closest('details').querySelector('summary').textContent);
    if (p.what.includes('/risk/')) assert.match(group, /acme-risk@/, 'risk library grouped under its product');
    if (p.kind === 'added') assert.match(group, /no product/);
    assert.ok(await page.$('#cluster-page [data-flag="not-identical"]'));
    await shot(`03-cluster-${cluster}`);
  }
  log(`cluster pages: ${driftPlanted.length} planted drift files shown by product`);

  // ---- host pages: per-signature states, deviations with hashes, config change ----
  for (const p of planted) {
    await page.goto(`${base}#/host/${encodeURIComponent(p.host)}`);
    await page.waitForSelector(`#host-page[data-host="${p.host}"] #history li`);
    if (p.kind === 'config-changed') {
      assert.ok(await page.$(`#signature-states tr[data-issue="config_changed"][data-path="${p.what}"]`), `${p.host} config change`);
    } else if (p.kind === 'partial') {
      assert.ok(await page.$(`#signature-states tr[data-signature="${p.what}"][data-state="partial"]`), `${p.host} partial`);
    } else if (p.kind === 'modified' && p.what.includes('/trader/')) {
      const issue = await page.$(`#signature-states tr.issue[data-path="${p.what}"]`);
      assert.ok(issue, `${p.host} tampered file listed`);
      assert.match(await issue.textContent(), /found [0-9a-f]{64}.*expected [0-9a-f]{64}/s, 'found and expected hashes');
    } else if (p.kind === 'added') {
      const dev = await page.$(`#deviations tr[data-path="${p.what}"]`);
      assert.ok(dev, `${p.host} added file in deviations`);
      assert.match(await dev.textContent(), /[0-9a-f]{64}/, 'hash of the added file');
    }
  }
  const hostWithDeviations = planted.find((p) => p.kind === 'added').host;
  await page.goto(`${base}#/host/${encodeURIComponent(hostWithDeviations)}`);
  await page.waitForSelector(`#host-page[data-host="${hostWithDeviations}"] #deviations`);
  await shot('04-host');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  const csvPath = path.join(outDir, 'deviations.csv');
  await csv.saveAs(csvPath);
  assert.match(fs.readFileSync(csvPath, 'utf8'), /^path,change,changed,owners/);
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
  const jsonPath = path.join(outDir, 'host.json');
  await json.saveAs(jsonPath);
  assert.equal(JSON.parse(fs.readFileSync(jsonPath, 'utf8')).host, hostWithDeviations);
  log('host pages: states, hashes, config change, CSV and JSON downloads');

  // ---- signatures ----
  await page.click('#nav a[data-page="signatures"]');
  await page.waitForSelector('#signatures-page');
  assert.ok(await page.$('#signatures tr[data-signature="acme-trader@4.2.2"]'));
  // The demo imports directories, not signed packages: shown as not verified.
  assert.ok(await page.$('#signatures tr[data-signature="acme-trader@4.2.2"] td[data-provenance="none"]'), 'provenance cell');
  assert.ok(await page.$('#import'), 'admins get the import form');
  await shot('05-signatures');

  // ---- promote with confirmation, then the audit log ----
  const promoteCluster = await (async () => {
    await page.goto(`${base}#/fleet`);
    await page.waitForSelector('#matrix');
    return page.$eval('#matrix tr.cluster', (r) => r.dataset.cluster);
  })();
  await page.goto(`${base}#/cluster/${encodeURIComponent(promoteCluster)}`);
  await page.waitForSelector(`#cluster-page[data-cluster="${promoteCluster}"] #promote`);
  const patch = await page.$eval('#promote-patch option', (o) => o.value);
  await page.selectOption('#promote-patch', patch);
  await page.selectOption('#promote-stage', 'tested');
  // Cancel first: nothing happens.
  await page.click('#promote-button');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-cancel');
  await page.click('#promote-button');
  await page.waitForSelector('#confirm[open]');
  assert.match(await page.textContent('#confirm-text'), new RegExp(`Promote ${patch.replace(/[.@]/g, '\\$&')}`));
  await shot('06-confirm');
  await page.click('#confirm-ok');
  await page.waitForSelector(`#stages tr[data-patch="${patch}"] >> text=token:web-admin`);
  await page.click('#nav a[data-page="audit"]');
  await page.waitForSelector('#audit-page');
  const top = await page.$eval('#audit tr[data-action]', (r) => [...r.children].map((td) => td.textContent));
  assert.equal(top[1], 'token:web-admin');
  assert.equal(top[2], 'stage.set');
  assert.ok(top[3].includes(promoteCluster) && top[3].includes(patch), `audit object ${top[3]}`);
  const setCount = await page.$$eval('#audit tr[data-action="stage.set"]', (rows) => rows.filter((r) => r.textContent.includes('token:web-admin')).length);
  assert.equal(setCount, 1, 'the cancelled promote wrote nothing');
  await shot('07-audit');
  log('promote confirmed and audited');

  // ---- reader: no admin controls ----
  await page.goto(`${base}#/fleet`);
  await page.waitForSelector('#fleet-page');
  await page.click('#logout');
  await page.waitForSelector('#login');
  await page.fill('#token', readerToken);
  await page.click('#login-button');
  await page.waitForSelector('#fleet-page');
  assert.equal(await page.isVisible('#nav-audit'), false, 'no audit link for a reader');
  await page.goto(`${base}#/cluster/${encodeURIComponent(promoteCluster)}`);
  await page.waitForSelector(`#cluster-page[data-cluster="${promoteCluster}"]`);
  assert.equal(await page.$('#promote'), null, 'no promote form for a reader');
  assert.equal(await page.$('button.publish'), null, 'no publish buttons for a reader');
  await page.goto(`${base}#/signatures`);
  await page.waitForSelector('#signatures-page');
  assert.equal(await page.$('#import'), null, 'no import form for a reader');
  await page.goto(`${base}#/audit`);
  await page.waitForSelector('main .error');
  await shot('08-reader');
  // The API refuses a reader's write even when sent by hand.
  const refused = await page.evaluate(async (t) => (await fetch('/api/v1/clusters/x/promote?patch=a@1&stage=tested',
    { method: 'POST', headers: { Authorization: 'Bearer ' + t } })).status, readerToken);
  assert.equal(refused, 403);
  log('reader: read-only');

  assert.deepEqual(consoleErrors.filter((e) => !e.includes('403') && !e.includes('401')), [], 'no script errors');
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
  server.kill('SIGTERM');
  if (server.exitCode === null && server.signalCode === null) await new Promise((resolve) => server.once('exit', resolve));
  fs.rmSync(work, { recursive: true, force: true });
}
log(failed ? 'FAILED' : `passed; screenshots in ${outDir}`);
process.exit(failed ? 1 : 0);
