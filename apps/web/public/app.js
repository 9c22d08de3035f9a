// The pdr dashboard: plain JavaScript, no build step. Grids list and a grid's parameter-space map on a
// canvas, fed by server-sent events of compact cell arrays (the server aggregates; 10^5 cells are one
// ImageData). Test hooks: window.pdr.
/* global window, document, fetch, location, URLSearchParams, history, EventSource, performance, confirm, Node */
'use strict';

const STATUS_COLOURS = {
  pending: '#c9c9c9',
  queued: '#9ecae1',
  running: '#2f7fd0',
  finished: '#2ca02c',
  problem: '#ff8c1a',
  failed: '#d62728',
  skipped: '#a6dba0',
  cancelled: '#555555',
};
const AXES = ['metal', 'dens', 'mass', 'chi'];
const AXIS_LABEL = { metal: 'metal [% solar]', dens: 'dens [10·log n]', mass: 'mass [10·log M]', chi: 'chi [10·log χ]' };
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const EMPTY = [255, 255, 255];

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'style') e.style.cssText = v; // CSSOM: allowed by the page's CSP, a style attribute is not
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
};

const pdr = (window.pdr = { ready: false, readyAt: null, updates: 0, map: null, lastJob: null });

// ------------------------------------------------------------------ API with the token asked once

let loginWaiters = [];
function askToken() {
  return new Promise((resolve) => {
    loginWaiters.push(resolve);
    const d = $('#login');
    if (!d.open) d.showModal();
  });
}
$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await fetch('/api/session', { method: 'POST', headers: { 'content-type': 'application/json', 'x-pdr-web': '1' }, body: JSON.stringify({ token: $('#login-token').value }) });
  if (!r.ok) {
    $('#login-error').textContent = 'wrong token';
    return;
  }
  $('#login').close();
  const w = loginWaiters;
  loginWaiters = [];
  w.forEach((f) => f());
});

async function api(path, opts = {}) {
  for (;;) {
    const r = await fetch(path, { ...opts, headers: { 'content-type': 'application/json', 'x-pdr-web': '1', ...(opts.headers || {}) } });
    if (r.status === 401) {
      await askToken();
      continue;
    }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
    return body;
  }
}

// ------------------------------------------------------------------ formatting

function fmtDate(s) {
  if (!s) return '–';
  const d = new Date(s);
  return d.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}
function fmtDuration(sec) {
  if (sec === null || sec === undefined) return '–';
  if (sec < 60) return `${Math.round(sec)} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`;
  if (sec < 86400) return `${Math.floor(sec / 3600)} h ${Math.round((sec % 3600) / 60)} min`;
  return `${Math.floor(sec / 86400)} d ${Math.round((sec % 86400) / 3600)} h`;
}
function fmtRate(r) {
  if (!r) return '–';
  return r >= 1 ? `${r.toFixed(1)}/s` : `${(r * 60).toFixed(1)}/min`;
}
function fmtMs(ms) {
  if (ms === null || ms === undefined) return '–';
  return ms < 1000 ? `${ms} ms` : fmtDuration(ms / 1000);
}
function progressBar(counts, total) {
  const bar = el('span', { class: 'bar', title: Object.entries(counts).filter(([, n]) => n).map(([s, n]) => `${s} ${n}`).join(', ') });
  for (const [s, n] of Object.entries(counts)) if (n) bar.append(el('span', { style: `width:${(100 * n) / Math.max(total, 1)}%;background:${STATUS_COLOURS[s]}` }));
  return bar;
}

// ------------------------------------------------------------------ routing

let leave = () => {};
function route() {
  leave();
  leave = () => {};
  const m = /^#\/grid\/(\d+)/.exec(location.hash);
  if (m) showGrid(Number(m[1]));
  else showList();
}
window.addEventListener('hashchange', route);

// ------------------------------------------------------------------ grids list

