/**
 * The GetStatus client of `npm run bench:agent`, run as a process of its own: a coordinator is its own process,
 * and the benchmark's main process also holds the test harness (mysqld supervisors, in-process agents, mysql2
 * connections), whose heap made the client's garbage collections longer. Environment: AGENT_ADDRESS, PKI (the
 * coordinator's PkiFiles as JSON), CALLS, WARMUP. Prints one JSON line: the latencies of the calls in ms, sorted.
 */
import { AgentClient } from '../../src/shared/agent-client.ts';

const address = process.env.AGENT_ADDRESS;
const pki = process.env.PKI;
if (!address || !pki) throw new Error('status-client: AGENT_ADDRESS and PKI must be set');
const calls = Number(process.env.CALLS ?? 2000);
const warmup = Number(process.env.WARMUP ?? 50);

const client = new AgentClient(address, JSON.parse(pki));
try {
  for (let i = 0; i < warmup; i++) await client.getStatus();
  const lat: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = process.hrtime.bigint();
    await client.getStatus();
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  lat.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({ latencies_ms: lat.map((x) => +x.toFixed(3)) })}\n`);
} finally {
  client.close();
}
