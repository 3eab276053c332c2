// trustbase dashboard: a page per hash route over the JSON API (/api/v1/). No framework.
// Every string from the API reaches the page as text (createTextNode / textContent /
// attribute values), never as markup: the server's Content-Security-Policy only
// allows this file's script anyway.
'use strict';

const TOKEN_KEY = 'trustbase-token';
const STATES = ['complete', 'partial', 'absent', 'superseded', 'tampered', 'unexpected', 'missing', 'unscanned', 'unverified'];
const LETTERS = { complete: 'C', partial: 'P', absent: '-', superseded: 'S', tampered: 'T', unexpected: 'U', missing: 'M', unscanned: '?', unverified: 'V' };
const STAGE_LETTERS = { tested: 'T', inactive: 'I', active: 'A' };
const PAGE_SIZE = 100;

let me = null;  // {name, role, host} of the token in use

// ---- DOM helpers -------------------------------------------------------------------------

// h('tag.class', {attr: value, onclick: fn}, child, ...): children are nodes, strings (as
// text), numbers, arrays or null.
function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

function main() { return document.getElementById('main'); }

function show(...children) {
  const m = main();
  m.replaceChildren();
  append(m, children);
}

function stateBadge(state) {
  return h(`span.state.s-${STATES.includes(state) ? state : 'unscanned'}`, { 'data-state': state }, state);
}

function link(route, text) { return h('a', { href: '#' + route }, text); }

function hostLink(name) { return link('/host/' + encodeURIComponent(name), name); }

function clusterLink(name) { return name ? link('/cluster/' + encodeURIComponent(name), name) : '(none)'; }

function isAdmin() { return me && me.role === 'admin'; }

// ---- API ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = Object.assign({ Authorization: 'Bearer ' + token }, options.headers || {});
  const res = await fetch('/api/v1/' + path, Object.assign({}, options, { headers }));
  if (res.status === 401) {
    logout('The token was refused (unknown or revoked).');
    throw new ApiError(401, 'authentication required');
  }
  if (options.raw) {
    if (!res.ok) throw new ApiError(res.status, `HTTP ${res.status}`);
    return res;
  }
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) throw new ApiError(res.status, (body && body.error) || `HTTP ${res.status}`);
  return body;
}

// Saves a response as a file: links cannot carry the bearer token, so the page fetches
// and hands the browser a blob.
async function download(path, filename) {
  const res = await api(path, { raw: true });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Resolves true when the user confirms `text` in the modal dialog.
function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    const ok = document.getElementById('confirm-ok');
    const cancel = document.getElementById('confirm-cancel');
    const done = (answer) => {
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onOk = () => done(true);
    const onCancel = () => done(false);
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
  });
}

function errorBox(e) { return h('p.error', { role: 'alert' }, 'Error: ' + (e && e.message ? e.message : String(e))); }

// ---- login -------------------------------------------------------------------------------

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  renderLogin(message);
}

function renderLogin(message) {
  document.getElementById('nav').hidden = true;
  document.getElementById('logout').hidden = true;
  document.getElementById('who').textContent = '';
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', placeholder: 'tb_…', 'aria-label': 'API token' });
  const status = h('p.error', { role: 'alert' }, message || '');
  const form = h('form.panel.login', {
    id: 'login',
    onsubmit: async (ev) => {
      ev.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      try {
        await loadMe();
        route();
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 401)) status.textContent = 'Error: ' + e.message;
      }
    },
  },
  h('h1', {}, 'Log in'),
  h('p.muted', {}, 'Paste an API token (trustbase token add). It is kept for this browser tab only.'),
  input,
  h('button.primary', { type: 'submit', id: 'login-button' }, 'Log in'),
  status);
  show(form);
  input.focus();
}

async function loadMe() {
  me = await api('whoami');
  document.getElementById('nav').hidden = false;
  document.getElementById('logout').hidden = false;
  document.getElementById('nav-audit').hidden = !isAdmin();
  document.getElementById('who').textContent = `${me.name} (${me.role})`;
}

// ---- routing -----------------------------------------------------------------------------

