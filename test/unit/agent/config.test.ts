import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readFileSync } from 'node:fs';
import path from 'node:path';

import { AGENT_NODE_FLAGS, ConfigError, parseAgentConfig } from '../../../src/agent/config.ts';

const ENV = { CLUSTER_NAME: 'test', POD_NAME: 'moco-test-2' };
/** Tool flags given explicitly so that nothing depends on what is installed here. */
const TOOLS = ['--mariadb-backup', '/opt/mariadb-backup', '--mbstream', '/opt/mbstream'];
const parse = (argv: string[], env: NodeJS.ProcessEnv = ENV) => parseAgentConfig([...TOOLS, ...argv], env);

describe('parseAgentConfig', () => {
  it('defaults, with the cluster name and index from CLUSTER_NAME and POD_NAME', () => {
    const c = parse([]);
    assert.equal(c.clusterName, 'test');
    assert.equal(c.index, 2);
    assert.equal(c.socketPath, '/run/mysqld.sock');
    assert.equal(c.dataDir, '/var/lib/mysql/data');
    assert.equal(c.myCnfPath, '/etc/mysql/my.cnf');
    assert.equal(c.grpcAddress, '0.0.0.0:9080');
    assert.deepEqual(c.httpAddress, { host: '0.0.0.0', port: 9081 });
    assert.deepEqual(c.tls, { caCert: '/grpc-cert/ca.crt', cert: '/grpc-cert/tls.crt', key: '/grpc-cert/tls.key' });
    assert.equal(c.passwordsDir, undefined);
    assert.equal(c.maxDelayMs, 60_000);
    assert.equal(c.queueingWaitMs, 5_000);
    assert.equal(c.statusTimeoutMs, 2_000);
    assert.equal(c.watchIntervalMs, 100);
    assert.equal(c.heartbeatMs, 1_000);
    assert.equal(c.unreachableMs, 800);
    assert.equal(c.shutdownGraceMs, 20_000);
    assert.equal(c.accountCheckIntervalMs, 60_000);
    assert.deepEqual(c.tools, { mariadbBackup: '/opt/mariadb-backup', mbstream: '/opt/mbstream' });
    assert.equal(c.logLevel, 'info');
    assert.equal(c.clusterNamespace, 'default');
    assert.equal(c.tlsReloadIntervalMs, 10_000);
  });

  it('the namespace comes from --cluster-namespace, else POD_NAMESPACE', () => {
    assert.equal(parse([], { ...ENV, POD_NAMESPACE: 'prod' }).clusterNamespace, 'prod');
    assert.equal(parse(['--cluster-namespace', 'dev'], { ...ENV, POD_NAMESPACE: 'prod' }).clusterNamespace, 'dev');
    assert.equal(parse(['--tls-reload-interval', '30s']).tlsReloadIntervalMs, 30_000);
  });

  it('flags win over the environment', () => {
    const c = parse(['--cluster-name', 'other', '--index', '0']);
    assert.equal(c.clusterName, 'other');
    assert.equal(c.index, 0);
  });

  it('MOCO_PASSWORDS_DIR is the passwords directory unless the flag is given', () => {
    assert.equal(parse([], { ...ENV, MOCO_PASSWORDS_DIR: '/secrets' }).passwordsDir, '/secrets');
    assert.equal(parse(['--passwords-dir', '/flag'], { ...ENV, MOCO_PASSWORDS_DIR: '/secrets' }).passwordsDir, '/flag');
  });

  it('durations are milliseconds inside; 0 disables the delay check', () => {
    const c = parse(['--max-delay', '0', '--transaction-queueing-wait', '1m', '--watch-interval', '250ms', '--shutdown-grace', '1m30s', '--account-check-interval', '0']);
    assert.equal(c.maxDelayMs, 0);
    assert.equal(c.queueingWaitMs, 60_000);
    assert.equal(c.watchIntervalMs, 250);
    assert.equal(c.shutdownGraceMs, 90_000);
    assert.equal(c.accountCheckIntervalMs, 0, '0: only at start and after mysqld restarts');
  });

  it('addresses: empty host means all interfaces, IPv6 in brackets', () => {
    const c = parse(['--grpc-address', '[::1]:19080', '--http-address', ':0']);
    assert.equal(c.grpcAddress, '[::1]:19080');
    assert.deepEqual(c.httpAddress, { host: '0.0.0.0', port: 0 });
    assert.deepEqual(parse(['--http-address', '[::]:9081']).httpAddress, { host: '::', port: 9081 });
  });
});

