import crypto from 'node:crypto';
import type { ClientShape, MessageType } from './contract.js';

export const clientLabels: Record<ClientShape, string> = {
  'outlook-desktop': 'Outlook (desktop)',
  owa: 'Outlook on the web / new Outlook',
  gmail: 'Gmail',
  'apple-mail': 'Apple Mail',
  thunderbird: 'Thunderbird',
};

export interface ConversationParties {
  sender: { address: string; name: string };
  recipient: { address: string; name: string };
}

/** The words of the sample conversation; the tests look for them to find the newest reply. */
export const sample = {
  newText: 'Here is the revised quote, freight included. Let me know if anything is missing.',
  quotedText: 'Thanks for the numbers. Could you send the revised quote for the Q3 order?',
  subject: 'Q3 order',
  sentAt: 'Monday, 23 November 2026 10:12',
};

interface Bodies {
  html: string;
  text: string;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A small message as each client writes it: the new text on top and, for a reply or forward, the
 * earlier message below in that client's own quote shape (the shapes test/fixtures/signing holds
 * real examples of). The engine must find the newest reply in every one of them.
 */
export function conversationMime(
  client: ClientShape,
  type: MessageType,
  parties: ConversationParties,
): Buffer {
  const bodies = bodiesFor(client, type, parties);
  const boundary = `----sample-${crypto.randomBytes(6).toString('hex')}`;
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  const subject = type === 'new' ? sample.subject : `${type === 'reply' ? 'RE' : 'FW'}: ${sample.subject}`;
  const headers = [
    `From: ${parties.sender.name.replace(/[\r\n"]/g, '')} <${parties.sender.address}>`,
    `To: ${parties.recipient.name} <${parties.recipient.address}>`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${crypto.randomBytes(10).toString('hex')}@preview.sigrelay>`,
    ...(type === 'reply'
      ? ['In-Reply-To: <q3-order@preview.sigrelay>', 'References: <q3-order@preview.sigrelay>']
      : []),
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  const lines = [
    ...headers,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    b64(bodies.text),
    `--${boundary}`,
    'Content-Type: text/html; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    b64(bodies.html),
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** A sample's text part: greeting and intro, then (for replies and forwards) the client's quote lines. */
function textPart(
  greeting: string,
  intro: string,
  type: MessageType,
  quote: { forward: () => string[]; reply: () => string[] },
): string {
  const quoted = type === 'new' ? [] : type === 'forward' ? quote.forward() : quote.reply();
  return [greeting, '', intro, ...quoted].join('\r\n');
}

/** The header block and quoted text Outlook (desktop and web) puts under a reply's text part. */
function outlookTextQuote(
  other: ConversationParties['recipient'],
  me: ConversationParties['sender'],
): string[] {
  return [
    `From: ${other.name} <${other.address}>`,
    `Sent: ${sample.sentAt}`,
    `To: ${me.name} <${me.address}>`,
    `Subject: ${sample.subject}`,
    '',
    sample.quotedText,
  ];
}

function bodiesFor(client: ClientShape, type: MessageType, p: ConversationParties): Bodies {
  const other = p.recipient;
  const me = p.sender;
  const greeting = `Hi ${other.name.split(' ')[0] ?? other.name},`;
  const intro = type === 'forward' ? 'FYI, see below.' : sample.newText;
  switch (client) {
    case 'outlook-desktop': {
      const block =
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">' +
        `<p class="MsoNormal"><b>From:</b> ${esc(other.name)} &lt;${esc(other.address)}&gt;<br><b>Sent:</b> ${sample.sentAt}<br>` +
        `<b>To:</b> ${esc(me.name)} &lt;${esc(me.address)}&gt;<br><b>Subject:</b> ${sample.subject}</p></div>`;
      const html = [
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>',
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>',
        '<body lang="EN-US" link="#0563C1" vlink="#954F72"><div class="WordSection1">',
        `<p class="MsoNormal">${esc(greeting)}<o:p></o:p></p>`,
        `<p class="MsoNormal">${esc(intro)}<o:p></o:p></p>`,
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>',
        ...(type === 'new' ? [] : [block, `<p class="MsoNormal">${esc(sample.quotedText)}<o:p></o:p></p>`]),
        '</div></body></html>',
      ].join('\r\n');
      const text = [greeting, '', intro, '', ...(type === 'new' ? [] : outlookTextQuote(other, me))].join(
        '\r\n',
      );
      return { html, text };
    }
    case 'owa': {
      const quote =
        '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">' +
        `<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000"><b>From:</b> ${esc(other.name)} &lt;${esc(other.address)}&gt;<br>` +
        `<b>Sent:</b> ${sample.sentAt}<br><b>To:</b> ${esc(me.name)} &lt;${esc(me.address)}&gt;<br><b>Subject:</b> ${sample.subject}</font>` +
        `<div>&nbsp;</div></div><div>${esc(sample.quotedText)}</div>`;
      const html =
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body dir="ltr">' +
        `<div style="font-family:Aptos,Aptos_EmbeddedFont,Calibri,Helvetica,sans-serif;font-size:12pt">${esc(greeting)}</div>` +
        `<div style="font-family:Aptos,Aptos_EmbeddedFont,Calibri,Helvetica,sans-serif;font-size:12pt">${esc(intro)}</div>` +
        (type === 'new' ? '' : quote) +
        '</body></html>';
      const text = [
        greeting,
        '',
        intro,
        ...(type === 'new' ? [] : ['', '________________________________', ...outlookTextQuote(other, me)]),
      ].join('\r\n');
      return { html, text };
    }
    case 'gmail': {
      const attribution =
        type === 'forward'
          ? `---------- Forwarded message ---------<br>From: <strong class="gmail_sendername" dir="auto">${esc(other.name)}</strong> <span dir="auto">&lt;<a href="mailto:${esc(other.address)}">${esc(other.address)}</a>&gt;</span><br>Date: Mon, 23 Nov 2026 at 10:12<br>Subject: ${sample.subject}<br>To: ${esc(me.name)} &lt;<a href="mailto:${esc(me.address)}">${esc(me.address)}</a>&gt;<br>`
          : `On Mon, 23 Nov 2026 at 10:12, ${esc(other.name)} &lt;<a href="mailto:${esc(other.address)}">${esc(other.address)}</a>&gt; wrote:<br>`;
      const quoted =
        type === 'forward'
          ? `<br><br><div dir="ltr">${esc(sample.quotedText)}</div>`
          : `<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">${esc(sample.quotedText)}</div></blockquote>`;
      const html =
        `<div dir="ltr"><div>${esc(greeting)}</div><div><br></div><div>${esc(intro)}</div></div>` +
        (type === 'new'
          ? ''
          : `<br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">${attribution}</div>${quoted}</div>`);
      const text = textPart(greeting, intro, type, {
        forward: () => [
          '',
          '---------- Forwarded message ---------',
          `From: ${other.name} <${other.address}>`,
          'Date: Mon, 23 Nov 2026 at 10:12',
          `Subject: ${sample.subject}`,
          `To: ${me.name} <${me.address}>`,
          '',
          '',
          sample.quotedText,
        ],
        reply: () => [
          '',
          `On Mon, 23 Nov 2026 at 10:12, ${other.name} <${other.address}> wrote:`,
          '',
          `> ${sample.quotedText}`,
          '>',
        ],
      });
      return { html, text };
    }
    case 'apple-mail': {
      const inner =
        type === 'forward'
          ? `<div>Begin forwarded message:</div><br class="Apple-interchange-newline"><div style="margin:0px"><b>From: </b>${esc(other.name)} &lt;${esc(other.address)}&gt;</div><div style="margin:0px"><b>Subject: </b>${sample.subject}</div><div style="margin:0px"><b>Date: </b>23 November 2026 at 10:12:00 GMT</div><div style="margin:0px"><b>To: </b>${esc(me.name)} &lt;${esc(me.address)}&gt;</div><br><div>${esc(sample.quotedText)}</div>`
          : `<div>On 23 Nov 2026, at 10:12, ${esc(other.name)} &lt;${esc(other.address)}&gt; wrote:</div><br class="Apple-interchange-newline"><div><div>${esc(sample.quotedText)}</div></div>`;
      const html =
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>' +
        `<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">${esc(greeting)}<div><br></div><div>${esc(intro)}</div>` +
        (type === 'new' ? '' : `<div><br><blockquote type="cite">${inner}</blockquote></div>`) +
        '</body></html>';
      const text = textPart(greeting, intro, type, {
        forward: () => [
          '',
          'Begin forwarded message:',
          '',
          `From: ${other.name} <${other.address}>`,
          `Subject: ${sample.subject}`,
          'Date: 23 November 2026 at 10:12:00 GMT',
          `To: ${me.name} <${me.address}>`,
          '',
          sample.quotedText,
        ],
        reply: () => [
          '',
          `> On 23 Nov 2026, at 10:12, ${other.name} <${other.address}> wrote:`,
          '> ',
          `> ${sample.quotedText}`,
        ],
      });
      return { html, text };
    }
    case 'thunderbird': {
      const quote =
        type === 'forward'
          ? `<div class="moz-forward-container"><br><br>-------- Forwarded Message --------<table class="moz-email-headers-table" cellpadding="0" cellspacing="0" border="0"><tbody><tr><th valign="BASELINE" nowrap="nowrap" align="RIGHT">Subject: </th><td>${sample.subject}</td></tr><tr><th valign="BASELINE" nowrap="nowrap" align="RIGHT">Date: </th><td>Mon, 23 Nov 2026 10:12:00 +0000</td></tr><tr><th valign="BASELINE" nowrap="nowrap" align="RIGHT">From: </th><td>${esc(other.name)} &lt;${esc(other.address)}&gt;</td></tr><tr><th valign="BASELINE" nowrap="nowrap" align="RIGHT">To: </th><td>${esc(me.name)} &lt;${esc(me.address)}&gt;</td></tr></tbody></table><br><p>${esc(sample.quotedText)}</p></div>`
          : `<div class="moz-cite-prefix">On 23/11/2026 10:12, ${esc(other.name)} wrote:<br></div><blockquote type="cite"><p>${esc(sample.quotedText)}</p></blockquote>`;
      const html = [
        '<!DOCTYPE html>',
        '<html>',
        '  <head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head>',
        '  <body>',
        `    <p>${esc(greeting)}</p>`,
        `    <p>${esc(intro)}</p>`,
        ...(type === 'new' ? [] : [`    ${quote}`]),
        '  </body>',
        '</html>',
      ].join('\r\n');
      const text = textPart(greeting, intro, type, {
        forward: () => [
          '',
          '',
          '-------- Forwarded Message --------',
          `Subject: \t${sample.subject}`,
          'Date: \tMon, 23 Nov 2026 10:12:00 +0000',
          `From: \t${other.name} <${other.address}>`,
          `To: \t${me.name} <${me.address}>`,
          '',
          sample.quotedText,
        ],
        reply: () => ['', `On 23/11/2026 10:12, ${other.name} wrote:`, `> ${sample.quotedText}`],
      });
      return { html, text };
    }
  }
}
