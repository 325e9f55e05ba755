import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Tenant } from '../config/index.js';
import { describeError, replies, SmtpError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { encodeClaimCheck, newMessageId, type MessageStore, type StorageClients } from '../storage/index.js';
import { HeaderCapture } from './header-capture.js';
import type { FrontPolicy, SessionFacts } from './policy.js';

export interface FrontOptions {
  hostname: string;
  tls: { key: string | Buffer; cert: string | Buffer };
  maxMessageBytes: number;
  maxRecipients: number;
  policy: FrontPolicy;
  store: MessageStore;
  storage: StorageClients;
  logger: Logger;
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

/** Per-session state we keep beside smtp-server's session object. */
interface TransactionState {
  tenant?: Tenant;
}

const transactionKey = Symbol('sigrelay.transaction');
type Session = SMTPServerSession & { [transactionKey]?: TransactionState };

/**
 * The SMTP front: admits only tenant mail (policy), streams DATA straight into Blob Storage, queues
 * a claim-check, and answers 250 only after both are durable. Any storage failure answers 451 and
 * leaves nothing visible behind, so Exchange Online keeps the message and retries.
 */
export class FrontServer {
  readonly server: SMTPServer;
  private readonly options: FrontOptions;
  private readonly log: Logger;
  private closing = false;

  constructor(options: FrontOptions) {
    this.options = options;
    this.log = options.logger;
    this.server = new SMTPServer({
      name: options.hostname,
      banner: 'sigrelay ESMTP',
      key: options.tls.key,
      cert: options.tls.cert,
      minVersion: 'TLSv1.2',
      size: options.maxMessageBytes,
      authOptional: true,
      disabledCommands: ['AUTH'],
      hideSTARTTLS: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      hidePIPELINING: false,
      logger: false,
      closeTimeout: 60_000,
      onConnect: (session, cb) => void this.handleConnect(session as Session).then(() => cb(), cb),
      onMailFrom: (address, session, cb) =>
        void this.handleMailFrom(address.address, session as Session).then(() => cb(), cb),
      onRcptTo: (_address, session, cb) => {
        if (session.envelope.rcptTo.length >= options.maxRecipients) {
          cb(replies.tooManyRecipients(options.maxRecipients));
          return;
        }
        cb();
      },
      onData: (stream, session, cb) =>
        void this.handleData(stream, session as Session).then(
          (reply) => cb(null, reply),
          (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
        ),
    });
    this.server.on('error', (err) => this.log.warn({ err: describeError(err) }, 'smtp server error'));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops accepting connections; transactions in flight finish (up to closeTimeout). */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private facts(session: Session): SessionFacts {
    return { sessionId: session.id, clientAddress: session.remoteAddress, secure: session.secure };
  }

  private async handleConnect(session: Session): Promise<void> {
    if (this.closing) throw replies.shuttingDown();
    const err = await this.options.policy.onConnect(this.facts(session));
    if (err) {
      this.log.info(
        { session: session.id, client: session.remoteAddress, code: err.responseCode },
        'connection refused',
      );
      throw err;
    }
  }

  private async handleMailFrom(address: string, session: Session): Promise<void> {
    const result = await this.options.policy.onMailFrom(address.toLowerCase(), this.facts(session));
    if ('error' in result) {
      this.log.info(
        {
          session: session.id,
          client: session.remoteAddress,
          code: result.error.responseCode,
          reason: result.error.message,
        },
        'sender refused',
      );
      throw result.error;
    }
    session[transactionKey] = { tenant: result.tenant };
  }

  private async handleData(stream: SMTPServerDataStream, session: Session): Promise<string> {
    const tenant = session[transactionKey]?.tenant;
    const id = newMessageId();
    const log = this.log.child({ session: session.id, messageId: id });
    if (!tenant) {
      stream.resume();
      throw replies.senderNotAllowed('no sender');
    }
    const capture = new HeaderCapture();
    const source: Readable = stream.pipe(capture);
    stream.once('error', (err) => capture.destroy(err));
    const tls = session.secure ? tlsFacts(session) : {};
    const envelope = {
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address.toLowerCase() : '',
      rcptTo: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
    };
    let meta;
    try {
      meta = await this.options.store.writeInbound(
        source,
        {
          id,
          envelope,
          tenantId: tenant.id,
          receivedAt: new Date().toISOString(),
          clientAddress: session.remoteAddress,
          sessionId: session.id,
          ...tls,
        },
        {
          beforeCommit: async () => {
            if (stream.sizeExceeded) throw replies.tooBig(this.options.maxMessageBytes);
            const verdict = await this.options.policy.onMessage(
              tenant,
              capture.headers(),
              this.facts(session),
            );
            if (verdict) throw verdict;
          },
        },
      );
    } catch (err) {
      stream.resume();
      if (err instanceof SmtpError) {
        log.info({ code: err.responseCode, reason: err.message }, 'message refused');
        throw err;
      }
      log.error({ err: describeError(err) }, 'storing the message failed');
      throw replies.storageUnavailable();
    }
    try {
      await this.options.storage.inboundQueue.sendMessage(
        encodeClaimCheck({
          v: 1,
          id,
          tenantId: tenant.id,
          size: meta.size,
          sha256: meta.sha256,
          receivedAt: meta.receivedAt,
        }),
      );
    } catch (err) {
      log.error({ err: describeError(err) }, 'queueing the claim-check failed; removing the stored copy');
      await this.options.store.deleteAll(id).catch((cleanupErr: unknown) =>
        // The blob trigger and the sweeper would still process it, so EXO's retry could deliver twice;
        // we log loudly so an operator can see it, and still answer 451 (never lose beats never duplicate).
        log.error({ err: describeError(cleanupErr) }, 'removing the stored copy failed'),
      );
      throw replies.storageUnavailable();
    }
    log.info(
      {
        tenant: tenant.id,
        client: session.remoteAddress,
        size: meta.size,
        rcpts: envelope.rcptTo.length,
        tls: tls.tlsProtocol,
        code: 250,
      },
      'message accepted',
    );
    this.options.onAccepted?.({
      id,
      tenantId: tenant.id,
      sender: envelope.mailFrom,
      recipientCount: envelope.rcptTo.length,
      size: meta.size,
      clientAddress: session.remoteAddress,
      sessionId: session.id,
    });
    return `2.0.0 ${id} queued`;
  }
}

function tlsFacts(session: SMTPServerSession): { tlsProtocol?: string; tlsCipher?: string } {
  const cipher = session.tlsOptions as
    { name?: string; standardName?: string; version?: string } | false | undefined;
  if (!cipher) return {};
  return { tlsProtocol: cipher.version, tlsCipher: cipher.standardName ?? cipher.name };
}