function parseRoute() {
  const hash = location.hash.replace(/^#/, '') || '/fleet';
  const [path, query] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'fleet', arg: parts[1], params: new URLSearchParams(query || '') };
}

let routeSerial = 0;

async function route() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return renderLogin();
  if (!me) {
    try { await loadMe(); } catch (e) { if (!(e instanceof ApiError && e.status === 401)) show(errorBox(e)); return; }
  }
  const r = parseRoute();
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === r.page);
  const serial = ++routeSerial;
  const pages = { fleet: fleetPage, cluster: clusterPage, host: hostPage, signatures: signaturesPage, audit: auditPage };
  const page = pages[r.page] || fleetPage;
  try {
    const content = await page(r);
    if (serial === routeSerial) {  // a later navigation wins
      show(content);
      // When the page was painted: the dashboard's own render-time figure (bench/web).
      requestAnimationFrame(() => { content.dataset.paintedAt = performance.now().toFixed(1); });
    }
  } catch (e) {
    if (serial === routeSerial && !(e instanceof ApiError && e.status === 401)) show(errorBox(e));
  }
}

function go(page, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  location.hash = '#/' + page + (s ? '?' + s : '');
}

// ---- fleet -------------------------------------------------------------------------------

async function fleetPage(r) {
  const t0 = performance.now();
  const offset = Math.max(0, parseInt(r.params.get('offset') || '0', 10) || 0);
  const filter = { cluster: r.params.get('cluster') || '', patch: r.params.get('patch') || '', state: r.params.get('state') || '' };
  const q = new URLSearchParams({ offset: String(offset), limit: String(PAGE_SIZE) });
  for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
  const [data, clusters, signatures] = await Promise.all([
    api('fleet?' + q.toString()), api('clusters'), api('signatures'),
  ]);
  const tApi = performance.now();
  const f = data.fleet;

  const clusterSelect = h('select', { id: 'filter-cluster', 'aria-label': 'cluster' }, h('option', { value: '' }, 'all clusters'),
    clusters.clusters.map((c) => h('option', { value: c.name, selected: c.name === filter.cluster }, c.name)));
  const patchSelect = h('select', { id: 'filter-patch', 'aria-label': 'patch' }, h('option', { value: '' }, 'all patches'),
    signatures.signatures.filter((s) => s.kind === 'patch').map((s) => {
      const id = `${s.name}@${s.version}`;
      return h('option', { value: id, selected: id === filter.patch }, id);
    }));
  const stateSelect = h('select', { id: 'filter-state', 'aria-label': 'state' }, h('option', { value: '' }, 'any state'),
    h('option', { value: 'problems', selected: filter.state === 'problems' }, 'problems only'),
    STATES.map((s) => h('option', { value: s, selected: s === filter.state }, s)));
  const filters = h('form.filters', {
    id: 'filters',
    onsubmit: (ev) => {
      ev.preventDefault();
      go('fleet', { cluster: clusterSelect.value, patch: patchSelect.value, state: stateSelect.value });
    },
  }, 'Cluster', clusterSelect, 'Patch', patchSelect, 'State', stateSelect,
  h('button.primary', { type: 'submit', id: 'apply-filters' }, 'Apply'),
  h('button', { type: 'button', onclick: () => go('fleet', {}) }, 'Clear'));

  const total = data.total_hosts;
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(total, offset + PAGE_SIZE);
  const pager = h('div.pager', { id: 'pager' },
    h('button', { type: 'button', id: 'prev-page', disabled: offset === 0, onclick: () => go('fleet', Object.assign({}, filter, { offset: Math.max(0, offset - PAGE_SIZE) })) }, '← Previous'),
    h('span', { id: 'page-info' }, `hosts ${first}–${last} of ${total} in ${data.total_clusters} clusters`),
    h('button', { type: 'button', id: 'next-page', disabled: last >= total, onclick: () => go('fleet', Object.assign({}, filter, { offset: offset + PAGE_SIZE })) }, 'Next →'));

  const totals = h('div.legend', { id: 'totals' }, STATES.filter((s) => data.totals[s]).map((s) => h('span', {}, stateBadge(s), ' ', String(data.totals[s]))));

  const table = matrixTable(f);
  // The server lists the first problems of the page (?problems=); the matrix colours all.
  const problemsTotal = f.problems_total ?? f.problems.length;
  const everyProblem = new URLSearchParams(q);
  everyProblem.set('problems', '1000000');
  const problemsNote = problemsTotal > f.problems.length ?
    h('p.muted', { id: 'problems-note' }, `The first ${f.problems.length} of ${problemsTotal} problems on this page; the matrix shows them all. `,
      h('button', { type: 'button', id: 'download-problems', onclick: () => download('fleet?' + everyProblem.toString(), 'fleet-problems.json').catch(alertError) }, 'Download all as JSON')) : null;
  const problems = f.problems.length === 0 ? h('p.muted', {}, 'No problems on this page.') :
    h('table', { id: 'problems' }, h('tr', {}, h('th', {}, 'Problem'), h('th', {}, 'Host'), h('th', {}, 'Cluster'), h('th', {}, 'Signature'), h('th', {}, 'Observed'), h('th', {}, 'Stage')),
      f.problems.map((p) => h('tr', { 'data-problem': p.problem, 'data-host': p.host },
        h('td', {}, stateBadge(p.problem === 'not_scanned' || p.problem === 'no_result' || p.problem === 'scan_error' ? 'unscanned' : p.problem)),
        h('td', {}, hostLink(p.host)), h('td', {}, clusterLink(p.cluster)), h('td.mono', {}, p.signature || p.detail || ''),
        h('td', {}, p.observed || ''), h('td', {}, p.stage ? `stage ${p.stage}: should be ${p.expected ? 'complete' : 'absent'}` : ''))));
  const page = h('section', { id: 'fleet-page', 'data-query': q.toString(), 'data-api-ms': (tApi - t0).toFixed(1), 'data-api-done': tApi.toFixed(1) },
    h('h1', {}, 'Fleet'), filters, totals, pager,
    h('div.scroll', {}, table),
    h('h2', {}, `Problems (${problemsTotal})`), problemsNote, problems);
  return page;
}