function showList() {
  const main = $('#main');
  main.replaceChildren(el('h2', {}, 'Grids'), el('div', { id: 'grids' }, el('p', { class: 'muted' }, 'loading…')));
  let stop = false;
  const load = async () => {
    try {
      const { grids } = await api('/api/grids');
      if (stop) return;
      const rows = grids.map((g) =>
        el(
          'tr',
          { class: 'grid-row', 'data-grid': g.gridId, onclick: () => (location.hash = `#/grid/${g.gridId}`) },
          el('td', { class: 'num' }, g.gridId),
          el('td', {}, g.modelName),
          el('td', {}, g.user ?? '–'),
          el('td', {}, fmtDate(g.createdAt)),
          el('td', { class: 'num' }, g.total),
          ...['pending', 'queued', 'running', 'finished', 'problem', 'failed', 'skipped', 'cancelled'].map((s) => el('td', { class: 'num' }, g.counts[s] || '')),
          el('td', {}, progressBar(g.counts, g.total), ` ${Math.floor((100 * g.done) / Math.max(g.total, 1))} %`),
          el('td', {}, fmtRate(g.rate)),
          el('td', {}, g.done === g.total ? 'done' : fmtDuration(g.etaSeconds)),
        ),
      );
      const head = el('tr', {}, ...['grid', 'model', 'user', 'submitted', 'points', 'pending', 'queued', 'running', 'finished', 'problem', 'failed', 'skipped', 'cancelled', 'progress', 'rate', 'ETA'].map((h) => el('th', {}, h)));
      $('#grids').replaceChildren(grids.length ? el('table', {}, el('thead', {}, head), el('tbody', {}, rows)) : el('p', { class: 'muted' }, 'no grids yet (submit one with pdr run)'));
      $('#conn').textContent = '';
    } catch (err) {
      $('#conn').textContent = err.message;
    }
    if (!stop) timer = setTimeout(load, 3000);
  };
  let timer = null;
  load();
  leave = () => {
    stop = true;
    clearTimeout(timer);
  };
}

// ------------------------------------------------------------------ a grid

