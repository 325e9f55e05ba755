import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Kernel clock ticks per second (`getconf CLK_TCK`), the unit of /proc/<pid>/stat's times. */
export function clockTicks(): number {
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (!Number.isFinite(ticks) || ticks <= 0) throw new Error(`getconf CLK_TCK gave ${ticks}`);
  return ticks;
}

interface Stat {
  ppid: number;
  ticks: number;
}

/** utime + stime of one process from /proc/<pid>/stat; undefined once it is gone. */
function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces; fields count from after it.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** CPU time in ms used so far by each named process and its descendants (Linux /proc). */
export function cpuTimes(
  pids: Record<string, number | undefined>,
  ticksPerSecond: number,
): Record<string, number> {
  const all = new Map<number, Stat>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s) all.set(Number(entry), s);
  }
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (!pid) continue;
    let ticks = 0;
    const queue = [pid];
    while (queue.length > 0) {
      const p = queue.pop() as number;
      ticks += all.get(p)?.ticks ?? 0;
      for (const [child, s] of all) if (s.ppid === p) queue.push(child);
    }
    out[name] = (ticks * 1000) / ticksPerSecond;
  }
  return out;
}

/**
 * Non-idle clock ticks of the whole machine from /proc/stat's `cpu` line: user, nice, system, irq,
 * softirq and steal (guest time is already inside user). Idle and iowait are what no process used.
 */
export function busyTicksOf(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no "cpu" line');
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return user + nice + system + irq + softirq + steal;
}

/** CPU time in ms the whole machine has spent busy so far (every process, the load generator too). */
export function machineBusyMs(ticksPerSecond: number): number {
  return (busyTicksOf(fs.readFileSync('/proc/stat', 'utf8')) * 1000) / ticksPerSecond;
}