function matrixTable(f) {
  const cols = f.columns;
  const head = h('tr', {}, h('th', {}, 'Host'), h('th', {}, 'Role'), h('th', {}, 'Drift'),
    cols.map((c) => h('th.col', { title: `${c.signature} (${c.kind})` }, c.signature)));
  const rows = [head];
  for (const c of f.clusters) {
    let mark;
    if (c.identical) mark = h('span.flag.good', {}, 'identical');
    else if (c.drifting.length) mark = h('span.flag.bad', { 'data-flag': 'not-identical' }, 'NOT IDENTICAL: ' + c.drifting.join(', '));
    else if (c.snapshot_version === null) mark = h('span.flag.warn', {}, 'no snapshot');
    else mark = h('span.flag.warn', {}, 'unverified: ' + c.unverified.join(', '));
    rows.push(h('tr.cluster', { 'data-cluster': c.name },
      h('th', { colspan: 3 }, clusterLink(c.name), ` · ${c.members} members · `,
        c.snapshot_version === null ? 'no snapshot' : `snapshot v${c.snapshot_version}`, ' ', mark),
      cols.map((col) => {
        const stage = c.stages[col.signature];
        return h('td.stage', { title: stage ? `${col.signature}: ${stage} in ${c.name}` : 'no stage' }, stage ? STAGE_LETTERS[stage] || stage : '');
      })));
    for (const host of c.hosts) {
      const drift = host.drift ? (host.drift.added + host.drift.removed + host.drift.modified ?
        `+${host.drift.added} −${host.drift.removed} ~${host.drift.modified}` : '=') : '';
      rows.push(h('tr', { 'data-host': host.name },
        h('td', {}, hostLink(host.name)), h('td', {}, host.role), h('td', {}, host.error ? h('span.error', {}, host.error) : drift),
        host.cells.map((state, i) => h(`td.cell.s-${state}`, { title: `${host.name} · ${cols[i].signature}: ${state}`, 'data-state': state }, LETTERS[state] || '?'))));
    }
  }
  return h('table.matrix', { id: 'matrix' }, rows);
}

