import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { SmtpError } from '../errors/index.js';
import { installReplyCodes, listenSmtp } from '../front/index.js';

/** How the stand-in answers; tests change it at run time to inject faults. */
export interface StandinBehaviour {
  /**
   * Reply to DATA instead of 250: for the next `times` messages (all when absent), or at random
   * with `probability` (0–1) per message.
   */
  dataReply?: { code: number; text: string; times?: number; probability?: number };
  /** Per-recipient replies (address → code/text) instead of 250. */
  rcptReplies?: Record<string, { code: number; text: string }>;
  /** Refuse the connection at once (closes the socket before the greeting). */
  refuseConnections?: boolean;
  /** Wait this long before answering DATA (stall). */
  stallMs?: number;
  /** Wait this long before the greeting (a slow endpoint; nothing has been sent yet). */
  greetingDelayMs?: number;
  /** Stop reading the message this long after DATA began (the sender is stuck mid-DATA). */
  dataReadDelayMs?: number;
}

export interface StandinOptions {
  tls: { key: string | Buffer; cert: string | Buffer; ca: string | Buffer };
  outbox: string;
  /** Certificate names (CN or SAN) accepted from clients; any CA-signed one when absent. */
  acceptedClientNames?: string[];
  hostname?: string;
}

interface SessionCert {
  authorized: boolean;
  name?: string;
}

/**
 * An Exchange Online stand-in: a real SMTP server that, like EXO's inbound endpoint for a tenant,
 * requires STARTTLS, checks the client certificate against the (development) CA, and accepts the
 * message. It writes every accepted message to `<outbox>/<id>.eml` (id = our X-Sigrelay-Id header,
 * else the Message-ID) with a `<id>.json` envelope beside it.
 */
export class ExchangeStandin {
  readonly server: SMTPServer;
  behaviour: StandinBehaviour = {};
  private readonly certs = new Map<string, SessionCert>();
  private readonly options: StandinOptions;

  constructor(options: StandinOptions) {
    installReplyCodes();
    this.options = options;
    this.server = new SMTPServer({
      name: options.hostname ?? 'standin.mail.protection.outlook.com',
      banner: 'Microsoft ESMTP MAIL Service ready (sigrelay stand-in)',
      key: options.tls.key,
      cert: options.tls.cert,
      ca: options.tls.ca,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      authOptional: true,
      disabledCommands: ['AUTH'],
      size: 150 * 1024 * 1024,
      logger: false,
      onConnect: (session, cb) => {
        if (this.behaviour.refuseConnections)
          return cb(new SmtpError(421, '4.3.2', 'Service not available (stand-in refusing)'));
        void this.note('connect');
        const delay = this.behaviour.greetingDelayMs;
        if (delay) setTimeout(() => cb(), delay);
        else cb();
      },
      onSecure: (socket, session, cb) => {
        const tls = socket as TLSSocket;
        const peer = tls.getPeerCertificate();
        const name = peer && typeof peer.subject === 'object' ? peer.subject.CN : undefined;
        this.certs.set(session.id, {
          authorized: tls.authorized,
          name: Array.isArray(name) ? name[0] : name,
        });
        cb();
      },
      onMailFrom: (_address, session, cb) => {
        if (!session.secure) return cb(new SmtpError(530, '5.7.0', 'Must issue a STARTTLS command first'));
        const cert = this.certs.get(session.id);
        if (!cert?.authorized) {
          return cb(
            new SmtpError(
              550,
              '5.7.64',
              'TenantAttribution; Relay Access Denied (no trusted client certificate)',
            ),
          );
        }
        const allowed = this.options.acceptedClientNames;
        if (allowed && (!cert.name || !allowed.includes(cert.name))) {
          return cb(
            new SmtpError(
              550,
              '5.7.64',
              'TenantAttribution; Relay Access Denied (certificate name not trusted)',
            ),
          );
        }
        cb();
      },
      onRcptTo: (address, _session, cb) => {
        const reply = this.behaviour.rcptReplies?.[address.address.toLowerCase()];
        if (reply) return cb(new SmtpError(reply.code, reply.code >= 500 ? '5.1.1' : '4.2.1', reply.text));
        cb();
      },
      onData: (stream, session, cb) => {
        void this.receive(stream, session).then(
          (reply) => cb(null, reply),
          (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
        );
      },
      onClose: (session) => {
        this.certs.delete(session.id);
      },
    });
    this.server.on('error', () => undefined);
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return listenSmtp(this.server, port, host);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** One line per protocol event in `<outbox>/events.log`, so fault tests can time a kill. */
  private async note(event: string): Promise<void> {
    await fs.mkdir(this.options.outbox, { recursive: true });
    await fs.appendFile(path.join(this.options.outbox, 'events.log'), `${Date.now()}\t${event}\n`);
  }

  private async receive(stream: NodeJS.ReadableStream, session: SMTPServerSession): Promise<string> {
    const chunks: Buffer[] = [];
    const readDelay = this.behaviour.dataReadDelayMs;
    await this.note('data');
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (readDelay && chunks.length === 0) await new Promise((r) => setTimeout(r, readDelay));
      chunks.push(chunk);
    }
    const data = Buffer.concat(chunks);
    if (this.behaviour.stallMs) await new Promise((r) => setTimeout(r, this.behaviour.stallMs));
    const reply = this.behaviour.dataReply;
    const chosen = reply?.probability === undefined || Math.random() < reply.probability;
    if (reply && chosen && (reply.times === undefined || reply.times > 0)) {
      if (reply.times !== undefined) reply.times -= 1;
      throw new SmtpError(reply.code, reply.code >= 500 ? '5.0.0' : '4.0.0', reply.text);
    }
    const id = messageIdOf(data);
    const file = path.join(this.options.outbox, `${id}.eml`);
    await fs.mkdir(this.options.outbox, { recursive: true });
    const envelope = {
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      rcptTo: session.envelope.rcptTo.map((r) => r.address),
    };
    const cert = this.certs.get(session.id);
    await fs.writeFile(`${file}.tmp`, data);
    await fs.writeFile(
      path.join(this.options.outbox, `${id}.json`),
      JSON.stringify({ ...envelope, clientCertName: cert?.name, size: data.length }),
    );
    await fs.rename(`${file}.tmp`, file);
    // One line per accepted transaction (id, time), so tests and benchmarks in other processes can
    // count duplicates and measure latency.
    await fs.appendFile(path.join(this.options.outbox, 'received.log'), `${id}\t${Date.now()}\n`);
    return `2.6.0 <${id}> Queued mail for delivery (stand-in)`;
  }
}

function messageIdOf(data: Buffer): string {
  const headEnd = data.indexOf('\r\n\r\n');
  const head = data.subarray(0, headEnd >= 0 ? headEnd : Math.min(data.length, 65536)).toString('latin1');
  const ours = /^X-Sigrelay-Id:[ \t]*([A-Za-z0-9-]+)/im.exec(head);
  if (ours?.[1]) return ours[1];
  const mid = /^Message-ID:[ \t]*<?([^>\r\n]+)>?/im.exec(head);
  const safe = mid?.[1]?.replace(/[^A-Za-z0-9._@-]/g, '_');
  return safe ?? crypto.randomBytes(8).toString('hex');
}
