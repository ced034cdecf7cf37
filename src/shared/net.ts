/** Small network helpers shared by the CLI, the local platform and the tests. */
import http from 'node:http';
import net from 'node:net';

/** Ports this process handed out: the kernel may return a port from bind(0) again as soon as it was closed. */
const handedOut = new Set<number>();

/** A port nothing listens on now on 127.0.0.1, never one this process returned before nor one in `exclude`. */
export async function freePort(exclude: Iterable<number> = []): Promise<number> {
  const taken = new Set(exclude);
  for (let attempt = 0; ; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port) && !taken.has(port)) {
      handedOut.add(port);
      return port;
    }
    if (attempt >= 100) throw new Error('cannot find a free TCP port on 127.0.0.1');
  }
}

/**
 * Asks an agent's `GET /readyz` on 127.0.0.1:`httpPort`: true for 200, false for anything else, an error or
 * no answer within `timeoutMs`. `cancel()` aborts it (the result is then false).
 */
export function probeReady(httpPort: number, timeoutMs: number): { result: Promise<boolean>; cancel: () => void } {
  let req: http.ClientRequest | undefined;
  const result = new Promise<boolean>((resolve) => {
    req = http.get({ host: '127.0.0.1', port: httpPort, path: '/readyz', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req?.destroy()).on('error', () => resolve(false)).on('close', () => resolve(false));
  });
  return { result, cancel: () => req?.destroy() };
}

/**
 * Like {@link probeReady}, and also returns the agent's reason (the body of its answer: "replicating",
 * "replication delay 75s is at or over the limit 60s", ...); reason is empty when it did not answer.
 */
export function probeReadyReason(httpPort: number, timeoutMs: number): Promise<{ ready: boolean; reason: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: httpPort, path: '/readyz', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < 1000) body += d; });
      res.on('end', () => resolve({ ready: res.statusCode === 200, reason: body.trim() }));
      res.on('error', () => resolve({ ready: false, reason: '' }));
    });
    req.on('timeout', () => req.destroy()).on('error', () => resolve({ ready: false, reason: '' }));
  });
}