// ---- cluster -----------------------------------------------------------------------------

async function clusterPage(r) {
  const name = r.arg;
  const [c, signatures] = await Promise.all([api('clusters/' + encodeURIComponent(name)), api('signatures')]);
  const latest = c.snapshots.length ? c.snapshots[c.snapshots.length - 1] : null;
  const drift = c.drift;
  const facts = h('dl.kv', {},
    h('dt', {}, 'Description'), h('dd', {}, c.description || '—'),
    h('dt', {}, 'Members'), h('dd', {}, String(c.members)),
    h('dt', {}, 'Reference snapshot'), h('dd', { id: 'snapshot' }, latest ?
      `v${latest.version} from ${latest.source_host} (scan ${latest.source_scan_id}), ${latest.records} records, published ${latest.published} by ${latest.actor}` : 'none'),
    h('dt', {}, 'Members identical'), h('dd', {}, drift.identical ? h('span.flag.good', {}, 'identical') : h('span.flag.bad', { 'data-flag': 'not-identical' }, 'NOT IDENTICAL')));

  const stageRows = c.stages.map((s) => h('tr', { 'data-patch': s.patch },
    h('td.mono', {}, s.patch), h('td', {}, s.stage), h('td', {}, s.set), h('td', {}, s.actor)));
  const stages = h('table', { id: 'stages' }, h('tr', {}, h('th', {}, 'Patch'), h('th', {}, 'Stage'), h('th', {}, 'Set'), h('th', {}, 'By')), stageRows);

  let promote = null;
  if (isAdmin()) {
    const patch = h('select', { id: 'promote-patch', 'aria-label': 'patch' },
      signatures.signatures.filter((s) => s.kind === 'patch').map((s) => h('option', { value: `${s.name}@${s.version}` }, `${s.name}@${s.version}`)));
    const stage = h('select', { id: 'promote-stage', 'aria-label': 'stage' }, ['tested', 'inactive', 'active'].map((s) => h('option', { value: s }, s)));
    const status = h('span', { role: 'status' });
    promote = h('form.row.panel', {
      id: 'promote',
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (!await confirmAction(`Promote ${patch.value} to stage "${stage.value}" in cluster ${name}?`)) return;
        try {
          await api(`clusters/${encodeURIComponent(name)}/promote?patch=${encodeURIComponent(patch.value)}&stage=${encodeURIComponent(stage.value)}`, { method: 'POST' });
          route();
        } catch (e) { status.textContent = 'Error: ' + e.message; }
      },
    }, h('strong', {}, 'Promote'), patch, 'to', stage, h('button.primary', { type: 'submit', id: 'promote-button' }, 'Promote…'), status);
  }

  const members = h('table', { id: 'members' },
    h('tr', {}, h('th', {}, 'Host'), h('th', {}, 'Role'), h('th', {}, 'Scan'), h('th', {}, 'Against snapshot'), isAdmin() ? h('th', {}, 'Admin') : null),
    drift.members.map((m) => h('tr', { 'data-host': m.host },
      h('td', {}, hostLink(m.host)), h('td', {}, m.role), h('td', {}, m.scan_id ? String(m.scan_id) : 'never scanned'),
      h('td', {}, m.snapshot_version === 0 ? 'not compared' : m.identical ? h('span.flag.good', {}, 'identical') :
        h('span.flag.bad', {}, `+${m.counts.added} −${m.counts.removed} ~${m.counts.modified}`)),
      isAdmin() ? h('td', {}, m.scan_id ? h('button.publish', {
        type: 'button',
        'data-host': m.host,
        onclick: async () => {
          if (!await confirmAction(`Publish the latest scan of ${m.host} as the next reference snapshot of ${name}? Every member will be compared with it.`)) return;
          try {
            await api(`clusters/${encodeURIComponent(name)}/snapshot?host=${encodeURIComponent(m.host)}`, { method: 'POST' });
            route();
          } catch (e) { alertError(e); }
        },
      }, 'Publish as snapshot…') : '') : null)));

  const driftSections = drift.members.filter((m) => m.deviations.length).map((m) => {
    // Grouped by the product (signature) that owns each path; unowned files together.
    const groups = new Map();
    for (const d of m.deviations) {
      const key = d.owners.length ? d.owners.join(', ') : '(no product: unknown file)';
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(d);
    }
    return h('div.panel', { 'data-drift-host': m.host },
      h('h3', {}, hostLink(m.host), ` (${m.role}): +${m.counts.added} −${m.counts.removed} ~${m.counts.modified}`),
      [...groups.entries()].map(([owner, list]) => h('details', { open: true },
        h('summary', {}, owner, ` — ${list.length} file${list.length === 1 ? '' : 's'}`),
        h('table', {}, h('tr', {}, h('th', {}, 'Change'), h('th', {}, 'Path'), h('th', {}, 'Attributes'), h('th', {}, 'Content of')),
          list.map((d) => h('tr', { 'data-change': d.change, 'data-path': d.path },
            h('td', {}, d.change), h('td.mono', {}, d.path), h('td', {}, d.changed), h('td.mono', {}, d.content_owners.join(', '))))))));
  });

  return h('section', { id: 'cluster-page', 'data-cluster': name },
    h('h1', {}, 'Cluster ', name), h('div.panel', {}, facts),
    h('h2', {}, 'Stages'), stages, promote,
    h('h2', {}, 'Members'), members,
    h('h2', {}, 'Drift from the reference snapshot, by product'),
    driftSections.length ? driftSections : h('p.muted', {}, latest ? 'Every member matches the snapshot.' : 'No snapshot published yet.'));
}

