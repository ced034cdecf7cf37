/**
 * Clone (recipient side), for either flavor. Single-flight; refuses a recipient that holds user data; runs on
 * the agent's lifetime signal rather than the caller's, so a coordinator that goes away does not waste a clone
 * half done (it sees the progress in status and waits).
 */
import { failedPrecondition, invalidArgument } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Agent } from '../agent.ts';
import type { CloneRequest__Output } from '../../generated/moco/agent/v1/CloneRequest.ts';
import { cloneMariadb } from './mariadb.ts';
import { cloneMysql } from './mysql.ts';
import { acquireExclusive } from '../backup/exclusive.ts';

export interface CloneDeps {
  mariadbBackup: string;
  mbstream: string;
  /** Opens Donor.StreamClone on a peer agent. */
  openDonorStream: (address: string, signal: AbortSignal) => AsyncIterable<Buffer>;
  /** Aborts when the agent shuts down. */
  lifetime: AbortSignal;
  log: Logger;
}

export interface CloneResult {
  bytesTransferred: number;
  durationMs: number;
  gtid: string;
}

const DEFAULT_BOOT_TIMEOUT_MS = 10 * 60_000;

export async function runClone(agent: Agent, req: CloneRequest__Output, deps: CloneDeps): Promise<CloneResult> {
  const adapter = await agent.flavor();
  const flavor = adapter.flavor;
  if (flavor === 'mariadb' && req.donorAgentAddress.trim() === '') {
    throw invalidArgument('donor_agent_address is empty; MariaDB clones stream from the donor\'s agent (host:port)');
  }
  if (flavor === 'mysql' && (req.donorHost.trim() === '' || req.donorPort < 1 || req.donorPort > 65535)) {
    throw invalidArgument('donor_host and donor_port (1-65535) are required for a MySQL clone');
  }
  const user = req.donorUser || 'moco-clone-donor';
  const password = req.donorUser ? req.donorPassword : agent.options.passwords.cloneDonor;
  if (password === '') throw invalidArgument(`password for donor user "${user}" is empty`);
  const bootTimeoutMs = req.bootTimeoutSeconds > 0 ? req.bootTimeoutSeconds * 1000 : DEFAULT_BOOT_TIMEOUT_MS;
  const donor = flavor === 'mariadb' ? req.donorAgentAddress : `${req.donorHost}:${req.donorPort}`;

  const status = await agent.readFlavorStatus();
  if (status.hasUserData) {
    throw failedPrecondition('the recipient holds user data; a clone would destroy it (re-initialise the instance first if that is intended)');
  }
  const release = acquireExclusive(agent, 'a clone');
  try {
    agent.clone.begin(donor);
  } catch (err) {
    release();
    throw err;
  }
  const log = deps.log.child({ donor });
  log.info('clone started');
  try {
    const gtid = flavor === 'mariadb'
      ? await cloneMariadb({
        db: agent.database(), dataDir: agent.options.dataDir, mariadbBackup: deps.mariadbBackup, mbstream: deps.mbstream,
        openDonorStream: (signal) => deps.openDonorStream(req.donorAgentAddress, signal), bootTimeoutMs,
        tracker: agent.clone, log, signal: deps.lifetime,
      })
      : await cloneMysql({
        db: agent.db, host: req.donorHost, port: req.donorPort, user, password, bootTimeoutMs,
        tracker: agent.clone, log, signal: deps.lifetime,
      });
    const durationMs = agent.clone.succeed();
    log.info({ bytes: agent.clone.bytesTransferred, durationMs, gtid }, 'clone completed');
    return { bytesTransferred: agent.clone.bytesTransferred, durationMs, gtid };
  } catch (err) {
    agent.clone.fail(err);
    log.error({ err }, 'clone failed');
    throw err;
  } finally {
    release();
  }
}
