import crypto from 'node:crypto';

export interface DsnRecipient {
  address: string;
  /** The endpoint's reply for this recipient, e.g. `550 5.1.1 User unknown`. */
  reply: string;
  /** `failed` (gave up) or `delayed`. */
  action: 'failed' | 'delayed';
}

export interface DsnRequest {
  /** The original sender: the DSN goes back to them. */
  sender: string;
  reportingMta: string;
  remoteMta: string;
  receivedAt: string;
  recipients: DsnRecipient[];
  /** The original header block (raw), returned as text/rfc822-headers; never the body. */
  originalHeaders: Buffer;
  messageId: string;
}

/**
 * Builds an RFC 3464 delivery status notification (multipart/report; report-type=delivery-status)
 * telling the sender which recipients did not get their message and what the endpoint said. It
 * carries the original headers only, and our loop-prevention header so it is never routed back to us.
 */
export function buildDsn(request: DsnRequest, processedHeader: string): Buffer {
  const boundary = `sigrelay-dsn-${crypto.randomBytes(8).toString('hex')}`;
  const domain = request.sender.split('@')[1] ?? 'localhost';
  const statusOf = (reply: string, action: DsnRecipient['action']) =>
    /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1] ?? (action === 'failed' ? '5.0.0' : '4.0.0');
  const human = [
    'Your message could not be delivered to the following recipients.',
    'It was not changed or signed by the signature service; the details are below.',
    '',
    ...request.recipients.map((r) => `  ${r.address}: ${oneLine(r.reply)}`),
    '',
    `Message id: ${request.messageId}`,
  ].join('\r\n');
  const perRecipient = request.recipients
    .map((r) =>
      [
        `Final-Recipient: rfc822; ${r.address}`,
        `Action: ${r.action}`,
        `Status: ${statusOf(r.reply, r.action)}`,
        `Remote-MTA: dns; ${request.remoteMta}`,
        `Diagnostic-Code: smtp; ${oneLine(r.reply)}`,
      ].join('\r\n'),
    )
    .join('\r\n\r\n');
  const headers = request.originalHeaders
    .toString('latin1')
    .replace(/\r?\n/g, '\r\n')
    .replace(/(?<!\r\n)(?:\r\n)+$/, '');
  const parts = [
    `${processedHeader}: true`,
    `From: Mail Delivery System <postmaster@${domain}>`,
    `To: <${request.sender}>`,
    'Subject: Undeliverable: your message could not be delivered',
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${crypto.randomUUID()}@${request.reportingMta}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    human,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${request.reportingMta}`,
    `Arrival-Date: ${new Date(request.receivedAt).toUTCString().replace('GMT', '+0000')}`,
    '',
    perRecipient,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    headers,
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(parts.join('\r\n'), 'utf8');
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 900);
}
