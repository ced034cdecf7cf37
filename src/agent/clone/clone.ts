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
import { copyFromExternalMariadb } from './external.ts';
import { PASSWORD_KEYS } from '../../shared/accounts.ts';

/** MySQL, external donor: the init account re-creates this cluster's accounts, so it needs every password. */
function checkInitAccount(req: CloneRequest__Output): void {
  if (req.initPassword === '') throw invalidArgument(`init_password for init user "${req.initUser}" is empty`);
  const missing = PASSWORD_KEYS.filter((k) => !req.passwords[k]);
  if (missing.length > 0) throw invalidArgument(`passwords lacks ${missing.join(', ')}; a clone from an external donor re-creates every account of the cluster`);
}

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
  // MariaDB without a donor agent: a logical copy from an external server.
  const external = flavor === 'mariadb' && req.donorAgentAddress.trim() === '' && req.donorHost.trim() !== '';
  if (flavor === 'mariadb' && req.donorAgentAddress.trim() === '' && !external) {
    throw invalidArgument('donor_agent_address is empty; MariaDB clones stream from the donor\'s agent (host:port), or copy from an external server (donor_host)');
  }
  if ((flavor === 'mysql' || external) && (req.donorHost.trim() === '' || req.donorPort < 1 || req.donorPort > 65535)) {
    throw invalidArgument(`donor_host and donor_port (1-65535) are required for ${external ? 'a copy from an external server' : 'a MySQL clone'}`);
  }
  if (external && req.donorUser === '') throw invalidArgument('donor_user is required for a copy from an external server');
  if (req.initUser !== '' && flavor === 'mysql') checkInitAccount(req);
  const user = req.donorUser || 'moco-clone-donor';
  const password = req.donorUser ? req.donorPassword : agent.options.passwords.cloneDonor;
  if (password === '') throw invalidArgument(`password for donor user "${user}" is empty`);
  const bootTimeoutMs = req.bootTimeoutSeconds > 0 ? req.bootTimeoutSeconds * 1000 : DEFAULT_BOOT_TIMEOUT_MS;
  const donor = flavor === 'mariadb' && !external ? req.donorAgentAddress : `${req.donorHost}:${req.donorPort}`;

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
    const gtid = external
      ? await copyFromExternalMariadb({
        db: agent.database(), donor: { host: req.donorHost, port: req.donorPort, user, password },
        socketPath: agent.options.socketPath, agentPassword: agent.options.passwords.agent, dataDir: agent.options.dataDir,
        tracker: agent.clone, log, signal: deps.lifetime,
      }, status.serverId)
      : flavor === 'mariadb'
      ? await cloneMariadb({
        db: agent.database(), dataDir: agent.options.dataDir, mariadbBackup: deps.mariadbBackup, mbstream: deps.mbstream,
        openDonorStream: (signal) => deps.openDonorStream(req.donorAgentAddress, signal), bootTimeoutMs,
        tracker: agent.clone, log, signal: deps.lifetime,
      })
      : await cloneMysql({
        db: agent.db, host: req.donorHost, port: req.donorPort, user, password, bootTimeoutMs,
        tracker: agent.clone, log, signal: deps.lifetime,
        ...(req.initUser !== '' ? { init: { user: req.initUser, password: req.initPassword, socketPath: agent.options.socketPath, passwords: req.passwords } } : {}),
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
