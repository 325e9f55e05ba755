import { explainTraceEvent } from '../exchange/index.js';
import type { Runtime } from '../processing/index.js';
import type { TraceRecord } from '../trace/index.js';
import { AuditLog } from './audit.js';
import type {
  DeadLetter,
  Me,
  MessageSummary,
  MessageTimeline,
  ReplayResult,
  TimelineEntry,
} from './contract.js';
import { fail } from './http.js';

type TraceSource = Pick<Runtime, 'trace' | 'deadLetters'>;

/** Message trace, dead letters and replay, over what the trace table and the deadletter container hold. */
export class MessagesView {
  constructor(
    private readonly rt: TraceSource,
    private readonly audit: AuditLog,
  ) {}

  async search(query: {
    id?: string;
    sender?: string;
    from?: Date;
    to?: Date;
    limit?: number;
  }): Promise<MessageSummary[]> {
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 500);
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - 24 * 3600_000);
    if (to < from) throw fail(400, 'bad-request', '"to" is before "from"', { field: 'to' });
    if (query.id) {
      const events = await this.rt.trace.forMessage(query.id);
      return events.length ? [summaryOf(query.id, events)] : [];
    }
    if (query.sender) {
      const bySender = await this.rt.trace.forSender(query.sender, from);
      return [...bySender.entries()]
        .map(([id, events]) => summaryOf(id, events))
        .filter((m) => !m.receivedAt || m.receivedAt <= to.toISOString())
        .sort((a, b) => (b.receivedAt ?? '').localeCompare(a.receivedAt ?? ''))
        .slice(0, limit);
    }
    const messages = await this.rt.trace.messagesBetween(from, to, limit);
    return [...messages.entries()].map(([id, events]) => summaryOf(id, events));
  }

  async timeline(id: string): Promise<MessageTimeline> {
    const events = await this.rt.trace.forMessage(id);
    if (events.length === 0) throw fail(404, 'not-found', `nothing is traced for message ${id}`);
    const summary = summaryOf(id, events);
    const deadLetter =
      summary.state === 'dead-lettered' ? (await this.deadLetters()).find((d) => d.id === id) : undefined;
    return {
      id,
      ...(summary.sender ? { sender: summary.sender } : {}),
      state: summary.state,
      timeline: events.map(entryOf),
      ...(deadLetter ? { deadLetter } : {}),
    };
  }

  deadLetters(): Promise<DeadLetter[]> {
    return this.rt.deadLetters.list();
  }

  /** The trace events of one message, as stored (the function-key route `/api/messages/{id}`). */
  events(id: string): Promise<TraceRecord[]> {
    return this.rt.trace.forMessage(id);
  }

  /** Replays a dead letter for a signed-in admin: the confirmation must repeat the id; audited. */
  async replay(id: string, confirm: unknown, who: Me): Promise<ReplayResult> {
    if (confirm !== id)
      throw fail(400, 'bad-request', `to replay, send { "confirm": "${id}" } (the message id again)`, {
        field: 'confirm',
      });
    await this.replayOnce(id, `admin console: ${who.name}`);
    await this.audit.record(who, 'deadletter.replay', id, {});
    return { id, replayed: true };
  }

  /** Replays a dead letter once, traced as done `by` someone; a second replay answers 409. */
  async replayOnce(id: string, by: string): Promise<void> {
    const outcome = await this.rt.deadLetters.replayOnce(id);
    if (outcome === 'in-progress') throw fail(409, 'conflict', `a replay of ${id} is already under way`);
    if (outcome === 'not-found') {
      const events = await this.rt.trace.forMessage(id);
      if (events.some((e) => e.event === 'replayed'))
        throw fail(409, 'conflict', `${id} was already replayed; it is not delivered twice`);
      throw fail(404, 'not-found', `no dead letter ${id}`);
    }
    await this.rt.trace.record(id, [{ event: 'replayed', by }]);
  }
}

function summaryOf(id: string, events: TraceRecord[]): MessageSummary {
  const received = events.find((e) => e.event === 'received');
  const last = events[events.length - 1];
  const lastDead = events.map((e) => e.event).lastIndexOf('dead-lettered');
  const lastReplay = events.map((e) => e.event).lastIndexOf('replayed');
  const deletedAfterDelivery =
    events.some((e) => e.event === 'delivered') && events.slice(-3).some((e) => e.event === 'deleted');
  const state: MessageSummary['state'] =
    lastDead > lastReplay
      ? 'dead-lettered'
      : deletedAfterDelivery
        ? 'delivered'
        : last
          ? 'in-progress'
          : 'unknown';
  return {
    id,
    ...((received?.sender ?? last?.sender) ? { sender: received?.sender ?? last?.sender } : {}),
    ...(received ? { receivedAt: received.at } : {}),
    lastEvent: last?.event ?? 'received',
    state,
    events: events.length,
  };
}

function entryOf(r: TraceRecord): TimelineEntry {
  const e = explainTraceEvent(r.event, r.details);
  const explanation = e && {
    id: e.id,
    title: e.title,
    permanent: e.permanent,
    meaning: e.meaning,
    remedy: e.remedy,
    source: e.source,
  };
  return {
    at: r.at,
    event: r.event,
    summary: describe(r),
    details: r.details,
    ...(explanation ? { explanation } : {}),
  };
}

function describe(r: TraceRecord): string {
  const d = r.details as Record<string, string | number | undefined>;
  const s = (k: string) => String(d[k] ?? '');
  switch (r.event) {
    case 'received':
      return `received from ${s('client')}: ${s('size')} bytes for ${s('recipients')} recipient(s)${d.tls ? ` over ${s('tls')}` : ''}`;
    case 'signed':
      return `signed with template ${s('template')} (rule ${s('rule')})`;
    case 'skipped':
      return `not signed: ${s('reason')}${d.rule ? ` (rule ${s('rule')})` : ''}`;
    case 'failed':
      return `signing failed: ${s('reason')}`;
    case 'delivery-attempt':
      return `delivery to ${s('endpoint')}: ${s('status')}, ${s('accepted')} accepted, ${s('deferred')} deferred, ${s('rejected')} refused — ${s('response')}`;
    case 'delivered':
      return `delivered to ${s('recipients')} recipient(s): ${s('response')}`;
    case 'dsn-sent':
      return `delivery report sent to ${s('to')}: ${s('response')}`;
    case 'dead-lettered':
      return `dead-lettered: ${s('reason')}`;
    case 'deleted':
      return 'deleted from storage';
    case 'missing':
      return `not found: ${s('reason')}`;
    case 'replayed':
      return `replayed by ${s('by')}`;
    case 'restarted':
      return `restarted by ${s('by')}`;
    case 'sent-items':
      return `Sent Items copy: ${s('outcome')}`;
    case 'handed-over':
      return `handed to the retrying orchestration: ${s('reason')}${d.response ? ` — ${s('response')}` : ''}`;
    default:
      return r.event;
  }
}
