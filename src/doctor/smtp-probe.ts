import net from 'node:net';
import tls from 'node:tls';

/**
 * A real SMTP session that stops short of sending: greeting, EHLO, STARTTLS with our client
 * certificate, EHLO again, MAIL FROM, RCPT TO, then RSET and QUIT. Written on node:net/tls rather
 * than nodemailer because the doctor must report each step's own reply, and nodemailer's transport
 * only exposes a whole sendMail.
 */
export interface ProbeOptions {
  host: string;
  port: number;
  ehloName: string;
  mailFrom: string;
  rcptTo: string;
  tls: 'required' | 'optional' | 'none';
  clientCert?: Buffer;
  clientKey?: Buffer;
  ca?: Buffer;
  timeoutMs: number;
  /** The name the server certificate must carry, when not `host` (connecting by address). */
  servername?: string;
  /** Stop after STARTTLS and the second EHLO: checking a server's certificate, not a route. */
  tlsOnly?: boolean;
  /** A bound on the whole session, however slowly the endpoint drips its replies. */
  sessionTimeoutMs?: number;
}

export interface ProbeStep {
  /** What we sent (`EHLO relay.contoso.com`), or `connect`/`greeting`/`tls`. */
  step: string;
  code?: number;
  reply?: string;
  error?: string;
}

export interface ProbeResult {
  steps: ProbeStep[];
  /** `accepted`: the endpoint took MAIL FROM and RCPT TO; `refused`: it answered 4xx/5xx; `failed`: no answer. */
  outcome: 'accepted' | 'refused' | 'failed';
  tls?: { protocol: string; clientCertificateSent: boolean };
}

interface Reply {
  code: number;
  text: string;
}

/** Reads SMTP replies (multi-line `250-…` up to `250 …`) from whichever socket is current. */
class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private ready: Reply[] = [];
  private waiter?: { resolve: (r: Reply) => void; reject: (e: Error) => void };
  private failure?: Error;
  private socket?: net.Socket;
  private readonly onData = (chunk: Buffer) => this.feed(chunk);
  private readonly onError = (err: Error) => this.fail(err);
  private readonly onClose = () => this.fail(new Error('the endpoint closed the connection'));
  private readonly onTimeout = () => {
    this.fail(new Error('no reply within the timeout'));
    this.socket?.destroy();
  };

  constructor(private readonly timeoutMs: number) {}

  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.setTimeout(this.timeoutMs);
    socket
      .on('data', this.onData)
      .on('error', this.onError)
      .on('close', this.onClose)
      .on('timeout', this.onTimeout);
  }

  /** Stops listening, so another reader (the TLS layer) can own the socket. */
  detach(): net.Socket | undefined {
    const s = this.socket;
    s?.off('data', this.onData)
      .off('error', this.onError)
      .off('close', this.onClose)
      .off('timeout', this.onTimeout);
    s?.setTimeout(0);
    this.socket = undefined;
    return s;
  }

  next(): Promise<Reply> {
    const r = this.ready.shift();
    if (r) return Promise.resolve(r);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private feed(chunk: Buffer): void {
    this.buffer += chunk.toString('latin1');
    let i: number;
    while ((i = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, i).replace(/\r$/, '');
      this.buffer = this.buffer.slice(i + 1);
      this.lines.push(line);
      const m = /^(\d{3})(?: |$)/.exec(line);
      if (m) {
        const text = this.lines.map((l) => l.slice(4)).join('\n');
        this.lines = [];
        this.deliver({ code: Number(m[1]), text: `${m[1]} ${text}` });
      }
    }
  }

  private deliver(reply: Reply): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w) w.resolve(reply);
    else this.ready.push(reply);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }
}

function message(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code && !e.message?.includes(e.code) ? `${e.code}: ${e.message}` : (e.message ?? String(err));
}

export async function probe(o: ProbeOptions): Promise<ProbeResult> {
  if (!o.sessionTimeoutMs) return session(o, () => undefined);
  const limit = o.sessionTimeoutMs;
  let current: net.Socket | undefined;
  const timer = setTimeout(
    () => current?.destroy(new Error(`the session took longer than ${limit} ms`)),
    limit,
  );
  try {
    return await session(o, (s) => (current = s));
  } finally {
    clearTimeout(timer);
  }
}

