/**
 * The agent's HTTP endpoints: /healthz (mysqld answers), /readyz (the readiness verdict), /metrics
 * (Prometheus). Built apart from listen() so tests can use inject().
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Agent } from './agent.ts';

export function buildHttp(agent: Agent, options: { draining: () => boolean }): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async (_req, reply) => {
    const ok = await agent.healthy();
    return reply.code(ok ? 200 : 503).type('text/plain').send(ok ? 'ok\n' : 'mysqld does not answer\n');
  });
  app.get('/readyz', async (_req, reply) => {
    if (options.draining()) return reply.code(503).type('text/plain').send('shutting down\n');
    try {
      const v = await agent.readiness();
      return reply.code(v.httpStatus).type('text/plain').send(`${v.reason}\n`);
    } catch (err) {
      return reply.code(500).type('text/plain').send(`cannot read status: ${(err as Error).message}\n`);
    }
  });
  app.get('/metrics', async (_req, reply) => {
    const registry = agent.options.metrics.registry;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return app;
}