async function showGrid(gridId) {
  const main = $('#main');
  main.replaceChildren(el('p', { class: 'muted' }, `loading grid ${gridId}…`));
  let info;
  try {
    info = await api(`/api/grids/${gridId}`);
  } catch (err) {
    main.replaceChildren(el('p', { class: 'error' }, err.message), el('a', { href: '#/' }, '← grids'));
    return;
  }
  const axes = info.axes;
  const spec = { x: 'dens', y: 'chi', colour: 'status', fixed: {} };
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  for (const k of ['x', 'y', 'colour']) if (q.get(k)) spec[k] = q.get(k);
  for (const a of AXES) spec.fixed[a] = q.get(a) ?? 'all';

  const summaryBox = el('div', { class: 'summary', id: 'summary' });
  const controls = el('div', { class: 'controls', id: 'controls' });
  const canvas = el('canvas', { id: 'map', width: 800, height: 600 });
  const tip = el('div', { id: 'tip' });
  const legend = el('div', { class: 'legend', id: 'legend' });
  const panel = el('div', { id: 'panel' });
  const cancelBtn = el('button', { id: 'cancel', class: 'danger', onclick: () => action('cancel') }, 'Cancel grid…');
  const retryBtn = el('button', { id: 'retry', onclick: () => action('retry') }, 'Retry failed…');
  main.replaceChildren(
    el('p', {}, el('a', { href: '#/' }, '← grids')),
    el('h2', { id: 'grid-title' }, `Grid ${gridId}: ${info.grid.modelName}`),
    summaryBox,
    el('div', { class: 'controls' }, cancelBtn, retryBtn, el('span', { id: 'action-result', class: 'muted' })),
    controls,
    legend,
    el('div', { class: 'layout' }, el('div', { id: 'map-wrap' }, canvas, tip), panel),
  );
  if (info.unplaced) main.append(el('p', { class: 'muted' }, `${info.unplaced} job(s) with names not of the form metal_dens_mass_chi_00 are not on the map`));

  let es = null;
  let map = null; // { x, y, nx, ny, status[], value[], n[], job[], statuses[], colour }
  const geom = { left: 70, top: 10, cell: 1 };
  const off = document.createElement('canvas');

  function buildControls() {
    const sel = (id, label, options, value, onchange) =>
      el('label', {}, label, el('select', { id, onchange: (e) => onchange(e.target.value) }, options.map(([v, t]) => { const o = el('option', { value: v }, t); if (String(v) === String(value)) o.selected = true; return o; })));
    const axisOpts = AXES.map((a) => [a, a]);
    const kids = [
      sel('sel-x', 'x', axisOpts, spec.x, (v) => { if (v === spec.y) spec.y = spec.x; spec.x = v; reopen(); }),
      sel('sel-y', 'y', axisOpts, spec.y, (v) => { if (v === spec.x) spec.x = spec.y; spec.y = v; reopen(); }),
      sel('sel-colour', 'colour by', [['status', 'status'], ['time', 'run time'], ['attempts', 'attempts']], spec.colour, (v) => { spec.colour = v; reopen(); }),
    ];
    for (const a of AXES) {
      if (a === spec.x || a === spec.y) continue;
      kids.push(sel(`sel-${a}`, a, [['all', `all (${axes[a].length})`], ...axes[a].map((v) => [v, v])], spec.fixed[a], (v) => { spec.fixed[a] = v; reopen(); }));
    }
    controls.replaceChildren(...kids);
  }

  function reopen() {
    buildControls();
    const p = new URLSearchParams({ x: spec.x, y: spec.y, colour: spec.colour });
    for (const a of AXES) if (a !== spec.x && a !== spec.y && spec.fixed[a] !== 'all') p.set(a, spec.fixed[a]);
    history.replaceState(null, '', `#/grid/${gridId}?${p}`);
    if (es) es.close();
    pdr.ready = false;
    es = new EventSource(`/api/grids/${gridId}/stream?${p}`);
    es.addEventListener('full', (e) => {
      map = JSON.parse(e.data);
      layout();
      draw();
      pdr.map = map;
      if (!pdr.ready) {
        pdr.ready = true;
        if (pdr.readyAt === null) pdr.readyAt = performance.now();
      }
    });
    es.addEventListener('delta', (e) => {
      if (!map) return;
      const c = JSON.parse(e.data).cells;
      for (let i = 0; i < c.length; i += 5) {
        const k = c[i];
        map.status[k] = c[i + 1];
        map.value[k] = c[i + 2];
        map.n[k] = c[i + 3];
        map.job[k] = c[i + 4];
      }
      draw();
      pdr.updates++;
    });
    es.addEventListener('summary', (e) => renderSummary(JSON.parse(e.data)));
    es.onerror = () => ($('#conn').textContent = 'reconnecting…');
    es.onopen = () => ($('#conn').textContent = '');
  }

  function renderSummary(g) {
    const c = g.counts;
    summaryBox.replaceChildren(
      el('span', {}, 'user ', el('b', {}, g.user ?? '–')),
      el('span', {}, 'submitted ', el('b', {}, fmtDate(g.createdAt))),
      el('span', {}, 'points ', el('b', { id: 'sum-total' }, g.total)),
      el('span', {}, progressBar(c, g.total), ' ', el('b', { id: 'sum-progress' }, `${Math.floor((100 * g.done) / Math.max(g.total, 1))} %`)),
      ...Object.entries(c).filter(([, n]) => n).map(([s, n]) => el('span', { 'data-status': s }, s, ' ', el('b', {}, n))),
      el('span', {}, 'rate ', el('b', {}, fmtRate(g.rate))),
      el('span', {}, 'ETA ', el('b', {}, g.done === g.total ? 'done' : fmtDuration(g.etaSeconds))),
      ...(g.cancelRequested ? [el('span', { class: 'error' }, 'cancel requested')] : []),
    );
  }

  function layout() {
    const maxW = Math.max(300, Math.min(window.innerWidth - 420, 1000));
    const maxH = Math.max(300, window.innerHeight - 260);
    geom.cell = Math.max(1, Math.min(48, Math.floor(Math.min((maxW - geom.left - 10) / map.nx, (maxH - geom.top - 50) / map.ny))));
    canvas.width = geom.left + map.nx * geom.cell + 10;
    canvas.height = geom.top + map.ny * geom.cell + 50;
    off.width = map.nx;
    off.height = map.ny;
    legend.replaceChildren(
      ...(map.colour === 'status'
        ? map.statuses.map((s) => el('span', {}, el('i', { style: `background:${STATUS_COLOURS[s]}` }), s))
        : [el('span', {}, el('i', { style: `background:rgb(${VIRIDIS[0]})` }), map.colour === 'time' ? 'shortest' : 'fewest'), el('span', {}, el('i', { style: `background:rgb(${VIRIDIS[4]})` }), map.colour === 'time' ? 'longest run time' : 'most attempts'), el('span', {}, el('i', { style: 'background:#fff' }), 'no value')]),
    );
  }

  function hexRgb(h) {
    return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
  }
  const statusRgb = () => map.statuses.map((s) => hexRgb(STATUS_COLOURS[s]));
  function gradient(t) {
    const p = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
    const i = Math.min(Math.floor(p), VIRIDIS.length - 2);
    const f = p - i;
    return VIRIDIS[i].map((c, j) => Math.round(c + (VIRIDIS[i + 1][j] - c) * f));
  }
  /** [r, g, b] of cell k as drawn. */
  function cellRgb(k, srgb, lo, hi) {
    if (map.status[k] < 0) return EMPTY;
    if (map.colour === 'status') return srgb[map.status[k]];
    const v = map.value[k];
    if (v === null) return EMPTY;
    return gradient(hi > lo ? (v - lo) / (hi - lo) : 0.5);
  }
  function range() {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of map.value) if (v !== null) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  }

  function draw() {
    const { nx, ny } = map;
    const octx = off.getContext('2d');
    const img = octx.createImageData(nx, ny);
    const srgb = statusRgb();
    const [lo, hi] = range();
    for (let k = 0; k < nx * ny; k++) {
      const ix = k % nx;
      const iy = (k - ix) / nx;
      const o = ((ny - 1 - iy) * nx + ix) * 4; // low values at the bottom
      const c = cellRgb(k, srgb, lo, hi);
      img.data[o] = c[0];
      img.data[o + 1] = c[1];
      img.data[o + 2] = c[2];
      img.data[o + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.imageSmoothingEnabled = false;
    const W = nx * geom.cell;
    const H = ny * geom.cell;
    ctx.drawImage(off, geom.left, geom.top, W, H);
    if (geom.cell >= 6) {
      ctx.strokeStyle = 'rgba(0,0,0,0.15)';
      ctx.beginPath();
      for (let i = 0; i <= nx; i++) { ctx.moveTo(geom.left + i * geom.cell + 0.5, geom.top); ctx.lineTo(geom.left + i * geom.cell + 0.5, geom.top + H); }
      for (let j = 0; j <= ny; j++) { ctx.moveTo(geom.left, geom.top + j * geom.cell + 0.5); ctx.lineTo(geom.left + W, geom.top + j * geom.cell + 0.5); }
      ctx.stroke();
    }
    ctx.fillStyle = '#333';
    ctx.font = '11px system-ui, sans-serif';
    const xs = map.axes[map.x];
    const ys = map.axes[map.y];
    const stepX = Math.max(1, Math.ceil(nx / Math.max(1, Math.floor(W / 40))));
    const stepY = Math.max(1, Math.ceil(ny / Math.max(1, Math.floor(H / 18))));
    ctx.textAlign = 'center';
    for (let i = 0; i < nx; i += stepX) ctx.fillText(xs[i], geom.left + (i + 0.5) * geom.cell, geom.top + H + 14);
    ctx.textAlign = 'right';
    for (let j = 0; j < ny; j += stepY) ctx.fillText(ys[j], geom.left - 6, geom.top + H - (j + 0.5) * geom.cell + 4);
    ctx.textAlign = 'center';
    ctx.fillText(AXIS_LABEL[map.x], geom.left + W / 2, geom.top + H + 34);
    ctx.save();
    ctx.translate(14, geom.top + H / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(AXIS_LABEL[map.y], 0, 0);
    ctx.restore();
  }

  /** Cell under a canvas position, or -1. */
  function cellAt(px, py) {
    if (!map) return -1;
    const ix = Math.floor((px - geom.left) / geom.cell);
    const jy = Math.floor((py - geom.top) / geom.cell);
    if (ix < 0 || ix >= map.nx || jy < 0 || jy >= map.ny) return -1;
    return (map.ny - 1 - jy) * map.nx + ix;
  }
  function describeCell(k) {
    const ix = k % map.nx;
    const iy = (k - ix) / map.nx;
    const lines = [`${map.x} = ${map.axes[map.x][ix]}`, `${map.y} = ${map.axes[map.y][iy]}`];
    for (const a of AXES) if (a !== map.x && a !== map.y) lines.push(`${a} = ${spec.fixed[a] === 'all' ? `all (${map.axes[a].length})` : spec.fixed[a]}`);
    if (map.status[k] < 0) lines.push('no point');
    else {
      lines.push(`${map.n[k] > 1 ? `${map.n[k]} points, most notable: ` : 'status: '}${map.statuses[map.status[k]]}`);
      if (map.colour === 'time') lines.push(`run time: ${fmtMs(map.value[k])}${map.n[k] > 1 ? ' (mean)' : ''}`);
      if (map.colour === 'attempts') lines.push(`attempts: ${map.value[k] ?? 0}${map.n[k] > 1 ? ' (most)' : ''}`);
    }
    return lines.join('\n');
  }
  canvas.addEventListener('mousemove', (e) => {
    const k = cellAt(e.offsetX, e.offsetY);
    if (k < 0) { tip.style.display = 'none'; return; }
    tip.textContent = describeCell(k);
    tip.style.display = 'block';
    tip.style.left = `${e.offsetX + 14}px`;
    tip.style.top = `${e.offsetY + 10}px`;
  });
  canvas.addEventListener('mouseleave', () => (tip.style.display = 'none'));
  canvas.addEventListener('click', async (e) => {
    const k = cellAt(e.offsetX, e.offsetY);
    if (k < 0 || map.status[k] < 0) return;
    if (map.n[k] === 1) return openJob(map.job[k]);
    const p = new URLSearchParams({ x: spec.x, y: spec.y, colour: spec.colour, k: String(k) });
    for (const a of AXES) if (a !== spec.x && a !== spec.y && spec.fixed[a] !== 'all') p.set(a, spec.fixed[a]);
    const r = await api(`/api/grids/${gridId}/cell?${p}`);
    panel.replaceChildren(
      el('h3', {}, `${r.total} points in this cell`),
      el('pre', { class: 'cell-desc' }, describeCell(k)),
      el('table', {}, el('tbody', {}, r.points.map((pt) => el('tr', { class: 'grid-row', onclick: () => openJob(pt.jobId) }, el('td', {}, `job ${pt.jobId}`), el('td', {}, AXES.map((a, q) => `${a} ${map.axes[a][pt.axes[q]]}`).join(', ')), el('td', {}, map.statuses[pt.status]))))),
      ...(r.total > r.points.length ? [el('p', { class: 'muted' }, `first ${r.points.length} shown`)] : []),
    );
  });

  async function openJob(jobId) {
    panel.replaceChildren(el('p', { class: 'muted' }, `loading job ${jobId}…`));
    let r;
    try {
      r = await api(`/api/jobs/${jobId}`);
    } catch (err) {
      panel.replaceChildren(el('p', { class: 'error' }, err.message));
      return;
    }
    const j = r.job;
    const params = j.parameters || {};
    const shown = ['zmetal', 'xnsur', 'mass', 'sint', 'rtot', 'alpha', 'rcore', 'species'];
    panel.replaceChildren(
      el('h3', { id: 'job-title' }, `job ${j.jobId}: ${j.jobName}`),
      el('p', {}, 'status ', el('b', { id: 'job-status' }, j.status), j.reason ? el('span', { class: 'error' }, ` — ${j.reason}`) : null, ` · attempt ${j.attempt} · run time ${fmtMs(j.executionMs)}`),
      el('table', {}, el('tbody', {}, shown.filter((c) => c in params).map((c) => el('tr', {}, el('th', {}, c), el('td', {}, String(params[c])))))),
      el('h4', {}, 'Attempts'),
      el('table', { id: 'job-attempts' }, el('thead', {}, el('tr', {}, ['#', 'runner', 'status', 'exit codes', 'reason', 'started', 'finished'].map((h) => el('th', {}, h)))), el('tbody', {}, r.attempts.map((a) => el('tr', {}, el('td', {}, a.attempt), el('td', {}, a.runnerId ?? '–'), el('td', {}, a.status), el('td', {}, a.exitCodes ? JSON.stringify(a.exitCodes) : '–'), el('td', {}, a.reason ?? ''), el('td', {}, fmtDate(a.startedAt)), el('td', {}, fmtDate(a.finishedAt)))))),
      el('h4', {}, 'Steps'),
      el('table', {}, el('tbody', {}, r.attempts.flatMap((a) => a.steps.map((s) => el('tr', {}, el('td', {}, `#${a.attempt}`), el('td', {}, s.step), el('td', {}, new Date(s.at).toLocaleTimeString()), el('td', {}, s.detail && Object.keys(s.detail).length ? JSON.stringify(s.detail) : '')))))),
      el('h4', {}, `Stored files (${(j.files || []).length})`),
      el('table', { class: 'files', id: 'job-files' }, el('thead', {}, el('tr', {}, ['file', 'size', 'sha256'].map((h) => el('th', {}, h)))), el('tbody', {}, (j.files || []).map((f) => el('tr', { title: f.fullPath }, el('td', {}, f.fileName), el('td', { class: 'num' }, f.size), el('td', {}, f.sha256.slice(0, 16) + '…'))))),
      el('h4', {}, r.textout.file ? `Tail of ${r.textout.file}` : 'TEXTOUT'),
      'text' in r.textout ? el('pre', { id: 'job-textout' }, r.textout.text) : el('p', { class: 'muted' }, r.textout.unavailable),
    );
    pdr.lastJob = r;
  }

  async function action(kind) {
    const question = kind === 'cancel' ? `Cancel the unfinished points of grid ${gridId}? Pending and queued points become cancelled; running ones finish.` : `Run the failed and problem points of grid ${gridId} again?`;
    if (!confirm(question)) return;
    try {
      const r = await api(`/api/grids/${gridId}/${kind}`, { method: 'POST', body: '{}' });
      $('#action-result').textContent = kind === 'cancel' ? `${r.cancelled} point(s) cancelled` : `${r.queued} point(s) queued again`;
    } catch (err) {
      $('#action-result').textContent = err.message;
    }
  }

  /** Test hooks: the drawn colour and the canvas position of a cell. */
  pdr.cellRgb = (k) => Array.from(cellRgb(k, statusRgb(), ...range()));
  pdr.cellCentre = (k) => {
    const ix = k % map.nx;
    const iy = (k - ix) / map.nx;
    return { x: geom.left + (ix + 0.5) * geom.cell, y: geom.top + (map.ny - 1 - iy + 0.5) * geom.cell };
  };
  pdr.statusColours = STATUS_COLOURS;
  pdr.openJob = openJob;

  buildControls();
  reopen();
  renderSummary(info.grid);
  leave = () => {
    if (es) es.close();
  };
}

route();