function alertError(e) { main().prepend(errorBox(e)); }

// ---- host --------------------------------------------------------------------------------

async function hostPage(r) {
  const name = r.arg;
  const enc = encodeURIComponent(name);
  const [host, history] = await Promise.all([api('hosts/' + enc), api('hosts/' + enc + '/history')]);
  const rep = host.report;
  const s = host.scan;
  const facts = h('dl.kv', {},
    h('dt', {}, 'Cluster'), h('dd', {}, clusterLink(host.cluster)),
    h('dt', {}, 'Role'), h('dd', {}, host.role || '—'),
    h('dt', {}, 'Latest scan'), h('dd', { id: 'latest-scan' }, `#${s.id}, started ${s.started}, ${s.records} records, ${s.errors} errors`),
    h('dt', {}, 'Roots'), h('dd.mono', {}, (s.roots || []).join(' ')),
    h('dt', {}, 'Scanner'), h('dd', {}, s.scanner || '—'),
    h('dt', {}, 'Result'), h('dd', {}, rep.clean ? h('span.flag.good', {}, 'clean') : h('span.flag.bad', {}, 'DEVIATIONS')));

  const downloads = h('div.row', {},
    h('button', { type: 'button', id: 'download-csv', onclick: () => download(`hosts/${enc}?format=csv`, `${name}-deviations.csv`).catch(alertError) }, 'Download CSV'),
    h('button', { type: 'button', id: 'download-json', onclick: () => download(`hosts/${enc}`, `${name}.json`).catch(alertError) }, 'Download JSON'));

  const timeline = h('ol.timeline', { id: 'history' }, history.scans.slice().reverse().map((scan) => {
    const c = scan.changes;
    const changed = c && (c.added + c.removed + c.modified) > 0;
    return h(changed ? 'li.changed' : 'li', {},
      h('strong', {}, `scan ${scan.id}`), ` ${scan.started} · ${scan.records} records`,
      scan.errors ? ` · ${scan.errors} errors` : '',
      ' · ', c === null ? 'first scan' : changed ? `+${c.added} −${c.removed} ~${c.modified} since the one before` : 'unchanged');
  }));

  const sigRows = [];
  for (const v of rep.signatures) {
    const hashes = host.issue_hashes[v.signature] || [];
    sigRows.push(h('tr', { 'data-signature': v.signature, 'data-state': v.state },
      h('td.mono', {}, v.signature), h('td', {}, v.kind), h('td', {}, stateBadge(v.state)),
      h('td', {}, `${v.counts.matching}/${v.counts.expected} matching` + (v.counts.missing ? `, ${v.counts.missing} missing` : '') +
        (v.counts.modified ? `, ${v.counts.modified} modified` : '') + (v.counts.config_changed ? `, ${v.counts.config_changed} config changed` : '')),
      h('td', {}, [v.patched_by.length ? 'patched by ' + v.patched_by.join(', ') : '', v.superseded_by.length ? 'superseded by ' + v.superseded_by.join(', ') : ''].filter(Boolean).join('; '))));
    v.issues.forEach((is, i) => {
      const hs = hashes[i] || {};
      sigRows.push(h('tr.issue', { 'data-issue': is.kind, 'data-path': is.path },
        h('td', {}, ''), h('td', { colspan: 2 }, is.kind.replace('_', ' ')),
        h('td.mono', {}, is.path, is.changed ? ` (${is.changed})` : ''),
        h('td.mono', {}, hs.found ? 'found ' + hs.found : '', hs.found && hs.expected ? h('br', {}) : null, hs.expected ? 'expected ' + hs.expected : '')));
    });
  }
  const signatures = h('table', { id: 'signature-states' },
    h('tr', {}, h('th', {}, 'Signature'), h('th', {}, 'Kind'), h('th', {}, 'State'), h('th', {}, 'Files'), h('th', {}, 'Relations / hashes')), sigRows);

  const deviations = rep.deviations.length === 0 ? h('p.muted', {}, 'No deviating files.') :
    h('table', { id: 'deviations' },
      h('tr', {}, h('th', {}, 'Change'), h('th', {}, 'Path'), h('th', {}, 'Attributes'), h('th', {}, 'Product'), h('th', {}, 'SHA-256 found'), h('th', {}, 'SHA-256 expected')),
      rep.deviations.map((d, i) => {
        const hs = host.deviation_hashes[i] || {};
        return h('tr', { 'data-change': d.change, 'data-path': d.path },
          h('td', {}, d.change), h('td.mono', {}, d.path), h('td', {}, d.changed),
          h('td.mono', {}, d.owners.length ? d.owners.join(', ') : d.content_owners.length ? 'content of ' + d.content_owners.join(', ') : 'unknown'),
          h('td.mono', {}, hs.found || ''), h('td.mono', {}, hs.expected || ''));
      }));

  return h('section', { id: 'host-page', 'data-host': name },
    h('h1', {}, 'Host ', name), h('div.panel', {}, facts), downloads,
    h('h2', {}, 'Per signature'), signatures,
    h('h2', {}, 'Deviating files'), deviations,
    h('h2', {}, 'History'), timeline);
}

