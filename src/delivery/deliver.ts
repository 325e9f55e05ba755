import fs from 'node:fs';
import net from 'node:net';
import { Readable } from 'node:stream';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Settings, Tenant } from '../config/index.js';
import { describeError, replyCodeOf } from '../errors/index.js';

export interface DeliveryTarget {
  host: string;
  port: number;
  /** EHLO name: the host name of the client certificate (what the tenant's inbound connector expects). */
  ehloName: string;
  tls: 'required' | 'optional' | 'none';
  clientCert?: Buffer;
  clientKey?: Buffer;
  ca?: Buffer;
  timeoutMs: number;
}

export interface DeliveryRequest {
  mailFrom: string;
  rcptTo: string[];
  /** Header lines (without CRLF) to put in front of the message: loop prevention, result. */
  prependHeaders: string[];
  /** The message as a stream, or, when it is already in memory, as one buffer (fewer writes). */
  message: Readable | Buffer;
}

/** What the endpoint said. `accepted`/`rejected` list recipients; `response` is its reply text. */
export interface DeliveryOutcome {
  status: 'delivered' | 'temporary' | 'permanent' | 'partial';
  response: string;
  code?: number;
  accepted: string[];
  /** Recipients refused temporarily (4xx): retry only these. */
  deferred: string[];
  /** Recipients refused permanently (5xx): report these. */
  rejected: string[];
  /** Per-recipient replies for refused recipients. */
  recipientReplies: Record<string, string>;
}

/** Where a tenant's mail goes back to, honouring the local/test override. */
export function targetFor(tenant: Tenant, settings: Settings): DeliveryTarget {
  const override = settings.delivery.override;
  const certFile = tenant.certificate?.certFile ?? settings.delivery.clientCertFile;
  const keyFile = tenant.certificate?.keyFile ?? settings.delivery.clientKeyFile;
  return {
    host: override?.host ?? tenant.delivery.host,
    port: override?.port ?? tenant.delivery.port,
    ehloName: tenant.certificate?.name ?? settings.smtp.hostname,
    tls: settings.delivery.tls,
    clientCert: certFile ? readCached(certFile) : undefined,
    clientKey: keyFile ? readCached(keyFile) : undefined,
    ca: settings.delivery.caFile ? readCached(settings.delivery.caFile) : undefined,
    timeoutMs: settings.delivery.timeoutMs,
  };
}

const fileCache = new Map<string, { mtimeMs: number; checkedAt: number; data: Buffer }>();
/** How often a certificate file is checked for a change: a rotation is picked up within this. */
const certificateCheckMs = 5000;

/**
 * Certificates are re-read when their file changes (Key Vault rotation) and cached otherwise; the
 * file is looked at no more than every few seconds, not once per message.
 */
function readCached(file: string): Buffer {
  const now = Date.now();
  const hit = fileCache.get(file);
  if (hit && now - hit.checkedAt < certificateCheckMs) return hit.data;
  const stat = fs.statSync(file);
  if (hit && hit.mtimeMs === stat.mtimeMs) {
    hit.checkedAt = now;
    return hit.data;
  }
  const data = fs.readFileSync(file);
  fileCache.set(file, { mtimeMs: stat.mtimeMs, checkedAt: now, data });
  return data;
}

const transports = new Map<string, Transporter<SMTPTransport.SentMessageInfo>>();

/**
 * One pooled transport per endpoint and certificate: reusing TLS connections is what makes
 * hundreds of deliveries a second possible. A changed certificate gives a new key, hence a new pool.
 */
function transportFor(target: DeliveryTarget): Transporter<SMTPTransport.SentMessageInfo> {
  const key = [
    target.host,
    target.port,
    target.ehloName,
    target.tls,
    target.clientCert?.length,
    target.clientCert?.subarray(-64).toString('base64'),
  ].join('|');
  let transport = transports.get(key);
  if (!transport) {
    transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 8,
      maxMessages: 500,
      host: target.host,
      port: target.port,
      secure: false,
      name: target.ehloName,
      requireTLS: target.tls === 'required',
      ignoreTLS: target.tls === 'none',
      connectionTimeout: target.timeoutMs,
      greetingTimeout: target.timeoutMs,
      socketTimeout: target.timeoutMs,
      tls: {
        minVersion: 'TLSv1.2',
        // SNI must be a host name (RFC 6066); an IP literal (local overrides) is sent without it.
        servername: net.isIP(target.host) ? undefined : target.host,
        cert: target.clientCert,
        key: target.clientKey,
        ca: target.ca,
        rejectUnauthorized: true,
      },
    } as SMTPTransport.Options);
    transport.use('stream', passEnvelopeThrough);
    transports.set(key, transport);
  }
  return transport;
}

/** The stored envelope, as the front accepted it, for `passEnvelopeThrough`. */
interface StoredEnvelope {
  storedEnvelope: { from: string; to: string[] };
}