/** `track` learns each socket the session speaks on (plain, then TLS), so a deadline can end it. */
async function session(o: ProbeOptions, track: (s: net.Socket) => void): Promise<ProbeResult> {
  const steps: ProbeStep[] = [];
  const reader = new ReplyReader(o.timeoutMs);
  let socket: net.Socket;
  let tlsInfo: ProbeResult['tls'];
  try {
    socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: o.host, port: o.port });
      track(s);
      s.setTimeout(o.timeoutMs, () => s.destroy(new Error(`no connection within ${o.timeoutMs} ms`)));
      s.once('connect', () => resolve(s)).once('error', reject);
    });
  } catch (err) {
    steps.push({ step: `connect ${o.host}:${o.port}`, error: message(err) });
    return { steps, outcome: 'failed' };
  }
  steps.push({ step: `connect ${o.host}:${o.port}` });
  reader.attach(socket);

  const send = async (step: string, line: string | undefined, expect: number): Promise<Reply | undefined> => {
    try {
      if (line !== undefined) socket.write(`${line}\r\n`);
      const reply = await reader.next();
      steps.push({ step, code: reply.code, reply: reply.text });
      return reply.code === expect ? reply : undefined;
    } catch (err) {
      steps.push({ step, error: message(err) });
      return undefined;
    }
  };
  const finish = (outcome: ProbeResult['outcome']): ProbeResult => {
    const failed = steps.at(-1)?.error !== undefined;
    if (!failed) socket.write('QUIT\r\n');
    socket.end();
    socket.destroy();
    return { steps, outcome: failed ? 'failed' : outcome, tls: tlsInfo };
  };

  if (!(await send('greeting', undefined, 220))) return finish('refused');
  let ehlo = await send(`EHLO ${o.ehloName}`, `EHLO ${o.ehloName}`, 250);
  if (!ehlo) return finish('refused');

  const offersTls = /^(?:250 )?STARTTLS\b/im.test(ehlo.text);
  if (o.tls !== 'none' && (offersTls || o.tls === 'required')) {
    if (!(await send('STARTTLS', 'STARTTLS', 220))) return finish('refused');
    const raw = reader.detach();
    try {
      socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const secure = tls.connect({
          socket: raw,
          // SNI must be a host name (RFC 6066); an IP literal (local overrides) is sent without it.
          servername: o.servername ?? (net.isIP(o.host) ? undefined : o.host),
          cert: o.clientCert,
          key: o.clientKey,
          ca: o.ca,
          minVersion: 'TLSv1.2',
          rejectUnauthorized: true,
        });
        track(secure);
        // The raw socket's idle timeout was handed over with it; an endpoint that stalls mid-handshake
        // must not hold the doctor (or the console request running it) forever.
        const stalled = () => secure.destroy(new Error(`no TLS handshake within ${o.timeoutMs} ms`));
        secure.setTimeout(o.timeoutMs, stalled);
        secure
          .once('secureConnect', () => {
            secure.off('timeout', stalled);
            resolve(secure);
          })
          .once('error', reject);
      });
    } catch (err) {
      steps.push({ step: 'TLS handshake', error: message(err) });
      raw?.destroy();
      return { steps, outcome: 'failed' };
    }
    const secure = socket as tls.TLSSocket;
    tlsInfo = {
      protocol: secure.getProtocol() ?? 'unknown',
      clientCertificateSent: Boolean(o.clientCert && o.clientKey),
    };
    steps.push({ step: 'TLS handshake', reply: `${tlsInfo.protocol}, server certificate verified` });
    reader.attach(socket);
    ehlo = await send(`EHLO ${o.ehloName}`, `EHLO ${o.ehloName}`, 250);
    if (!ehlo) return finish('refused');
  }
  if (o.tlsOnly) return finish(tlsInfo ? 'accepted' : 'refused');
  if (!(await send(`MAIL FROM:<${o.mailFrom}>`, `MAIL FROM:<${o.mailFrom}>`, 250))) return finish('refused');
  if (!(await send(`RCPT TO:<${o.rcptTo}>`, `RCPT TO:<${o.rcptTo}>`, 250))) return finish('refused');
  // Nothing is sent: RSET ends the transaction the endpoint has accepted.
  await send('RSET', 'RSET', 250);
  return finish('accepted');
}
