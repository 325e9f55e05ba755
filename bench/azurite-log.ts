import fs from 'node:fs';
import readline from 'node:readline';

/**
 * Storage requests read back from Azurite's debug log (`azurite --debug <file>`). Azurite writes one
 * block of lines per request, each line `<ISO time> <request id> <level>: <text>`; the lines this
 * reads are, per request:
 *   `BlobStorageContextMiddleware: RequestMethod=PUT RequestURL=http://…/devstoreaccount1/inbound/x …`
 *   `DispatchMiddleware: Operation=BlockBlob_Upload`
 *   `Serializer: Raw response body string is <?xml …><QueueMessagesList/>` (queue reads)
 *   `TableHandler:batch() Raw request string is "…PATCH http://…/trace(…) HTTP/1.1…"` ($batch)
 *   `EndMiddleware: End response. TotalTimeInMS=10 StatusCode=201 …`
 * Everything else (authentication, extents, GC) is ignored.
 */

export type StorageService = 'blob' | 'queue' | 'table';

export interface StorageRequest {
  /** Time of the request's first line, ms since the epoch. */
  at: number;
  id: string;
  service: StorageService;
  method: string;
  /** Container, queue or table the request addresses ('' for account-level calls). */
  resource: string;
  /** Azurite's name for the operation, e.g. `BlockBlob_Upload`, `Messages_Dequeue`, `Table_Batch`. */
  operation: string;
  status?: number;
  /** Messages a queue dequeue or peek returned. */
  messages?: number;
  /** Tables a `$batch` wrote to. */
  batchTables?: string[];
}

const LINE = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (?:(\S+)\s+)?\w+: (.*)$/;
const START = /^(Blob|Queue|Table)StorageContextMiddleware: RequestMethod=(\w+) RequestURL=(\S+)/;
const OPERATION = /^DispatchMiddleware: Operation=(\w+)/;
const END = /^EndMiddleware: End response\..*?StatusCode=(\d+)/;
const QUEUE_BODY = /^Serializer: Raw response body string is .*<QueueMessagesList/;
const BATCH = /^TableHandler:batch\(\) Raw request string is (.*)$/;
const BATCH_PART = /(?:GET|PUT|POST|PATCH|MERGE|DELETE) https?:\/\/[^/\s]+\/[^/\s]+\/([A-Za-z][A-Za-z0-9]*)/g;

/** Folds the debug log's lines into one record per storage request, in the order they started. */
export class AzuriteLogParser {
  private readonly open = new Map<string, StorageRequest>();
  private readonly done: StorageRequest[] = [];

  line(text: string): void {
    const m = LINE.exec(text);
    if (!m?.[2]) return;
    const [, time = '', id, body = ''] = m;
    const start = START.exec(body);
    if (start) {
      const [, service = '', method = '', url = ''] = start;
      const request: StorageRequest = {
        at: Date.parse(time),
        id,
        service: service.toLowerCase() as StorageService,
        method,
        resource: resourceOf(url),
        operation: '',
      };
      this.open.set(id, request);
      this.done.push(request);
      return;
    }
    const request = this.open.get(id);
    if (!request) return;
    const op = OPERATION.exec(body);
    if (op?.[1]) {
      request.operation = op[1];
      return;
    }
    if (QUEUE_BODY.test(body)) {
      request.messages = body.split('<QueueMessage>').length - 1;
      return;
    }
    const batch = BATCH.exec(body);
    if (batch?.[1]) {
      const tables = new Set([...batch[1].matchAll(BATCH_PART)].map((p) => p[1] ?? ''));
      request.batchTables = [...tables].sort();
      return;
    }
    const end = END.exec(body);
    if (end?.[1]) {
      request.status = Number(end[1]);
      this.open.delete(id);
    }
  }

  requests(): StorageRequest[] {
    return this.done;
  }
}

export function parseAzuriteDebugLog(text: string): StorageRequest[] {
  const parser = new AzuriteLogParser();
  for (const line of text.split('\n')) parser.line(line);
  return parser.requests();
}

/** Reads a debug log file line by line (they run to hundreds of megabytes). */
export async function readAzuriteDebugLog(file: string): Promise<StorageRequest[]> {
  const parser = new AzuriteLogParser();
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) parser.line(line);
  return parser.requests();
}

