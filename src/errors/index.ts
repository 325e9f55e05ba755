/**
 * One SMTP error type for the whole product: a reply code, an enhanced status code and whether the
 * failure is temporary. Everything that answers a client or judges a delivery reply maps to this,
 * and `toSmtpServerError` is the single place it meets the wire (smtp-server reads `responseCode`).
 */
export type SmtpCategory = 'temporary' | 'permanent';

export class SmtpError extends Error {
  readonly responseCode: number;
  readonly enhancedStatus: string;
  readonly category: SmtpCategory;

  constructor(responseCode: number, enhancedStatus: string, text: string, options?: { cause?: unknown }) {
    super(`${enhancedStatus} ${text}`, options);
    this.name = 'SmtpError';
    this.responseCode = responseCode;
    this.enhancedStatus = enhancedStatus;
    this.category = responseCode >= 500 ? 'permanent' : 'temporary';
  }

  get temporary(): boolean {
    return this.category === 'temporary';
  }
}

/** The replies the front gives, named so that a reader sees the policy, not the numbers. */
export const replies = {
  storageUnavailable: () => new SmtpError(451, '4.3.0', 'Temporary storage failure, please retry later'),
  tooBig: (limit: number) => new SmtpError(552, '5.3.4', `Message exceeds the size limit of ${limit} bytes`),
  senderNotAllowed: (why: string) => new SmtpError(550, '5.7.1', `Sender not accepted: ${why}`),
  tlsRequired: () => new SmtpError(530, '5.7.0', 'Must issue a STARTTLS command first'),
  clientNotAllowed: () => new SmtpError(554, '5.7.1', 'Connection not allowed from this address'),
  tooManyRecipients: (limit: number) =>
    new SmtpError(452, '4.5.3', `Too many recipients (at most ${limit} per message)`),
  shuttingDown: () => new SmtpError(421, '4.3.2', 'Service shutting down, please retry later'),
  tenantMismatch: (why: string) => new SmtpError(550, '5.7.1', `Tenant check failed: ${why}`),
  rateLimited: (why: string) => new SmtpError(450, '4.7.1', `Rate limit reached: ${why}`),
  dailyLimit: (why: string) => new SmtpError(550, '5.7.1', `Daily limit reached: ${why}`),
  bareLineEnding: () =>
    new SmtpError(550, '5.6.0', 'Bare CR or LF in message data is not allowed (use CRLF line endings)'),
  nulInData: () =>
    new SmtpError(550, '5.6.0', 'NUL bytes in message data are not allowed (RFC 2045 7bit/8bit data)'),
  lineTooLong: (limit: number) => new SmtpError(550, '5.6.0', `Line longer than ${limit} octets`),
  headerTooBig: (limit: number) =>
    new SmtpError(552, '5.3.4', `Message header block exceeds the limit of ${limit} octets`),
  /** RFC 5321 §4.2.2 / RFC 3463: the address is not a Mailbox at all. */
  badAddressSyntax: (why: string) => new SmtpError(501, '5.1.3', `Bad address syntax: ${why}`),
  /** The address is well-formed but not one we may take (RFC 6531: non-ASCII without SMTPUTF8). */
  addressNotAllowed: (why: string) => new SmtpError(553, '5.1.3', `Mailbox name not allowed: ${why}`),
  addressNotAccepted: (why: string) => new SmtpError(550, '5.7.1', `Address not accepted: ${why}`),
  clientCertificateRejected: (why: string) =>
    new SmtpError(554, '5.7.1', `Client certificate not accepted: ${why}`),
  tooManyConnections: () => new SmtpError(421, '4.3.2', 'Too many connections, please retry later'),
  tooManyConnectionsFromAddress: () =>
    new SmtpError(421, '4.7.0', 'Too many connections from your address, please retry later'),
  dnsUnavailable: () =>
    new SmtpError(451, '4.4.3', 'DNS lookup failed while checking the message, please retry later'),
  timeout: (what: string) => new SmtpError(421, '4.4.2', `Timeout (${what}), closing connection`),
};

/** Normalises anything thrown into an Error, keeping SmtpErrors as they are. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}

/** A short, log-safe description of any thrown value. */
export function describeError(value: unknown): string {
  const err = toError(value);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
}

/** Reads an SMTP reply code from an error thrown by nodemailer or smtp-server, if it carries one. */
export function replyCodeOf(value: unknown): number | undefined {
  if (value instanceof SmtpError) return value.responseCode;
  const code = (value as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' ? code : undefined;
}
