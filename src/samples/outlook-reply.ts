import crypto from 'node:crypto';

export interface SampleOptions {
  from?: string;
  to?: string;
  /** Approximate size of the HTML quoted thread, in bytes. */
  htmlBytes?: number;
  tenantId?: string;
}

/**
 * A realistic Outlook desktop reply: multipart/alternative with text and HTML, the reply header
 * block (`border-top:solid #E1E1E1` with From:/Sent:) above the quoted thread, and the headers
 * Exchange Online stamps on the first leg (CrossTenant id, X-OriginatorOrg).
 */
export function outlookReply(options: SampleOptions = {}): Buffer {
  const from = options.from ?? 'alice@contoso.com';
  const to = options.to ?? 'partner@fabrikam.example';
  const tenantId = options.tenantId ?? '6f1c2e3a-8b4d-4c5e-9f60-1a2b3c4d5e6f';
  const boundary = `_000_${crypto.randomBytes(8).toString('hex')}_`;
  const msgId = `<${crypto.randomBytes(12).toString('hex')}@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>`;
  const quotedParagraph =
    '<p class="MsoNormal">Thanks for the numbers. Could you send the revised quote for the Q3 order, including the freight costs we discussed on the phone?</p>\r\n';
  let quoted = '';
  const target = options.htmlBytes ?? 20_000;
  while (quoted.length < target - 1500) quoted += quotedParagraph;
  const html = [
    '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>',
    '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>',
    '<body lang="EN-US" link="#0563C1" vlink="#954F72"><div class="WordSection1">',
    '<p class="MsoNormal">Hi Megan,<o:p></o:p></p>',
    '<p class="MsoNormal">Here is the revised quote, freight included. Let me know if anything is missing.<o:p></o:p></p>',
    '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>',
    '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">',
    '<p class="MsoNormal"><b>From:</b> Megan Bowen &lt;megan@fabrikam.example&gt;<br><b>Sent:</b> Monday, 23 November 2026 10:12<br><b>To:</b> Alice Contoso &lt;alice@contoso.com&gt;<br><b>Subject:</b> Q3 order</p></div>',
    quoted,
    '</div></body></html>',
  ].join('\r\n');
  const text = [
    'Hi Megan,',
    '',
    'Here is the revised quote, freight included. Let me know if anything is missing.',
    '',
    'From: Megan Bowen <megan@fabrikam.example>',
    'Sent: Monday, 23 November 2026 10:12',
    'To: Alice Contoso <alice@contoso.com>',
    'Subject: Q3 order',
    '',
    'Thanks for the numbers. Could you send the revised quote for the Q3 order?',
  ].join('\r\n');
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  const lines = [
    `From: Alice Contoso <${from}>`,
    `To: Megan Bowen <${to}>`,
    'Subject: RE: Q3 order',
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${msgId}`,
    'In-Reply-To: <a1b2c3@fabrikam.example>',
    'References: <a1b2c3@fabrikam.example>',
    'Thread-Topic: Q3 order',
    'Accept-Language: en-US',
    'Content-Language: en-US',
    `X-MS-Exchange-CrossTenant-Id: ${tenantId}`,
    `X-OriginatorOrg: ${from.split('@')[1] ?? 'contoso.com'}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    b64(text),
    '',
    `--${boundary}`,
    'Content-Type: text/html; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    b64(html),
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
