import { maskRcloneRemote, rcloneRemotePath, rcloneRemoteSecrets, splitRcloneRemote } from './rclone-storage';

describe('rclone remote path mapping (SPEC §6.4 cases, prefix on a path boundary)', () => {
  const prefix = '/home/ossk/kosma-tau/kosma-tau/rundir';
  it.each([
    ['test_remote:/remote/base', prefix, `${prefix}/lowUV-C18O/oniongrid/file.txt`, 'test_remote:/remote/base/lowUV-C18O/oniongrid/file.txt'],
    ['test_remote:/remote/base', prefix, 'lowUV-C18O/oniongrid/file.txt', 'test_remote:/remote/base/lowUV-C18O/oniongrid/file.txt'],
    ['test_remote:/remote/base', prefix, '/other/path/file.txt', 'test_remote:/remote/base/other/path/file.txt'],
    ['test_remote:/remote/base', null, '/full/path/to/file.txt', 'test_remote:/remote/base/full/path/to/file.txt'],
    [
      'kosmatau:',
      prefix,
      `${prefix}/lowUV-C18O/oniongrid/ONION100_3.0_1.0_1.0_00.jerg_CO.smli`,
      'kosmatau:/lowUV-C18O/oniongrid/ONION100_3.0_1.0_1.0_00.jerg_CO.smli',
    ],
    // pdr_run's plain string prefix turned /data/run2/x into "2/x": not on a path boundary, not stripped
    ['r:', '/data/run', '/data/run2/x', 'r:/data/run2/x'],
    ['r:', '/data/run/', '/data/run/x', 'r:/x'],
    ['r:', '/data/run', '/data/run', 'r:'],
    ['r:base', null, 'm/pdrgrid/a', 'r:base/m/pdrgrid/a'],
    [':sftp,host=h,port=2222:', null, '/srv/st/m/a', ':sftp,host=h,port=2222:/srv/st/m/a'],
  ])('%s with prefix %s: %s → %s', (remote, pre, p, want) => {
    expect(rcloneRemotePath(remote, pre, p)).toBe(want);
  });

  it('splits on the first ":" outside quotes', () => {
    expect(splitRcloneRemote('name:base/path')).toEqual({ name: 'name', basePath: 'base/path' });
    expect(splitRcloneRemote(':sftp,host=h:')).toEqual({ name: ':sftp,host=h', basePath: '' });
    expect(splitRcloneRemote(':sftp,host="a:b":x')).toEqual({ name: ':sftp,host="a:b"', basePath: 'x' });
    expect(() => splitRcloneRemote('nocolon')).toThrow(/no ":" after the remote name/);
  });

  it('finds and masks secret parameters of connection strings', () => {
    expect(rcloneRemoteSecrets(':sftp,host=h,user=u,pass=xyz:')).toEqual(['pass']);
    expect(rcloneRemoteSecrets('kosmatau:')).toEqual([]);
    expect(rcloneRemoteSecrets(':s3,access_key_id=a,secret_access_key=b:bucket')).toEqual(['secret_access_key']);
    expect(maskRcloneRemote(':sftp,host=h,pass=xyz,user=u:')).toBe(':sftp,host=h,pass=***,user=u:');
  });
});
