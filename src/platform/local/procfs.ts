/**
 * What /proc tells about this machine's processes: which belong to a cluster (their command line names a path
 * inside its state directory) and which holds a TCP port. Linux only; read-only.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  /** The command line's arguments. */
  args: string[];
}

function pids(): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);
}

/** The arguments of a live, non-zombie process; undefined when it is gone or unreadable. */
export function processArgs(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return undefined;
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
  } catch {
    return undefined;
  }
}

/** The parent PID of `pid`, or undefined. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** True when one argument is `root` itself, a path below it, or `--flag=` followed by one of those. */
export function argsReference(args: string[], root: string): boolean {
  const under = (v: string): boolean => v === root || v.startsWith(`${root}/`);
  return args.some((a) => under(a) || (a.startsWith('-') && a.includes('=') && under(a.slice(a.indexOf('=') + 1))));
}

/**
 * Every live process whose command line references `root` (an absolute path), except this process and its
 * ancestors. This finds a cluster's processes by the exact state-directory path, never by a program's name.
 */
export function processesReferencing(root: string): ProcessInfo[] {
  const mine = new Set<number>();
  for (let p: number | undefined = process.pid; p && p > 1 && !mine.has(p); p = parentPid(p)) mine.add(p);
  const out: ProcessInfo[] = [];
  for (const pid of pids()) {
    if (mine.has(pid)) continue;
    const args = processArgs(pid);
    if (args && argsReference(args, root)) out.push({ pid, args });
  }
  return out;
}

/** A short, readable command line for messages. */
export function describeArgs(args: string[], max = 120): string {
  const text = args.join(' ');
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** Socket inodes listening on TCP `port` (any local address, IPv4 or IPv6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local || f[3] !== '0A') continue; // 0A: LISTEN
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && f[9]) inodes.add(f[9]);
    }
  }
  return inodes;
}

/**
 * The process listening on TCP `port`: `{ pid, args }`, `{}` when something listens but its process is not
 * visible to this user, undefined when nothing listens.
 */
export function portHolder(port: number): Partial<ProcessInfo> | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const pid of pids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1] as string)) return { pid, args: processArgs(pid) ?? [] };
    }
  }
  return {};
}