describe('parseAgentConfig rejects a bad value and names its flag', () => {
  const cases: { name: string; argv: string[]; env?: NodeJS.ProcessEnv; flag: string }[] = [
    { name: 'unknown flag', argv: ['--max-dealy', '1s'], flag: 'max-dealy' },
    { name: 'flag without a value', argv: ['--index'], flag: 'index' },
    { name: 'bad duration', argv: ['--max-delay', '5x'], flag: 'max-delay' },
    { name: 'duration with a space', argv: ['--transaction-queueing-wait', '1m 5s'], flag: 'transaction-queueing-wait' },
    { name: 'duration under the minimum', argv: ['--watch-interval', '5ms'], flag: 'watch-interval' },
    { name: 'status timeout under the minimum', argv: ['--status-timeout', '1ms'], flag: 'status-timeout' },
    { name: 'host without a port', argv: ['--grpc-address', 'localhost'], flag: 'grpc-address' },
    { name: 'port out of range', argv: ['--http-address', '0.0.0.0:65536'], flag: 'http-address' },
    { name: 'non-numeric port', argv: ['--http-address', 'localhost:http'], flag: 'http-address' },
    { name: 'missing cluster name', argv: [], env: { POD_NAME: 'moco-test-2' }, flag: 'cluster-name' },
    { name: 'invalid cluster name', argv: ['--cluster-name', 'Bad_Name'], flag: 'cluster-name' },
    { name: 'non-numeric index', argv: ['--index', 'two'], flag: 'index' },
    { name: 'POD_NAME without an index', argv: [], env: { CLUSTER_NAME: 'test', POD_NAME: 'moco-test' }, flag: 'index' },
    { name: 'no index at all', argv: [], env: { CLUSTER_NAME: 'test' }, flag: 'index' },
    { name: 'negative index', argv: ['--index=-1'], flag: 'index' },
    { name: 'socket path too long', argv: ['--socket', `/run/${'s'.repeat(103)}`], flag: 'socket' },
    { name: 'empty data dir', argv: ['--data-dir', ''], flag: 'data-dir' },
    { name: 'bad log level', argv: ['--log-level', 'verbose'], flag: 'log-level' },
    { name: 'invalid namespace', argv: ['--cluster-namespace', 'Prod/1'], flag: 'cluster-namespace' },
    { name: 'invalid POD_NAMESPACE', argv: [], env: { ...ENV, POD_NAMESPACE: '-x' }, flag: 'cluster-namespace' },
    { name: 'reload interval under the minimum', argv: ['--tls-reload-interval', '10ms'], flag: 'tls-reload-interval' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(() => parse(c.argv, c.env ?? ENV), (err: unknown) => {
        assert.ok(err instanceof ConfigError, `want ConfigError, got ${String(err)}`);
        assert.equal(err.flag, c.flag);
        assert.ok(err.message.startsWith(`--${c.flag}: `), err.message);
        return true;
      });
    });
  }

  it('a socket path of 107 characters is accepted', () => {
    const socket = `/run/${'s'.repeat(102)}`;
    assert.equal(socket.length, 107);
    assert.equal(parse(['--socket', socket]).socketPath, socket);
  });
});

describe('AGENT_NODE_FLAGS', () => {
  it('are the node flags of the agent image ENTRYPOINT', () => {
    const dockerfile = readFileSync(path.join(import.meta.dirname, '../../../images/agent.Dockerfile'), 'utf8');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.ok(entrypoint, 'the Dockerfile has an exec-form ENTRYPOINT');
    assert.deepEqual(JSON.parse(entrypoint), ['node', ...AGENT_NODE_FLAGS, '/moco/dist/moco-agent.mjs']);
  });
});
