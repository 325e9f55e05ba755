import type net from 'node:net';
import tls from 'node:tls';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { SMTPServer } from 'smtp-server';
import type { Settings } from '../config/index.js';
import { describeError, replies, SmtpError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { newMessageId } from '../contracts/index.js';
import type { MessageIntake } from '../storage/index.js';
import { currentTraceparent, smtpTransaction, telemetry, type RefusalPhase } from '../telemetry/index.js';
import type { KeyPair } from './certificate.js';
import { DataGuard } from './data-guard.js';
import { startDkimVerification, type DNSResolver } from './dkim.js';
import { HeaderCapture } from './header-capture.js';
import { listenSmtp } from './listen.js';
import type { Admission, MessageEvidence, SessionFacts, Transaction } from './admission.js';
import {
  installImmediateGreeting,
  installReplyCodes,
  installSourceRouteFlag,
  liveConnection,
  type LiveConnection,
} from './wire.js';

export interface FrontLimits {
  maxMessageBytes: number;
  maxRecipients: number;
  maxHeaderBytes: number;
  maxLineBytes: number;
  idleTimeoutMs: number;
  commandTimeoutMs: number;
  dataTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/** The limits part of the process settings. */
export function frontLimits(smtp: Settings['smtp']): FrontLimits {
  const { maxMessageBytes, maxRecipients, maxHeaderBytes, maxLineBytes } = smtp;
  const { idleTimeoutMs, commandTimeoutMs, dataTimeoutMs, maxConnections, maxConnectionsPerAddress } = smtp;
  return {
    maxMessageBytes,
    maxRecipients,
    maxHeaderBytes,
    maxLineBytes,
    idleTimeoutMs,
    commandTimeoutMs,
    dataTimeoutMs,
    maxConnections,
    maxConnectionsPerAddress,
  };
}

export interface ClientCertificatePolicy {
  /** The name the client certificate must carry (EXO: `mail.protection.outlook.com`). */
  name: string;
  /** Trusted issuers; Node's public root store when absent. */
  ca?: string | Buffer;
}

export interface FrontOptions {
  hostname: string;
  tls: KeyPair;
  /** When set, a client certificate is required and verified after STARTTLS. */
  clientCertificate?: ClientCertificatePolicy;
  limits: FrontLimits;
  admission: Admission;
  /** Stores each accepted message and queues its claim-check (with rollback). */
  intake: MessageIntake;
  logger: Logger;
  /** DNS for DKIM key lookups (tests inject their own keys). */
  dkimResolver?: DNSResolver;
  /** Hook for the message trace: called once a message is durably stored and queued. */
  onAccepted?: (event: AcceptedMessage) => void;
}

export interface AcceptedMessage {
  id: string;
  tenantId: string;
  sender: string;
  recipientCount: number;
  size: number;
  clientAddress: string;
  sessionId: string;
}

/** What the front keeps per open connection beside smtp-server's session. */
interface SessionState {
  address: string;
  connection: LiveConnection;
  tls?: string;
  transaction?: Transaction;
  /** When the client started a command line it has not finished (slowloris on commands). */
  partialSince?: number;
  /** When the DATA phase began. */
  dataSince?: number;
  /** Set when the front closed the connection itself (timeouts). */
  abandoned?: string;
}

/**
 * The SMTP front: admits only tenant mail (admission), streams DATA straight into Blob Storage, queues
 * a claim-check, and answers 250 only after both are durable. Any storage failure answers 451 and
 * leaves nothing visible behind, so Exchange Online keeps the message and retries.
 */
export class FrontServer {
  readonly server: SMTPServer;
  private readonly options: FrontOptions;
  private readonly limits: FrontLimits;
  private readonly log: Logger;
  private readonly sessions = new Map<string, SessionState>();
  private readonly perAddress = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  private closing = false;

  constructor(options: FrontOptions) {
    installReplyCodes();
    installSourceRouteFlag();
    installImmediateGreeting();
    this.options = {
      ...options,
      onAccepted: (m) => {
        countAccepted(m);
        options.onAccepted?.(m);
      },
    };
    this.limits = options.limits;
    this.log = options.logger;
    const clientCert = options.clientCertificate;
    this.server = new SMTPServer({
      name: options.hostname,
      banner: 'sigrelay ESMTP',
      key: options.tls.key,
      cert: options.tls.cert,
      minVersion: 'TLSv1.2',
      // Verified in onSecure rather than by OpenSSL, so a bad certificate gets an SMTP reply and a log line.
      ...(clientCert
        ? { requestCert: true, rejectUnauthorized: false, ...(clientCert.ca ? { ca: clientCert.ca } : {}) }
        : {}),
      size: this.limits.maxMessageBytes,
      authOptional: true,
      disabledCommands: ['AUTH'],
      hideSTARTTLS: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      hidePIPELINING: false,
      hideENHANCEDSTATUSCODES: false,
      // PTR names prove nothing here (the allowlist is by address) and cost up to 1.5 s per connection.
      disableReverseLookup: true,
      socketTimeout: this.limits.idleTimeoutMs,
      logger: false,
      closeTimeout: 60_000,
      onConnect: (session, cb) =>
        void this.handleConnect(session).then(() => {
          telemetry.sessionOpened();
          cb();
        }, cb),
      onSecure: (socket, session, cb) => cb(this.handleSecure(socket, session) ?? null),
      onMailFrom: (address, session, cb) =>
        void this.handleMailFrom(address, session).then(
          () => cb(),
          (err: Error) => cb(countRefused(err, 'mail')),
        ),
      onRcptTo: (address, session, cb) => void this.handleRcptTo(address, session).then(() => cb(), cb),
      onData: (stream, session, cb) =>
        void smtpTransaction(this.transactionFacts(session), () => this.handleData(stream, session)).then(
          (reply) => cb(null, reply),
          (err: unknown) => cb(countRefused(err instanceof Error ? err : new Error(String(err)), 'data')),
        ),
      onClose: (session) => this.forget(session.id),
    });
    this.server.on('error', (err) => this.log.warn({ err: describeError(err) }, 'smtp server error'));
    const tick = Math.max(
      25,
      Math.min(1000, this.limits.commandTimeoutMs / 4, this.limits.dataTimeoutMs / 4),
    );
    this.sweeper = setInterval(() => this.sweep(), tick);
    this.sweeper.unref();
  }

  listen(port: number, host: string): Promise<number> {
    return listenSmtp(this.server, port, host);
  }

  /** New connections get the new certificate; sessions already in TLS keep theirs. */
  updateCertificate(pair: KeyPair): void {
    this.server.updateSecureContext({ key: pair.key, cert: pair.cert });
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  get draining(): boolean {
    return this.closing;
  }

  /** Stops accepting connections; transactions in flight finish (up to closeTimeout). */
  close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private facts(session: SMTPServerSession): SessionFacts {
    return { sessionId: session.id, clientAddress: session.remoteAddress, secure: session.secure };
  }

  private transactionFacts(session: SMTPServerSession) {
    const tenantId = this.sessions.get(session.id)?.transaction?.tenant?.id;
    return { sessionId: session.id, clientAddress: session.remoteAddress, ...(tenantId ? { tenantId } : {}) };
  }

  private async handleConnect(session: SMTPServerSession): Promise<void> {
    const client = session.remoteAddress;
    const refuse = (err: SmtpError) => {
      this.log.info({ session: session.id, client, ...decision(err) }, 'connection refused');
      return err;
    };
    if (this.closing) throw refuse(replies.shuttingDown());
    const err = await this.ask(session.id, () => this.options.admission.onConnect(this.facts(session)));
    if (err) throw refuse(err);
    if (this.sessions.size >= this.limits.maxConnections) throw refuse(replies.tooManyConnections());
    const fromAddress = this.perAddress.get(client) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerAddress)
      throw refuse(replies.tooManyConnectionsFromAddress());
    const connection = liveConnection(this.server, session.id);
    if (!connection) throw new Error('connection closed before it was admitted');
    const state: SessionState = { address: client, connection };
    this.sessions.set(session.id, state);
    this.perAddress.set(client, fromAddress + 1);
    this.watchCommands(connection.socket, state);
    this.log.info({ session: session.id, client }, 'connection accepted');
  }

  private handleSecure(
    socket: net.Socket | tls.TLSSocket,
    session: SMTPServerSession,
  ): SmtpError | undefined {
    const state = this.sessions.get(session.id);
    if (!state || !(socket instanceof tls.TLSSocket)) return replies.shuttingDown();
    state.tls = socket.getProtocol() ?? 'unknown';
    state.partialSince = undefined;
    this.watchCommands(socket, state);
    const policy = this.options.clientCertificate;
    const log = { session: session.id, client: state.address, tls: state.tls };
    const err = policy && clientCertificateProblem(socket, policy.name);
    if (err) {
      this.log.info({ ...log, ...decision(err) }, 'client certificate refused');
      return err;
    }
    this.log.info(log, 'tls established');
    return undefined;
  }

  private async handleMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const state = this.sessions.get(session.id);
    if (!state) throw replies.shuttingDown();
    state.transaction = undefined;
    const from = {
      address: address.address.toLowerCase(),
      sourceRoute: (address as { sourceRoute?: boolean }).sourceRoute === true,
      utf8: address.args !== false && address.args.SMTPUTF8 === true,
    };
    const result = await this.ask(session.id, () =>
      this.options.admission.onMailFrom(from, this.facts(session)),
    );
    if (result instanceof SmtpError) {
      this.log.info(
        { session: session.id, client: state.address, tls: state.tls, ...decision(result) },
        'sender refused',
      );
      throw result;
    }
    state.transaction = result;
  }

  private async handleRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const transaction = this.sessions.get(session.id)?.transaction;
    if (!transaction) throw replies.senderNotAllowed('no sender');
    if (session.envelope.rcptTo.length >= this.limits.maxRecipients)
      throw replies.tooManyRecipients(this.limits.maxRecipients);
    const to = {
      address: address.address.toLowerCase(),
      sourceRoute: (address as { sourceRoute?: boolean }).sourceRoute === true,
      utf8: (session.envelope as { smtpUtf8?: boolean }).smtpUtf8 === true,
    };
    const err = await this.ask(session.id, () => this.options.admission.onRcptTo(to, transaction));
    if (err) {
      this.log.info(
        { session: session.id, tenant: transaction.tenant?.id, ...decision(err) },
        'recipient refused',
      );
      throw err;
    }
  }

  private async handleData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const state = this.sessions.get(session.id);
    const transaction = state?.transaction;
    if (!state || !transaction) {
      stream.resume();
      throw replies.senderNotAllowed('no sender');
    }
    state.dataSince = Date.now();
    const done = () => {
      state.dataSince = undefined;
      state.partialSince = undefined;
    };
    stream.once('end', done);
    const id = newMessageId();
    const log = this.log.child({ session: session.id, messageId: id });
    const context = { client: state.address, tls: state.tls, tenant: transaction.tenant?.id };

    const guard = new DataGuard(this.limits);
    const capture = new HeaderCapture(this.limits.maxHeaderBytes + 2);
    stream.once('error', (err) => guard.destroy(err));
    guard.once('error', (err) => capture.destroy(err));
    stream.pipe(guard).pipe(capture);
    const dkim = this.options.admission.wantsDkim(transaction)
      ? startDkimVerification(this.options.dkimResolver)
      : undefined;
    if (dkim) {
      guard.once('error', (err) => dkim.sink.destroy(err));
      guard.pipe(dkim.sink);
      // A verifier that gave up must not hold the message back through backpressure.
      dkim.result.catch(() => {
        guard.unpipe(dkim.sink);
        dkim.sink.resume();
      });
    }

    const envelope = {
      mailFrom: transaction.sender,
      rcptTo: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
    };
    let tenantId = transaction.tenant?.id ?? '';
    let meta;
    try {
      meta = await this.options.intake.accept(
        capture,
        {
          id,
          envelope,
          // The null sender's tenant is only known from the message; the blob's metadata is set at commit.
          get tenantId() {
            return tenantId;
          },
          receivedAt: new Date().toISOString(),
          clientAddress: state.address,
          sessionId: session.id,
          ...tlsFacts(session),
        },
        {
          beforeCommit: async () => {
            const evidence: MessageEvidence = { headers: capture.headers() };
            if (dkim) evidence.dkim = await dkim.result;
            const verdict = await this.options.admission.onMessage(transaction, evidence);
            if (verdict instanceof SmtpError) throw verdict;
            tenantId = verdict.id;
          },
          traceparent: currentTraceparent(),
        },
      );
    } catch (err) {
      stream.resume();
      done();
      throw this.refusal(err, state, log, context);
    }
    log.info(
      {
        ...context,
        tenant: tenantId,
        size: meta.size,
        rcpts: envelope.rcptTo.length,
        decision: 'accepted',
        code: 250,
      },
      'message accepted',
    );
    this.options.onAccepted?.({
      id,
      tenantId,
      sender: envelope.mailFrom,
      recipientCount: envelope.rcptTo.length,
      size: meta.size,
      clientAddress: state.address,
      sessionId: session.id,
    });
    return `2.0.0 ${id} queued`;
  }

  /** The reply for a message that could not be taken in, logged once with why. */
  private refusal(
    err: unknown,
    state: SessionState,
    log: Logger,
    context: Record<string, unknown>,
  ): SmtpError {
    if (state.abandoned) {
      log.info({ ...context, reason: state.abandoned }, 'message abandoned: connection closed by the front');
      return replies.timeout(state.abandoned);
    }
    if (err instanceof SmtpError) {
      log.info({ ...context, ...decision(err) }, 'message refused');
      return err;
    }
    if ((err as { code?: unknown }).code === 'ECONNECTION') {
      log.info(context, 'message abandoned: client closed the connection during DATA');
    } else {
      log.error({ ...context, err: describeError(err) }, 'storing the message failed');
    }
    return replies.storageUnavailable();
  }

  /** Runs an admission step; anything but an SmtpError (storage, DNS, a bug) is logged and becomes a 4xx. */
  private async ask<T>(sessionId: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof SmtpError) throw err;
      this.log.error({ session: sessionId, err: describeError(err) }, 'policy check failed; deferring');
      throw replies.storageUnavailable();
    }
  }

  /**
   * Notes when a client starts a command line without finishing it, from the bytes it sends: the
   * plaintext socket before STARTTLS (smtp-server drops its listeners at STARTTLS, this one too),
   * the TLS socket after.
   */
  private watchCommands(socket: net.Socket, state: SessionState): void {
    socket.on('data', (chunk: Buffer) => {
      if (state.dataSince !== undefined) return;
      const lastNewline = chunk.lastIndexOf(0x0a);
      if (lastNewline === chunk.length - 1) state.partialSince = undefined;
      else if (lastNewline >= 0) state.partialSince = Date.now();
      else state.partialSince ??= Date.now();
    });
  }

  /** Closes connections whose command line or DATA phase has run past its deadline (slow clients). */
  private sweep(): void {
    const now = Date.now();
    for (const [id, state] of this.sessions) {
      let what: string | undefined;
      if (state.partialSince !== undefined && now - state.partialSince > this.limits.commandTimeoutMs)
        what = 'command';
      else if (state.dataSince !== undefined && now - state.dataSince > this.limits.dataTimeoutMs)
        what = 'data';
      if (!what || state.abandoned) continue;
      state.abandoned = what;
      const err = replies.timeout(what);
      this.log.info({ session: id, client: state.address, ...decision(err) }, 'slow client disconnected');
      state.connection.send(err.responseCode, err.message);
    }
  }

  private forget(sessionId: string): void {
    const state = this.sessions.get(sessionId);
    if (!state) return;
    this.sessions.delete(sessionId);
    const n = (this.perAddress.get(state.address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(state.address, n);
    else this.perAddress.delete(state.address);
  }
}

function countAccepted(m: AcceptedMessage): void {
  telemetry.messageAccepted({
    tenantId: m.tenantId,
    bytes: m.size,
    messageId: m.id,
    recipients: m.recipientCount,
  });
}

/** Counts a refused message by its reply (smtp-server's own default for an error without a code). */
function countRefused(err: Error, phase: RefusalPhase): Error {
  const { responseCode, enhancedStatus } = err as Partial<SmtpError>;
  const code = responseCode ?? (phase === 'mail' ? 550 : 450);
  telemetry.messageRefused({ code, status: enhancedStatus ?? '', phase });
  return err;
}

/** Log fields for a refusal: what we answered and whether the client should retry. */
function decision(err: SmtpError): {
  decision: 'deferred' | 'refused';
  code: number;
  status: string;
  reason: string;
} {
  return {
    decision: err.temporary ? 'deferred' : 'refused',
    code: err.responseCode,
    status: err.enhancedStatus,
    reason: err.message.slice(err.enhancedStatus.length + 1),
  };
}

function clientCertificateProblem(socket: tls.TLSSocket, name: string): SmtpError | undefined {
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return replies.clientCertificateRejected('none presented');
  if (!socket.authorized)
    return replies.clientCertificateRejected(`not trusted (${String(socket.authorizationError)})`);
  if (tls.checkServerIdentity(name, peer) !== undefined)
    return replies.clientCertificateRejected(`not issued to ${name}`);
  return undefined;
}

function tlsFacts(session: SMTPServerSession): { tlsProtocol?: string; tlsCipher?: string } {
  const cipher = session.tlsOptions as
    { name?: string; standardName?: string; version?: string } | false | undefined;
  if (!cipher) return {};
  return { tlsProtocol: cipher.version, tlsCipher: cipher.standardName ?? cipher.name };
}
