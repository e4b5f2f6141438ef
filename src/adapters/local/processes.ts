import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/**
 * What the local backends (cluster nodes, workbenches, workspaces) need to know of the processes
 * they start: whether one still runs, and on which port.
 */

/** A process a local backend started: its pid, port, and start time (so a reused pid is never taken for it). */
export interface ProcessRecord {
  pid: number;
  port: number;
  /** The process's start time (Linux /proc); absent where there is no /proc. */
  started?: string;
}

/** Whether the recorded process still runs: its pid exists and, where /proc tells, started when ours did. */
export function alive(record: Pick<ProcessRecord, 'pid' | 'started'>): boolean {
  try {
    process.kill(record.pid, 0);
  } catch {
    return false;
  }
  return record.started === undefined || startTime(record.pid) === record.started;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name); undefined where there is no /proc. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether something accepts connections on the loopback port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', timeout: 500 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** A loopback port free now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Every live process's environment, by pid: how the local backends find the processes they tagged
 * (what EC2 and ECS tags are in AWS) when a crash lost their records. Empty where there is no /proc.
 */
export function processEnvironments(): { pid: number; variables: Map<string, string> }[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    try {
      const pairs = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)] as const);
      return [{ pid: Number(entry), variables: new Map(pairs) }];
    } catch {
      return [];
    }
  });
}