/**
 * nodemailer reads an `envelope` option as RFC 5322 header addresses (commas split, comments
 * vanish), so `a,b@x` would become two recipients and `ceo(x)victim@x` a third party. The front has
 * already checked every address against RFC 5321 (`src/front/mailbox.ts`); here the connection gets
 * them byte for byte, and nodemailer's SMTP connection adds SMTPUTF8 itself when one is not ASCII.
 */
function passEnvelopeThrough(
  mail: { data: object; message: { getEnvelope: () => object } },
  done: (err?: Error | null) => void,
): void {
  const stored = (mail.data as Partial<StoredEnvelope>).storedEnvelope;
  if (stored) {
    const envelope = { from: stored.from, to: [...stored.to] };
    mail.message.getEnvelope = () => envelope;
  }
  done();
}

/**
 * Sends the stored message with the stored envelope (never the headers' addresses), prepending our
 * headers. Never throws for an SMTP outcome: the caller decides retry vs dead-letter from `status`.
 */
export async function deliver(target: DeliveryTarget, request: DeliveryRequest): Promise<DeliveryOutcome> {
  const head = Buffer.from(request.prependHeaders.map((h) => `${h}\r\n`).join(''), 'utf8');
  const { message } = request;
  const raw = Buffer.isBuffer(message)
    ? Buffer.concat([head, message])
    : Readable.from(prepend(head, message));
  const transport = transportFor(target);
  try {
    const mail: SendMailOptions & StoredEnvelope = {
      storedEnvelope: { from: request.mailFrom, to: request.rcptTo },
      raw,
    };
    const info = await transport.sendMail(mail);
    const accepted = (info.accepted ?? []).map(String);
    const { deferred, rejected, replies } = classifyRecipients(
      (info as { rejectedErrors?: unknown[] }).rejectedErrors,
      (info.rejected ?? []).map(String),
    );
    return {
      status: deferred.length + rejected.length > 0 ? 'partial' : 'delivered',
      response: info.response,
      code: 250,
      accepted,
      deferred,
      rejected,
      recipientReplies: replies,
    };
  } catch (err) {
    if (!Buffer.isBuffer(message)) message.destroy();
    return failureOutcome(err, request.rcptTo);
  }
}

async function* prepend(head: Buffer, body: Readable): AsyncGenerator<Buffer> {
  yield head;
  for await (const chunk of body as AsyncIterable<Buffer>) yield chunk;
}

function failureOutcome(err: unknown, rcptTo: string[]): DeliveryOutcome {
  const code = replyCodeOf(err);
  const response = (err as { response?: string }).response ?? describeError(err);
  const perRecipient = (err as { rejectedErrors?: unknown[] }).rejectedErrors;
  let classified: Pick<DeliveryOutcome, 'deferred' | 'rejected'> & { replies: Record<string, string> };
  if (Array.isArray(perRecipient) && perRecipient.length > 0)
    classified = classifyRecipients(perRecipient, rcptTo);
  else if ((code !== undefined && code >= 500) || envelopeNeverSendable(err, code))
    classified = { deferred: [], rejected: [...rcptTo], replies: {} };
  else classified = { deferred: [...rcptTo], rejected: [], replies: {} };
  const { deferred, rejected, replies } = classified;
  const status = deferred.length === 0 ? 'permanent' : 'temporary';
  return { status, response, code, accepted: [], deferred, rejected, recipientReplies: replies };
}

/**
 * nodemailer refuses an envelope it cannot write as SMTP commands (CR, LF or angle brackets in an
 * address) before a byte is sent: no reply code, but no retry can ever succeed either.
 */
function envelopeNeverSendable(err: unknown, code: number | undefined): boolean {
  const e = err as { code?: unknown; command?: unknown };
  return code === undefined && e.code === 'EENVELOPE' && e.command === 'API';
}

/**
 * Sorts the recipients nodemailer reports as refused: 5xx → rejected (report them), anything else →
 * deferred (retry them). `unresolved` recipients without a per-recipient reply count as deferred.
 */
function classifyRecipients(
  errors: unknown[] | undefined,
  unresolved: string[],
): { deferred: string[]; rejected: string[]; replies: Record<string, string> } {
  const replies: Record<string, string> = {};
  const deferred: string[] = [];
  const rejected: string[] = [];
  for (const err of errors ?? []) {
    const e = err as { recipient?: string; response?: string; responseCode?: number };
    if (!e.recipient) continue;
    replies[e.recipient] = e.response ?? describeError(err);
    ((e.responseCode ?? 450) >= 500 ? rejected : deferred).push(e.recipient);
  }
  for (const r of unresolved) if (!deferred.includes(r) && !rejected.includes(r)) deferred.push(r);
  return { deferred, rejected, replies };
}