/** `/devstoreaccount1/inbound/x` → `inbound`; `/devstoreaccount1/trace(PartitionKey='p',…)` → `trace`. */
function resourceOf(url: string): string {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return '';
  }
  const segment = pathname.split('/').filter(Boolean)[1] ?? '';
  // The table name ends where its key predicate `(…)` starts.
  const name = decodeURIComponent(segment);
  const paren = name.indexOf('(');
  return paren < 0 ? name : name.slice(0, paren);
}

/**
 * Requests that are not caused by a message: polls that found the queue empty, peeks, listings (the
 * blob trigger's scans) and the create-if-absent calls every client makes on start.
 */
export function backgroundKind(r: StorageRequest): string | undefined {
  if (r.service === 'queue' && r.operation === 'Messages_Dequeue' && r.messages === 0)
    return 'empty queue poll';
  if (r.operation === 'Messages_Peek') return 'queue peek';
  if (r.service === 'blob' && r.operation.includes('List')) return 'blob listing';
  if (/_Create$|_GetProperties$|_GetAccessPolicy$/.test(r.operation) && !r.operation.startsWith('Blob'))
    return 'setup';
  if (r.service === 'table' && r.resource === 'Tables') return 'setup';
  return undefined;
}

/** `blob PUT inbound`, `queue GET sigrelay-inbound`, `table POST $batch trace`. */
export function requestLabel(r: StorageRequest): string {
  const resource = r.batchTables ? `$batch ${r.batchTables.join('+')}` : r.resource || '(account)';
  return `${r.service} ${r.method} ${resource}`;
}

export interface TallyRow {
  label: string;
  operation: string;
  all: number;
  /** Of `all`, the requests that are background (polls, scans, timers), with why. */
  background: number;
  why: string;
  messagePath: number;
}

export interface StorageTally {
  rows: TallyRow[];
  all: number;
  background: number;
  messagePath: number;
}

/**
 * Counts the requests that started in [from, to) by label and operation, and splits them into
 * background and message path: background by kind (backgroundKind), plus, for every other
 * label+operation, what the idle sample shows it costs per second of doing nothing (timers), scaled
 * to the window.
 */
export function tallyRequests(
  requests: StorageRequest[],
  window: { from: number; to: number },
  idle?: { from: number; to: number },
): StorageTally {
  const key = (r: StorageRequest) => `${requestLabel(r)}\t${r.operation}`;
  const within = (w: { from: number; to: number }) => requests.filter((r) => r.at >= w.from && r.at < w.to);
  const idleRate = new Map<string, number>();
  if (idle) {
    const seconds = (idle.to - idle.from) / 1000;
    for (const r of within(idle)) {
      if (backgroundKind(r)) continue;
      idleRate.set(key(r), (idleRate.get(key(r)) ?? 0) + 1 / seconds);
    }
  }
  const seconds = (window.to - window.from) / 1000;
  const rows = new Map<string, TallyRow>();
  for (const r of within(window)) {
    const k = key(r);
    let row = rows.get(k);
    if (!row) {
      row = {
        label: requestLabel(r),
        operation: r.operation,
        all: 0,
        background: 0,
        why: '',
        messagePath: 0,
      };
      rows.set(k, row);
    }
    row.all++;
    const kind = backgroundKind(r);
    if (kind) {
      row.background++;
      row.why = kind;
    }
  }
  for (const [k, row] of rows) {
    const timer = Math.min(row.all - row.background, Math.round((idleRate.get(k) ?? 0) * seconds));
    if (timer > 0) {
      row.background += timer;
      row.why = row.why ? `${row.why}, timer` : 'timer (seen while idle)';
    }
    row.messagePath = row.all - row.background;
  }
  const sorted = [...rows.values()].sort((a, b) => b.all - a.all || a.label.localeCompare(b.label));
  const sum = (f: (r: TallyRow) => number) => sorted.reduce((a, r) => a + f(r), 0);
  return {
    rows: sorted,
    all: sum((r) => r.all),
    background: sum((r) => r.background),
    messagePath: sum((r) => r.messagePath),
  };
}
