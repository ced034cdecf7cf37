/**
 * Loads the agent API from proto/ at run time. The options here must match scripts/gen-proto.sh, which
 * generates the TypeScript types in src/generated/ from the same file.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../generated/agent.ts';

/** The proto/ folder: found upwards from this module, so it works from src/ and from a bundle in dist/. */
function findProtoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'proto', 'moco', 'agent', 'v1', 'agent.proto');
    if (existsSync(candidate)) return path.join(dir, 'proto');
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find proto/moco/agent/v1/agent.proto above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

let cached: ProtoGrpcType | undefined;

/** The loaded `moco.agent.v1` package (Agent and Donor services, message types). */
export function agentProto(): ProtoGrpcType['moco']['agent']['v1'] {
  if (cached === undefined) {
    const definition = protoLoader.loadSync('moco/agent/v1/agent.proto', {
      includeDirs: [findProtoRoot()],
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached.moco.agent.v1;
}

/**
 * Channel options for every agent connection: a larger HTTP/2 flow-control window makes bulk streams
 * (clone, backups) several times faster on loopback and LANs.
 */
export const GRPC_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc-node.flow_control_window': 4 * 1024 * 1024,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.max_send_message_length': 16 * 1024 * 1024,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  // Reconnect quickly to an agent that comes back (the default backoff grows to two minutes).
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

/**
 * Channel options for one address. Dialling an IP address would make grpc-js send it as the TLS server name
 * (not allowed by RFC 6066); certificates always cover "localhost", so that name is verified instead.
 */
export function channelOptionsFor(address: string): grpc.ChannelOptions {
  const host = address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  const isIp = /^[\d.]+$/.test(host) || host.includes(':');
  return isIp ? { ...GRPC_CHANNEL_OPTIONS, 'grpc.ssl_target_name_override': 'localhost' } : GRPC_CHANNEL_OPTIONS;
}
