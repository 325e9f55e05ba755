/**
 * The one place where sigrelay reaches into smtp-server's internals.
 *
 * Reply codes: smtp-server derives enhanced status codes from the basic code alone (550 → 5.1.1,
 * 552 → 5.2.2), which would say "bad mailbox" where we mean "not authorised" (5.7.1). Our
 * SmtpErrors carry their enhanced code as the first word of the text; `installReplyCodes` makes
 * smtp-server use it instead of its guess. Everything else (including its own 552 5.3.4 for
 * oversized data) keeps smtp-server's RFC 3463 mapping.
 *
 * Source routes: smtp-server strips `<@a,@b:user@c>` to `user@c` before our hooks see the address
 * (RFC 5321 says to ignore them). Exchange Online never sends one, and the front refuses every
 * routing trick outright, so `installSourceRouteFlag` marks the parsed address instead.
 *
 * Greeting: smtp-server waits a fixed 100 ms after every connect before its 220, to catch spam bots
 * that talk first. The front admits only Exchange Online's addresses (and a client certificate), so
 * the wait bought nothing and cost every connection 100 ms — with one message per connection, the
 * front's intake was capped near 10 sessions / 140 ms. `installImmediateGreeting` greets as soon as
 * the connection is admitted; a client that talks before the 220 is still told "You talk too soon".
 */
import type net from 'node:net';
import type { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

type Send = (this: unknown, code: number, data: unknown, context?: string | false) => void;
type ParseAddress = (this: unknown, name: string, command: unknown) => unknown;

const enhanced = /^([245])\.\d{1,3}\.\d{1,3} /;
let repliesInstalled = false;
let routesInstalled = false;
let greetingInstalled = false;

export function installReplyCodes(): void {
  if (repliesInstalled) return;
  repliesInstalled = true;
  const proto = (SMTPConnection as unknown as { prototype: { send: Send } }).prototype;
  const original = proto.send;
  proto.send = function send(code, data, context) {
    if (typeof data === 'string' && enhanced.test(data)) return original.call(this, code, data, false);
    return original.call(this, code, data, context);
  };
}

/** Parsed MAIL FROM / RCPT TO addresses gain `sourceRoute: true` when the client sent one. */
export function installSourceRouteFlag(): void {
  if (routesInstalled) return;
  routesInstalled = true;
  const proto = (SMTPConnection as unknown as { prototype: { _parseAddressCommand: ParseAddress } })
    .prototype;
  const original = proto._parseAddressCommand;
  proto._parseAddressCommand = function parseAddressCommand(name, command) {
    const parsed = original.call(this, name, command);
    if (parsed && typeof parsed === 'object' && /^[^:]*:\s*<\s*@/.test(String(command)))
      (parsed as { sourceRoute?: boolean }).sourceRoute = true;
    return parsed;
  };
}

interface ConnectionInternals {
  _server: { options: { maxClients?: number }; connections: Set<unknown> };
  name: string;
  _setListeners(done: () => void): void;
  connectionReady(): void;
  send(code: number, text: string, context?: string | false): void;
}

/** smtp-server's connection start-up (limit check, then ready) without its fixed 100 ms wait. */
export function installImmediateGreeting(): void {
  if (greetingInstalled) return;
  greetingInstalled = true;
  const proto = (SMTPConnection as unknown as { prototype: { init: (this: ConnectionInternals) => void } })
    .prototype;
  proto.init = function init(this: ConnectionInternals) {
    this._setListeners(() => {
      const { maxClients } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      this.connectionReady();
    });
  };
}

/** What the front needs of one live smtp-server connection. */
export interface LiveConnection {
  /** The socket before any STARTTLS (plaintext until then). */
  socket: net.Socket;
  /** Sends a reply; a 421 also closes the connection. */
  send(code: number, text: string): void;
}

/** The live connection behind a session id, if it is still open. */
export function liveConnection(server: SMTPServer, sessionId: string): LiveConnection | undefined {
  const connections = (
    server as unknown as {
      connections: Set<{ id: string; _socket: net.Socket; send(code: number, text: string): void }>;
    }
  ).connections;
  for (const c of connections) {
    if (c.id === sessionId) return { socket: c._socket, send: (code, text) => c.send(code, text) };
  }
  return undefined;
}
