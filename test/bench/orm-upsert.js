#!/usr/bin/env node
'use strict';
/**
 * `node test/bench/orm-upsert.js` (after npm run build; N=10000 by default): why the points upsert
 * (apps/state/src/points/upsert-points.ts) writes its parameter rows with one literal multi-row
 * INSERT … ON DUPLICATE KEY per 1000 points and not through the entity manager. The same N
 * kosmatau_parameters rows (~110 columns each, built by @pdr/domain), in 1000-row transactions, three
 * ways, twice: the literal INSERT, em.insertMany (no conflict handling: not usable where concurrent
 * requests insert the same points) and em.upsertMany with onConflictAction 'ignore' (the ORM's form of
 * the same statement). Own database, dropped at the end.
 */
const p = require('@pdr/persistence');
const d = require('@pdr/domain');
const { performance } = require('node:perf_hooks');
const N = Number(process.env.N || 10000);
(async () => {
  const s = p.testDatabaseSettings();
  await p.ensureDatabase(s);
  const orm = await p.createOrm(s);
  try {
    await p.migrateUp(orm);
    const em0 = orm.em.fork();
    const names = d.KOSMATAU_PARAMETER_NAMES;
    const mk = async (label) => {
      const mn = await p.upsertModelName(em0, { modelName: label, modelPath: '/s/' + label });
      const rows = [];
      for (let i = 0; i < N; i++) {
        const row = d.buildParameterRow({ point: { metal: '100', dens: String(30 + (i % 100)), mass: String(-10 + Math.floor(i / 100) % 10), chi: String(10 + Math.floor(i / 1000)) }, alpha: 1.5, rcore: 0.2, chemistry: 'H H2 C C+ CO O', nonDefault: {} });
        const r = { model_name_id: mn, parameter_hash: require('crypto').createHash('sha256').update(label + i).digest('hex') };
        for (const c of names) r[c] = row[c] ?? null;
        rows.push(r);
      }
      return rows;
    };
    const head = `INSERT INTO kosmatau_parameters (${['model_name_id', 'parameter_hash', ...names].map(p.ident).join(', ')}) VALUES `;
    for (const round of [1, 2]) {
      let rows = await mk('raw' + round);
      let t = performance.now();
      for (const part of p.chunk(rows, 1000)) await p.transaction(orm.em.fork(), (tem) => p.runLiteral(tem, head + part.map((r) => `(${[r.model_name_id, r.parameter_hash, ...names.map((c) => r[c])].map((v) => p.sqlLiteral(v ?? null)).join(', ')})`).join(', ') + ' ON DUPLICATE KEY UPDATE id = id'));
      console.log(`round ${round} raw literal multi-row INSERT ${N}: ${(performance.now() - t).toFixed(0)} ms`);
      rows = await mk('ins' + round);
      t = performance.now();
      for (const part of p.chunk(rows, 1000)) await p.transaction(orm.em.fork(), (tem) => tem.insertMany(p.KosmatauParameters, part));
      console.log(`round ${round} em.insertMany ${N}: ${(performance.now() - t).toFixed(0)} ms`);
      rows = await mk('ups' + round);
      t = performance.now();
      for (const part of p.chunk(rows, 1000)) await p.transaction(orm.em.fork(), (tem) => tem.upsertMany(p.KosmatauParameters, part, { onConflictFields: ['model_name_id', 'parameter_hash'], onConflictAction: 'ignore' }));
      console.log(`round ${round} em.upsertMany (ignore) ${N}: ${(performance.now() - t).toFixed(0)} ms`);
    }
  } finally { await orm.close(true); await p.dropDatabase(s); }
})().catch((e) => { console.error(e); process.exit(1); });