// ---- signatures --------------------------------------------------------------------------

// What was verified of the package when it was imported (trustbase import --keyring).
function provenanceCell(p) {
  if (!p) return h('td.muted', { 'data-provenance': 'none' }, 'not verified');
  const where = [p.origin, p.suite || p.codename].filter(Boolean).join(' ');
  return h('td.mono', { 'data-provenance': p.method, title: p.signer_fingerprint || p.signer_key_id },
    `${p.method}: key ${p.signer_key_id}${where ? ' (' + where + ')' : ''}`);
}

async function signaturesPage() {
  const data = await api('signatures');
  const sigs = data.signatures;
  const byId = new Map(sigs.map((s) => [`${s.name}@${s.version}`, s]));
  const products = [...new Set(sigs.map((s) => s.name))].sort();

  // Supersession chains: from each patch that supersedes nothing but is superseded, every path forward.
  const chains = [];
  const walk = (id, path) => {
    const s = byId.get(id);
    const next = s ? s.superseded_by : [];
    if (!next.length) { chains.push(path); return; }
    for (const n of next) if (!path.includes(n)) walk(n, path.concat([n]));
  };
  for (const s of sigs) {
    const id = `${s.name}@${s.version}`;
    if (s.supersedes.length === 0 && s.superseded_by.length) walk(id, [id]);
  }

  const table = h('table', { id: 'signatures' },
    h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Version'), h('th', {}, 'Kind'), h('th', {}, 'Vendor'), h('th', {}, 'Files'),
      h('th', {}, 'Patches'), h('th', {}, 'Supersedes'), h('th', {}, 'Superseded by'), h('th', {}, 'Patched by'),
      h('th', {}, 'Package signature')),
    products.map((p) => sigs.filter((s) => s.name === p).map((s) => h('tr', { 'data-signature': `${s.name}@${s.version}` },
      h('td', {}, s.name), h('td', {}, s.version), h('td', {}, s.kind), h('td', {}, s.vendor), h('td', {}, String(s.records)),
      h('td.mono', {}, s.patches || ''), h('td.mono', {}, s.supersedes.join(', ')), h('td.mono', {}, s.superseded_by.join(', ')),
      h('td.mono', {}, s.patched_by.join(', ')), provenanceCell(s.provenance)))));

  let upload = null;
  if (isAdmin()) {
    const file = h('input', { type: 'file', id: 'import-file', accept: '.xml,.json', 'aria-label': 'scan document' });
    const name = h('input', { id: 'import-name', placeholder: 'name', required: true });
    const version = h('input', { id: 'import-version', placeholder: 'version', required: true });
    const kind = h('select', { id: 'import-kind' }, h('option', { value: 'product' }, 'product'), h('option', { value: 'patch' }, 'patch'));
    const patches = h('input', { id: 'import-patches', placeholder: 'patches NAME@VERSION' });
    const supersedes = h('input', { id: 'import-supersedes', placeholder: 'supersedes NAME@VERSION' });
    const root = h('input', { id: 'import-root', placeholder: 'install root', value: '/' });
    const status = h('p', { role: 'status', id: 'import-status' });
    upload = h('form.panel', {
      id: 'import',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const f = file.files[0];
        if (!f) { status.textContent = 'Choose a scan document (XML or JSON) first.'; return; }
        const id = `${name.value}@${version.value}`;
        if (!await confirmAction(`Import ${f.name} as ${kind.value} ${id}? Signatures are immutable once stored.`)) return;
        const q = new URLSearchParams({ name: name.value, version: version.value, kind: kind.value, install_root: root.value || '/' });
        if (patches.value) q.set('patches', patches.value);
        if (supersedes.value) q.set('supersedes', supersedes.value);
        try {
          const type = f.name.endsWith('.json') ? 'application/json' : 'application/xml';
          const r = await api('signatures?' + q.toString(), { method: 'POST', body: f, headers: { 'Content-Type': type } });
          status.textContent = `${r.created ? 'Imported' : 'Already stored:'} ${r.signature} (${r.records} records).`;
        } catch (e) { status.textContent = 'Error: ' + e.message; }
      },
    }, h('h2', {}, 'Import a signature from a scan document'),
    h('div.row', {}, file, name, version, kind, patches, supersedes, root, h('button.primary', { type: 'submit', id: 'import-button' }, 'Import…')),
    status);
  }

  return h('section', { id: 'signatures-page' },
    h('h1', {}, 'Signatures'),
    h('p.muted', {}, `${sigs.length} signatures of ${products.length} products.`),
    h('h2', {}, 'Supersession chains'),
    chains.length ? h('div', { id: 'chains' }, chains.map((c) => h('div.chain.mono', {}, c.join(' → ')))) : h('p.muted', {}, 'No patch supersedes another.'),
    h('h2', {}, 'Products, patches and versions'), h('div.scroll', {}, table),
    upload);
}

// ---- audit -------------------------------------------------------------------------------

async function auditPage() {
  if (!isAdmin()) return h('p.error', {}, 'The audit log needs an admin token.');
  const data = await api('audit?limit=500');
  return h('section', { id: 'audit-page' },
    h('h1', {}, 'Audit log'),
    h('table', { id: 'audit' },
      h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Who'), h('th', {}, 'Action'), h('th', {}, 'Object'), h('th', {}, 'Detail')),
      data.audit.map((e) => h('tr', { 'data-action': e.action },
        h('td', {}, e.at), h('td', {}, e.actor), h('td', {}, e.action), h('td.mono', {}, e.object), h('td', {}, e.detail)))));
}

// ---- start -------------------------------------------------------------------------------

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('logout').addEventListener('click', () => logout('Logged out.'));
  route();
});
