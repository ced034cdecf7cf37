import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseAgentConfig } from '../../../src/agent/config.ts';
import { parseReadOnlyArgs } from '../../../src/agent/read-only.ts';

describe('parseReadOnlyArgs (moco-agent read-only)', () => {
  it("defaults: serve's socket, the passwords directory from MOCO_PASSWORDS_DIR, a 10 s lock wait", () => {
    const serve = parseAgentConfig(['--mariadb-backup', 'x', '--mbstream', 'y'], { CLUSTER_NAME: 'c', POD_NAME: 'moco-c-0' });
    assert.deepEqual(parseReadOnlyArgs([], {}), { socketPath: serve.socketPath, passwordsDir: undefined, lockWaitTimeoutSeconds: 10 });
    assert.deepEqual(parseReadOnlyArgs([], { MOCO_PASSWORDS_DIR: '/p' }), { socketPath: serve.socketPath, passwordsDir: '/p', lockWaitTimeoutSeconds: 10 });
  });

  it('the flags kubectl moco read-only passes, and the test harness\'s', () => {
    assert.deepEqual(parseReadOnlyArgs(['--socket', '/run/mysqld.sock', '--passwords-dir', '/moco-passwords'], {}),
      { socketPath: '/run/mysqld.sock', passwordsDir: '/moco-passwords', lockWaitTimeoutSeconds: 10 });
    assert.deepEqual(parseReadOnlyArgs(['--socket', '/tmp/x/mysqld.sock', '--passwords-dir', 'pw', '--lock-wait-timeout', '1m'], { MOCO_PASSWORDS_DIR: '/p' }),
      { socketPath: '/tmp/x/mysqld.sock', passwordsDir: 'pw', lockWaitTimeoutSeconds: 60 });
    assert.equal(parseReadOnlyArgs(['--help'], {}), 'help');
    assert.equal(parseReadOnlyArgs(['-h'], {}), 'help');
  });

  it('bad flags name the flag', () => {
    const cases: [string[], RegExp][] = [
      [['--lock-wait-timeout', 'soon'], /--lock-wait-timeout: "soon" is not a duration/],
      [['--lock-wait-timeout', '500ms'], /--lock-wait-timeout: .*whole seconds, at least 1s/],
      [['--lock-wait-timeout', '1500ms'], /--lock-wait-timeout: .*whole seconds/],
      [['--socket', ''], /--socket: must not be empty/],
      [['--socket', `/${'x'.repeat(120)}`], /--socket: unix socket paths are limited/],
      [['--cluster-name', 'c'], /cluster-name/],
      [['extra'], /extra/],
    ];
    for (const [argv, pattern] of cases) assert.throws(() => parseReadOnlyArgs(argv, {}), pattern, argv.join(' '));
  });
});
