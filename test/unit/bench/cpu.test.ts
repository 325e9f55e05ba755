import assert from 'node:assert/strict';
import { test } from 'node:test';
import { busyTicksOf } from '../../../bench/cpu.js';

// /proc/stat's layout (proc(5)) on a 2-core machine: the per-core lines must not be added twice.
const procStat = `cpu  1000 20 300 9000 400 5 6 7 0 0
cpu0 500 10 150 4500 200 2 3 3 0 0
cpu1 500 10 150 4500 200 3 3 4 0 0
intr 123456 0 0
ctxt 987654
`;

void test('machine CPU counts user, nice, system, irq, softirq and steal; never idle or iowait', () => {
  assert.equal(busyTicksOf(procStat), 1000 + 20 + 300 + 5 + 6 + 7);
});

void test('a /proc/stat without the cpu line is an error, not zero', () => {
  assert.throws(() => busyTicksOf('intr 1 2 3\n'), /no "cpu" line/);
});
