import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type {
  ApiError,
  DeadLetter,
  MessageSummary,
  MessageTimeline,
  TimelineEntry,
} from '../../../src/admin/contract';
import type { PageProps } from '../page-props';
import { api, ApiFailure } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { InputField, TableHead } from '../components/fields';
import { ErrorNotice, Notice } from '../components/notice';
import { apiErrorOf } from '../errors';
import { formatTime } from '../format';
import { hrefOf } from '../router';

const stateLabel: Record<MessageSummary['state'], string> = {
  'in-progress': 'In progress',
  delivered: 'Delivered',
  'dead-lettered': 'Dead letter',
  unknown: 'Unknown',
};

/** `datetime-local` (the admin's clock) → an ISO instant in UTC; empty stays absent. */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Message trace and dead letters: find messages by id, sender and time, follow one through its
 * timeline (received, signed or skipped, every delivery attempt with the endpoint's reply, deleted),
 * and replay a dead letter — after a confirmation, and only once.
 */
export function MessagesPage({ rest }: PageProps) {
  const [id, setId] = useState('');
  const [sender, setSender] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [results, setResults] = useState<MessageSummary[]>();
  const [searchError, setSearchError] = useState<ApiError>();
  const [searching, setSearching] = useState(false);
  const [timeline, setTimeline] = useState<MessageTimeline>();
  const [timelineError, setTimelineError] = useState<ApiError>();
  const [deadLetters, setDeadLetters] = useState<DeadLetter[]>();
  const [deadError, setDeadError] = useState<ApiError>();
  const [confirming, setConfirming] = useState<DeadLetter>();
  const [replayed, setReplayed] = useState<{ id: string; message: string; ok: boolean }>();

  const loadDeadLetters = async () => {
    try {
      setDeadLetters(await api.deadLetters());
      setDeadError(undefined);
    } catch (err) {
      setDeadError(apiErrorOf(err));
    }
  };

  const loadTimeline = async (messageId: string) => {
    try {
      setTimeline(await api.message(messageId));
      setTimelineError(undefined);
    } catch (err) {
      setTimeline(undefined);
      setTimelineError(
        err instanceof ApiFailure && err.status === 404
          ? { error: `Nothing is traced for ${messageId}.`, code: 'not-found' }
          : apiErrorOf(err),
      );
    }
  };

  useEffect(() => {
    void loadDeadLetters();
    // The last 24 hours' messages, before any search.
    api
      .messages({})
      .then(setResults)
      .catch((err: unknown) => setSearchError(apiErrorOf(err)));
  }, []);
  useEffect(() => {
    if (rest) void loadTimeline(rest);
    else setTimeline(undefined);
  }, [rest]);

  const search = async (e: Event) => {
    e.preventDefault();
    setSearching(true);
    try {
      const query = {
        id: id.trim() || undefined,
        sender: sender.trim() || undefined,
        from: isoOf(from),
        to: isoOf(to),
      };
      const found = await api.messages(query);
      setResults(found);
      setSearchError(undefined);
      const only = found[0];
      if (query.id && found.length === 1 && only) location.hash = hrefOf('messages', only.id);
    } catch (err) {
      setSearchError(apiErrorOf(err));
    } finally {
      setSearching(false);
    }
  };

  const replay = async (letter: DeadLetter) => {
    setConfirming(undefined);
    try {
      await api.replay(letter.id);
      setReplayed({
        id: letter.id,
        ok: true,
        message: `Replayed ${letter.id}: it is being signed and delivered again.`,
      });
    } catch (err) {
      const already = err instanceof ApiFailure && err.status === 409;
      setReplayed({
        id: letter.id,
        ok: false,
        message: already ? `${letter.id} was already replayed; it is not sent again.` : apiErrorOf(err).error,
      });
    }
    await loadDeadLetters();
    if (rest === letter.id) await loadTimeline(letter.id);
  };

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Messages</h1>
        <p class="hint">The trace records what happened to each message, never its content.</p>
      </div>
      <section class="card" aria-labelledby="trace-title">
        <h2 id="trace-title">Trace</h2>
        <form class="search" onSubmit={(e) => void search(e)}>
          <InputField
            id="trace-id"
            label="Message id"
            type="text"
            spellcheck={false}
            value={id}
            onInput={setId}
          />
          <InputField id="trace-sender" label="Sender" type="email" value={sender} onInput={setSender} />
          <InputField id="trace-from" label="From" type="datetime-local" value={from} onInput={setFrom} />
          <InputField id="trace-to" label="To" type="datetime-local" value={to} onInput={setTo} />
          <div class="field submit">
            <button type="submit" class="primary" disabled={searching}>
              {searching ? 'Searching…' : 'Search'}
            </button>
          </div>
        </form>
        <p class="hint">Without a time range: the last 24 hours. Times are in your time zone.</p>
        <ErrorNotice error={searchError} />
        {results && results.length === 0 && <p role="status">No messages match.</p>}
        {results && results.length > 0 && (
          <table class="results stack">
            <caption class="visually-hidden">Messages found, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Message id</th>
                <th scope="col">Sender</th>
                <th scope="col">State</th>
                <th scope="col">Last event</th>
              </tr>
            </thead>
            <tbody>
              {results.map((m) => (
                <tr key={m.id}>
                  <td data-label="Received">{formatTime(m.receivedAt)}</td>
                  <td data-label="Message id" class="wrap">
                    <a href={hrefOf('messages', m.id)}>{m.id}</a>
                  </td>
                  <td data-label="Sender" class="wrap">
                    {m.sender ?? '—'}
                  </td>
                  <td data-label="State">
                    <span class={`status ${m.state}`}>{stateLabel[m.state]}</span>
                  </td>
                  <td data-label="Last event">
                    {m.lastEvent} ({m.events} events)
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      {rest && (
        <section class="card" aria-labelledby="timeline-title">
          <h2 id="timeline-title" class="wrap">
            Timeline of {rest}
          </h2>
          <ErrorNotice error={timelineError} />
          {timeline && (
            <>
              <p>
                <span class={`status ${timeline.state}`}>{stateLabel[timeline.state]}</span>
                {timeline.sender && <> from {timeline.sender}</>}
              </p>
              {timeline.deadLetter && (
                <Notice kind="warning">
                  Dead letter since {formatTime(timeline.deadLetter.deadAt)}: {timeline.deadLetter.reason}{' '}
                  <button
                    type="button"
                    onClick={() => timeline.deadLetter && setConfirming(timeline.deadLetter)}
                  >
                    Replay…
                  </button>
                </Notice>
              )}
              <ol class="timeline">
                {timeline.timeline.map((entry, i) => (
                  <TimelineItem key={i} entry={entry} />
                ))}
              </ol>
              <button type="button" onClick={() => void loadTimeline(rest)}>
                Refresh
              </button>
            </>
          )}
        </section>
      )}

      <section class="card" aria-labelledby="dead-title">
        <div class="card-head">
          <h2 id="dead-title">Dead letters</h2>
          <button type="button" onClick={() => void loadDeadLetters()}>
            Refresh
          </button>
        </div>
        <p class="hint">
          Messages the endpoint refused for good, or that ran out of retries. Replaying one signs and delivers
          it again, once.
        </p>
        {replayed && (
          <Notice kind={replayed.ok ? 'success' : 'warning'}>
            {replayed.message} <a href={hrefOf('messages', replayed.id)}>Follow its timeline</a>
          </Notice>
        )}
        <ErrorNotice error={deadError} />
        {deadLetters && deadLetters.length === 0 && <p role="status">No dead letters.</p>}
        {deadLetters && deadLetters.length > 0 && (
          <table class="results stack">
            <TableHead
              caption="Dead letters, oldest first"
              columns={['Dead since', 'Message id', 'Sender', 'Reason']}
              action
            />
            <tbody>
              {deadLetters.map((d) => (
                <tr key={d.id}>
                  <td data-label="Dead since">{formatTime(d.deadAt)}</td>
                  <td data-label="Message id" class="wrap">
                    <a href={hrefOf('messages', d.id)}>{d.id}</a>
                  </td>
                  <td data-label="Sender" class="wrap">
                    {d.sender} → {d.recipients} recipient{d.recipients === 1 ? '' : 's'}
                  </td>
                  <td data-label="Reason" class="wrap">
                    {d.reason}
                  </td>
                  <td>
                    <button type="button" aria-label={`Replay ${d.id}`} onClick={() => setConfirming(d)}>
                      Replay
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <ConfirmDialog
        open={confirming !== undefined}
        title="Replay this dead letter?"
        confirmLabel="Replay"
        onConfirm={() => confirming && void replay(confirming)}
        onCancel={() => setConfirming(undefined)}
      >
        {confirming && (
          <p>
            Message <strong class="wrap">{confirming.id}</strong> from {confirming.sender} is signed again and
            delivered to its {confirming.recipients} recipient{confirming.recipients === 1 ? '' : 's'}. It can
            be replayed only once.
          </p>
        )}
      </ConfirmDialog>
    </>
  );
}

function TimelineItem({ entry }: { entry: TimelineEntry }) {
  const details = Object.entries(entry.details);
  return (
    <li class={`event ${entry.event}`}>
      <time dateTime={entry.at}>{formatTime(entry.at, true)}</time>
      <span class="event-name">{entry.event}</span>
      <span class="event-summary">{entry.summary}</span>
      {entry.explanation && (
        <p class="explanation" role="note">
          <strong>{entry.explanation.title}</strong> (
          {entry.explanation.permanent ? 'permanent' : 'temporary'}): {entry.explanation.meaning}{' '}
          <em>What to do:</em> {entry.explanation.remedy}{' '}
          <a href={entry.explanation.source} target="_blank" rel="noreferrer">
            Source
          </a>
        </p>
      )}
      {details.length > 0 && (
        <details>
          <summary>Details</summary>
          <dl class="facts">
            {details.map(([k, v]) => (
              <Fragment key={k}>
                <dt>{k}</dt>
                <dd class="wrap">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
              </Fragment>
            ))}
          </dl>
        </details>
      )}
    </li>
  );
}
