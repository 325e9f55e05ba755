/**
 * NCRONTAB (six fields: second minute hour day month day-of-week), the schedule format of Azure
 * Functions timer triggers. Supports `*`, numbers, ranges `a-b`, lists `a,b` and steps `x/n`.
 */
export class Ncrontab {
  private readonly fields: Set<number>[];

  constructor(readonly expression: string) {
    const parts = expression.trim().split(/\s+/);
    if (parts.length !== 6) throw new Error(`NCRONTAB "${expression}" must have 6 fields`);
    const ranges: [number, number][] = [
      [0, 59],
      [0, 59],
      [0, 23],
      [1, 31],
      [1, 12],
      [0, 6],
    ];
    this.fields = parts.map((p, i) => parseField(p, ...(ranges[i] as [number, number])));
  }

  matches(date: Date): boolean {
    const values = [
      date.getSeconds(),
      date.getMinutes(),
      date.getHours(),
      date.getDate(),
      date.getMonth() + 1,
      date.getDay(),
    ];
    return values.every((v, i) => this.fields[i]?.has(v));
  }

  /** The next matching second strictly after `from`. */
  next(from: Date): Date {
    const t = new Date(Math.floor(from.getTime() / 1000) * 1000 + 1000);
    for (let i = 0; i < 366 * 24 * 3600; i++) {
      if (this.matches(t)) return t;
      t.setTime(t.getTime() + 1000);
    }
    throw new Error(`NCRONTAB "${this.expression}" never fires`);
  }
}

function parseField(field: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const [range = '*', stepText] = part.split('/');
    const step = stepText ? Number(stepText) : 1;
    let lo = min;
    let hi = max;
    if (range !== '*') {
      const [a, b] = range.split('-');
      lo = Number(a);
      hi = b !== undefined ? Number(b) : stepText ? max : lo;
    }
    if (![lo, hi, step].every(Number.isInteger) || lo < min || hi > max || step < 1) {
      throw new Error(`NCRONTAB field "${field}" is not valid`);
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}
