/**
 * The one place where reply codes meet the wire. smtp-server derives enhanced status codes from the
 * basic code alone (550 → 5.1.1, 552 → 5.2.2), which would say "bad mailbox" where we mean "not
 * authorised" (5.7.1). Our SmtpErrors carry their enhanced code as the first word of the text; this
 * patch makes smtp-server use it instead of its guess. Everything else (including its own 552 5.3.4
 * for oversized data) keeps smtp-server's RFC 3463 mapping.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

type Send = (this: unknown, code: number, data: unknown, context?: string | false) => void;

const enhanced = /^([245])\.\d{1,3}\.\d{1,3} /;
let installed = false;

export function installReplyCodes(): void {
  if (installed) return;
  installed = true;
  const proto = (SMTPConnection as unknown as { prototype: { send: Send } }).prototype;
  const original = proto.send;
  proto.send = function send(code, data, context) {
    if (typeof data === 'string' && enhanced.test(data)) return original.call(this, code, data, false);
    return original.call(this, code, data, context);
  };
}
