import { fileRole, onionRole, PDR_FILE_ROLES, pdrFileRole, storedFile, jobMsgId, names, RPC, RpcName, pointsUpsertRequest, MAX_POINTS_PER_BATCH, LIMITS, gridRequest, safeName, ONION_SPECIES_MAX, onionSpecies } from './index';

describe('contract registry', () => {
  it('gives every RPC a distinct subject within a namespace, and namespaces do not overlap', () => {
    const a = names('pdr');
    const b = names('t1');
    const subjects = (Object.keys(RPC) as RpcName[]).map((k) => a.rpc(k));
    expect(new Set(subjects).size).toBe(subjects.length);
    expect(subjects.some((s) => (Object.keys(RPC) as RpcName[]).map((k) => b.rpc(k)).includes(s))).toBe(false);
    expect(a.jobStream).not.toBe(b.jobStream);
  });

  it('keeps a full planner batch of points far below the NATS max payload', () => {
    const points = Array.from({ length: MAX_POINTS_PER_BATCH }, (_, i) => ['100', String(-20 + (i % 70)), '-10.5', String(i)] as [string, string, string, string]);
    const payload = JSON.stringify(pointsUpsertRequest.parse({ v: 1, gridId: 1, points }));
    expect(Buffer.byteLength(payload)).toBeLessThan(LIMITS.MAX_PAYLOAD_BYTES);
  });

  it('event ids change with the generation so a retried job is not deduplicated', () => {
    expect(jobMsgId({ jobId: 5, generation: 0, db: 'aaaaaaaa' })).not.toBe(jobMsgId({ jobId: 5, generation: 1, db: 'aaaaaaaa' }));
  });

  it('event ids differ between databases: job 5 of one database is not a duplicate of job 5 of another', () => {
    expect(jobMsgId({ jobId: 5, generation: 0, db: 'aaaaaaaa' })).not.toBe(jobMsgId({ jobId: 5, generation: 0, db: 'bbbbbbbb' }));
  });

  it.each(['../etc', 'a/b', '.hidden', 'nul\0byte', '', '..'])('refuses %j as a name that becomes a path segment', (s) => {
    expect(safeName.safeParse(s).success).toBe(false);
  });

  it('rejects axis values pdr_run would eval', () => {
    const base = {
      modelName: 'm',
      axes: { metal: ['100'], dens: ['30'], mass: ['-10'], chi: ['__import__("os")'] },
      user: { username: 'u', email: 'e' },
      physics: { alpha: 1.5, rcore: 0.2, chemistry: 'H' },
      onionSpecies: ['CO'],
      run: { baseDir: '/b', pdrFileName: 'p', onionFileName: 'o', chemDatabase: 'c', storage: { type: 'local', baseDir: '/s' }, timeouts: { pdrMs: 1, onionMs: 1 } },
    };
    const r = gridRequest.safeParse(base);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('chi');
  });
});

describe('file roles', () => {
  const file = { fileName: 'x', relPath: 'm/pdrgrid/x', fullPath: '/s/m/pdrgrid/x', size: 1, mtime: '2025-01-01T00:00:00.000Z', sha256: 'a'.repeat(64) };

  it('accepts the PDR roles and onion:<species>:<file>', () => {
    for (const role of [...PDR_FILE_ROLES, onionRole('CO', 'TEXTOUT'), onionRole('C+', 'jerg_C+.smli')]) expect(storedFile.safeParse({ ...file, role }).success).toBe(true);
  });

  it.each(['pdr_hdf', 'HDF4', '', 'onion:CO', 'onion::TEXTOUT', 'onion:CO:'])('refuses the role %j', (role) => {
    const r = storedFile.safeParse({ ...file, role });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual(['role']);
  });

  it('a species submitted is short enough for the roles of its files (else its finish could never be recorded)', () => {
    const longest = 'X'.repeat(ONION_SPECIES_MAX);
    expect(storedFile.safeParse({ ...file, role: onionRole(longest, 'TEXTOUT') }).success).toBe(true);
    expect(onionSpecies.safeParse(longest).success).toBe(true);
    const r = onionSpecies.safeParse(`${longest}X`);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].message).toMatch(/at most 80 characters/);
  });

  it('is the one list: fileRole is the enum of PDR roles or an onion role', () => {
    expect(pdrFileRole.options).toEqual([...PDR_FILE_ROLES]);
    expect(fileRole.safeParse('ctrl_ind').success).toBe(true);
  });
});
