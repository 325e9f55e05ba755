/**
 * One fixture per language of the marker table and per marker kind: an attribution line (Gmail,
 * Apple Mail, Thunderbird phrasings; in HTML held by an Apple div with a mailto link, a Roundcube
 * `<p id="reply-intro">` or a bare span before a plain blockquote), an Outlook header block (in
 * HTML as mobile Outlook writes it, without any structural marker) and an "original message"
 * separator (Outlook's in text, Thunderbird's in HTML). Each is a multipart/alternative: the text
 * and the HTML part must both be signed directly above the quoted thread.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { HTML_MARKER_CLASS } from '../../../src/signing/index.js';
import { MARKER_LANGUAGES } from '../../../src/signing/reply-markers.js';
import { checkSignedMessage, signBuffer, TEST_SIGNATURE } from '../../corpus/invariants.js';

const fixtures = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../test/fixtures/signing/languages',
);
const BLOCK = `<div class="${HTML_MARKER_CLASS}">${TEST_SIGNATURE.html}</div>`;
const SIGNATURE_TEXT = TEST_SIGNATURE.text;

/** [fixture, marker kind, new text, first line of the text quote, start of the HTML quote] */
const CASES: [string, string, string, string, string][] = [
  [
    'en-attribution.eml',
    'attribution (Gmail; HTML apple)',
    'Noon works for me.',
    'On Mon, Jun 3, 2024 at 10:00 AM Bob Martin <bob@example.org> wrote:',
    '<div>On Mon, Jun 3, 2024 at 10:00 AM Bob Martin &lt;<a href="mailto:bob@example.org">bob@example.org</a>&gt; wrote:',
  ],
  [
    'en-outlook-header.eml',
    'Outlook header block',
    'Noon works for me.',
    'From: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>From',
  ],
  [
    'en-separator.eml',
    'original-message separator',
    'Noon works for me.',
    '-----Original Message-----',
    '<div>-------- Original Message --------',
  ],
  [
    'fr-attribution.eml',
    'attribution (Gmail; HTML roundcube)',
    'Midi me convient.',
    'Le lun. 3 juin 2024 à 10:00, Bob Martin <bob@example.org> a écrit\u00a0:',
    '<p id="reply-intro">',
  ],
  [
    'fr-outlook-header.eml',
    'Outlook header block',
    'Midi me convient.',
    'De\u00a0: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>De\u00a0',
  ],
  [
    'fr-separator.eml',
    'original-message separator',
    'Midi me convient.',
    "-----Message d'origine-----",
    '<div>-------- Message original --------',
  ],
  [
    'de-attribution.eml',
    'attribution (Gmail; HTML plain)',
    'Mittag passt mir.',
    'Am Mo., 3. Juni 2024 um 10:00 Uhr schrieb Bob Martin <bob@example.org>:',
    '<span style="font-family:Arial">',
  ],
  [
    'de-outlook-header.eml',
    'Outlook header block',
    'Mittag passt mir.',
    'Von: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Von',
  ],
  [
    'de-separator.eml',
    'original-message separator',
    'Mittag passt mir.',
    '-----Ursprüngliche Nachricht-----',
    '<div>-------- Original-Nachricht --------',
  ],
  [
    'es-attribution.eml',
    'attribution (Gmail; HTML apple)',
    'El mediodía me va bien.',
    'El lun, 3 jun 2024 a las 10:00, Bob Martin (<bob@example.org>) escribió:',
    '<div>El lun, 3 jun 2024 a las 10:00, Bob Martin (&lt;<a href="mailto:bob@example.org">bob@example.org</a>&gt;) escribió:',
  ],
  [
    'es-outlook-header.eml',
    'Outlook header block',
    'El mediodía me va bien.',
    'De: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>De',
  ],
  [
    'es-separator.eml',
    'original-message separator',
    'El mediodía me va bien.',
    '-----Mensaje original-----',
    '<div>-------- Mensaje original --------',
  ],
  [
    'it-attribution.eml',
    'attribution (Gmail; HTML roundcube)',
    'Mezzogiorno mi va bene.',
    'Il giorno lun 3 giu 2024 alle ore 10:00 Bob Martin <bob@example.org> ha scritto:',
    '<p id="reply-intro">',
  ],
  [
    'it-outlook-header.eml',
    'Outlook header block',
    'Mezzogiorno mi va bene.',
    'Da: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Da',
  ],
  [
    'it-separator.eml',
    'original-message separator',
    'Mezzogiorno mi va bene.',
    '-----Messaggio originale-----',
    '<div>-------- Messaggio originale --------',
  ],
  [
    'pt-attribution.eml',
    'attribution (Gmail; HTML plain)',
    'Meio-dia está ótimo.',
    'Em seg., 3 de jun. de 2024 às 10:00, Bob Martin <bob@example.org> escreveu:',
    '<span style="font-family:Arial">',
  ],
  [
    'pt-outlook-header.eml',
    'Outlook header block',
    'Meio-dia está ótimo.',
    'De: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>De',
  ],
  [
    'pt-separator.eml',
    'original-message separator',
    'Meio-dia está ótimo.',
    '-----Mensagem original-----',
    '<div>-------- Mensagem original --------',
  ],
  [
    'nl-attribution.eml',
    'attribution (Gmail; HTML apple)',
    'Twaalf uur past mij.',
    'Op ma 3 jun 2024 om 10:00 schreef Bob Martin <bob@example.org>:',
    '<div>Op ma 3 jun 2024 om 10:00 schreef Bob Martin &lt;<a href="mailto:bob@example.org">bob@example.org</a>&gt;:',
  ],
  [
    'nl-outlook-header.eml',
    'Outlook header block',
    'Twaalf uur past mij.',
    'Van: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Van',
  ],
  [
    'nl-separator.eml',
    'original-message separator',
    'Twaalf uur past mij.',
    '-----Oorspronkelijk bericht-----',
    '<div>-------- Oorspronkelijk bericht --------',
  ],
  [
    'pl-attribution.eml',
    'attribution (Thunderbird; HTML roundcube)',
    'Południe mi pasuje.',
    'W dniu 3.06.2024 o 10:00, Bob Martin pisze:',
    '<p id="reply-intro">',
  ],
  [
    'pl-outlook-header.eml',
    'Outlook header block',
    'Południe mi pasuje.',
    'Od: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Od',
  ],
  [
    'pl-separator.eml',
    'original-message separator',
    'Południe mi pasuje.',
    '-----Wiadomość oryginalna-----',
    '<div>--- Treść oryginalnej wiadomości ---',
  ],
  [
    'sv-attribution.eml',
    'attribution (Gmail; HTML plain)',
    'Lunch passar mig.',
    'Den mån 3 juni 2024 kl 10:00 skrev Bob Martin <bob@example.org>:',
    '<span style="font-family:Arial">',
  ],
  [
    'sv-outlook-header.eml',
    'Outlook header block',
    'Lunch passar mig.',
    'Från: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Från',
  ],
  [
    'sv-separator.eml',
    'original-message separator',
    'Lunch passar mig.',
    '-----Ursprungligt meddelande-----',
    '<div>-------- Ursprungligt meddelande --------',
  ],
  [
    'da-attribution.eml',
    'attribution (Apple Mail; HTML apple)',
    'Middag passer mig.',
    'Den 3. jun. 2024 kl. 10.00 skrev Bob Martin <bob@example.org>:',
    '<div>Den 3. jun. 2024 kl. 10.00 skrev Bob Martin &lt;<a href="mailto:bob@example.org">bob@example.org</a>&gt;:',
  ],
  [
    'da-outlook-header.eml',
    'Outlook header block',
    'Middag passer mig.',
    'Fra: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Fra',
  ],
  [
    'da-separator.eml',
    'original-message separator',
    'Middag passer mig.',
    '-----Oprindelig meddelelse-----',
    '<div>-------- Oprindelig meddelelse --------',
  ],
  [
    'nb-attribution.eml',
    'attribution (Gmail; HTML roundcube)',
    'Lunsj passer fint.',
    'man. 3. jun. 2024 kl. 10:00 skrev Bob Martin <bob@example.org>:',
    '<p id="reply-intro">',
  ],
  [
    'nb-outlook-header.eml',
    'Outlook header block',
    'Lunsj passer fint.',
    'Fra: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Fra',
  ],
  [
    'nb-separator.eml',
    'original-message separator',
    'Lunsj passer fint.',
    '-----Opprinnelig melding-----',
    '<div>-------- Opprinnelig melding --------',
  ],
  [
    'fi-attribution.eml',
    'attribution (Thunderbird; HTML plain)',
    'Keskipäivä sopii.',
    'Bob Martin kirjoitti 3.6.2024 klo 10.00:',
    '<span style="font-family:Arial">',
  ],
  [
    'fi-outlook-header.eml',
    'Outlook header block',
    'Keskipäivä sopii.',
    'Lähettäjä: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Lähettäjä',
  ],
  [
    'fi-separator.eml',
    'original-message separator',
    'Keskipäivä sopii.',
    '-----Alkuperäinen viesti-----',
    '<div>-------- Alkuperäinen viesti / Orig.Msg. --------',
  ],
  [
    'cs-attribution.eml',
    'attribution (Thunderbird; HTML apple)',
    'Poledne mi vyhovuje.',
    'Dne 03. 06. 24 v 10:00 Bob Martin napsal(a):',
    '<div>Dne 03. 06. 24 v 10:00 Bob Martin napsal(a):',
  ],
  [
    'cs-outlook-header.eml',
    'Outlook header block',
    'Poledne mi vyhovuje.',
    'Od: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Od',
  ],
  [
    'cs-separator.eml',
    'original-message separator',
    'Poledne mi vyhovuje.',
    '-----Původní zpráva-----',
    '<div>-------- Původní zpráva --------',
  ],
  [
    'hu-attribution.eml',
    'attribution (Gmail; HTML roundcube)',
    'A dél megfelel.',
    'Bob Martin <bob@example.org> ezt írta (időpont: 2024. jún. 3., H, 10:00):',
    '<p id="reply-intro">',
  ],
  [
    'hu-outlook-header.eml',
    'Outlook header block',
    'A dél megfelel.',
    'Feladó: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Feladó',
  ],
  [
    'hu-separator.eml',
    'original-message separator',
    'A dél megfelel.',
    '-----Eredeti üzenet-----',
    '<div>-------- Eredeti üzenet --------',
  ],
  [
    'tr-attribution.eml',
    'attribution (Gmail; HTML plain)',
    'Öğlen bana uyar.',
    'Bob Martin <bob@example.org>, 3 Haz 2024 Pzt, 10:00 tarihinde şunu yazdı:',
    '<span style="font-family:Arial">',
  ],
  [
    'tr-outlook-header.eml',
    'Outlook header block',
    'Öğlen bana uyar.',
    'Kimden: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Kimden',
  ],
  [
    'tr-separator.eml',
    'original-message separator',
    'Öğlen bana uyar.',
    '-----Özgün İleti-----',
    '<div>-------- Özgün İleti --------',
  ],
  [
    'ru-attribution.eml',
    'attribution (Gmail; HTML apple)',
    'Полдень мне подходит.',
    'пн, 3 июн. 2024 г. в 10:00, Bob Martin <bob@example.org>:',
    '<div>пн, 3 июн. 2024 г. в 10:00, Bob Martin &lt;<a href="mailto:bob@example.org">bob@example.org</a>&gt;:',
  ],
  [
    'ru-outlook-header.eml',
    'Outlook header block',
    'Полдень мне подходит.',
    'От: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>От',
  ],
  [
    'ru-separator.eml',
    'original-message separator',
    'Полдень мне подходит.',
    '-----Исходное сообщение-----',
    '<div>-------- Исходное сообщение --------',
  ],
  [
    'ja-attribution.eml',
    'attribution (Gmail; HTML roundcube)',
    '正午で大丈夫です。',
    '2024年6月3日(月) 10:00 Bob Martin <bob@example.org>:',
    '<p id="reply-intro">',
  ],
  [
    'ja-outlook-header.eml',
    'Outlook header block',
    '正午で大丈夫です。',
    '差出人: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>差出人',
  ],
  [
    'ja-separator.eml',
    'original-message separator',
    '正午で大丈夫です。',
    '-----Original Message-----',
    '<div>-------- 元のメッセージ --------',
  ],
  [
    'zh-attribution.eml',
    'attribution (Gmail; HTML plain)',
    '中午可以。',
    'Bob Martin <bob@example.org> 于2024年6月3日周一 10:00写道：',
    '<span style="font-family:Arial">',
  ],
  [
    'zh-outlook-header.eml',
    'Outlook header block',
    '中午可以。',
    '发件人：Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>发件人',
  ],
  [
    'zh-separator.eml',
    'original-message separator',
    '中午可以。',
    '-----原始邮件-----',
    '<div>-------- 原始消息 --------',
  ],
  [
    'ko-attribution.eml',
    'attribution (Gmail; HTML apple)',
    '정오 괜찮습니다.',
    '2024년 6월 3일 (월) 오전 10:00, Bob Martin <bob@example.org>님이 작성:',
    '<div>2024년 6월 3일 (월) 오전 10:00, Bob Martin &lt;<a href="mailto:bob@example.org">bob@example.org</a>&gt;님이 작성:',
  ],
  [
    'ko-outlook-header.eml',
    'Outlook header block',
    '정오 괜찮습니다.',
    '보낸 사람: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>보낸 사람',
  ],
  [
    'ko-separator.eml',
    'original-message separator',
    '정오 괜찮습니다.',
    '-----원본 메시지-----',
    '<div>--------    원본 메시지    --------',
  ],
  [
    'ca-attribution.eml',
    'attribution (Thunderbird; HTML roundcube)',
    'El migdia em va bé.',
    'El 3/6/24 a les 10:00, Bob Martin ha escrit:',
    '<p id="reply-intro">',
  ],
  [
    'ca-outlook-header.eml',
    'Outlook header block',
    'El migdia em va bé.',
    'De: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>De',
  ],
  [
    'ca-separator.eml',
    'original-message separator',
    'El migdia em va bé.',
    '-----Missatge original-----',
    '<div>-------- Missatge original --------',
  ],
  [
    'uk-attribution.eml',
    'attribution (Thunderbird; HTML plain)',
    'Опівдні мені зручно.',
    'Bob Martin написав:',
    '<span style="font-family:Arial">',
  ],
  [
    'uk-outlook-header.eml',
    'Outlook header block',
    'Опівдні мені зручно.',
    'Від: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Від',
  ],
  [
    'uk-separator.eml',
    'original-message separator',
    'Опівдні мені зручно.',
    '-----Початкове повідомлення-----',
    '<div>-------- Початкове повідомлення --------',
  ],
  [
    'el-attribution.eml',
    'attribution (Thunderbird; HTML apple)',
    'Το μεσημέρι μου κάνει.',
    'Στις 3/6/24 10:00, ο/η Bob Martin έγραψε:',
    '<div>Στις 3/6/24 10:00, ο/η Bob Martin έγραψε:',
  ],
  [
    'el-outlook-header.eml',
    'Outlook header block',
    'Το μεσημέρι μου κάνει.',
    'Από: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>Από',
  ],
  [
    'el-separator.eml',
    'original-message separator',
    'Το μεσημέρι μου κάνει.',
    '-----Αρχικό μήνυμα-----',
    '<div>-------- Αρχικό μήνυμα --------',
  ],
  [
    'ro-attribution.eml',
    'attribution (Gmail; HTML apple)',
    'Prânzul îmi convine.',
    'lun., 3 iun. 2024, 10:00 Bob Martin <bob@example.org> a scris:',
    '<div>lun., 3 iun. 2024, 10:00 Bob Martin &lt;<a href="mailto:bob@example.org">bob@example.org</a>&gt; a scris:',
  ],
  [
    'ro-outlook-header.eml',
    'Outlook header block',
    'Prânzul îmi convine.',
    'De la: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>De la',
  ],
  [
    'ro-separator.eml',
    'original-message separator',
    'Prânzul îmi convine.',
    '-----Mesaj original-----',
    '<div>-------- Mesaj original --------',
  ],
  [
    'ar-attribution.eml',
    'attribution (Apple, with direction marks; HTML apple)',
    'الظهر يناسبني.',
    '\u202bفي ٠٣\u200f/٠٦\u200f/٢٠٢٤ الساعة ١٠:٠٠ ص، كتب/كتبت \u200fBob Martin \u200f<bob@example.org>:\u202c',
    '<div dir="rtl">في ٠٣/٠٦/٢٠٢٤ الساعة ١٠:٠٠ ص، كتب/كتبت Bob Martin &lt;<a href="mailto:bob@example.org">bob@example.org</a>&gt;:',
  ],
  [
    'ar-outlook-header.eml',
    'Outlook header block (labels with direction marks)',
    'الظهر يناسبني.',
    'من: Bob Martin <bob@example.org>',
    '<div><font face="Calibri"><b>من',
  ],
  [
    'ar-separator.eml',
    'original-message separator',
    'الظهر يناسبني.',
    '-----الرسالة الأصلية-----',
    '<div>-------- الرسالة الأصلية --------',
  ],
];

/** The signature follows the new text and directly precedes the quote, exactly once. */
function assertAbove(body: string, signature: string, newText: string, quoteStart: string): void {
  const at = body.indexOf(signature);
  assert.ok(at >= 0, 'signature missing');
  assert.equal(body.indexOf(signature, at + 1), -1, 'signature twice');
  assert.ok(body.indexOf(newText) >= 0 && body.indexOf(newText) < at, 'signature above the new text');
  const after = body.slice(at + signature.length).trimStart();
  assert.ok(
    after.startsWith(quoteStart),
    `not directly above the quote: ${JSON.stringify(after.slice(0, 80))}`,
  );
}

void describe('localized quote markers', () => {
  for (const [file, kind, newText, textQuote, htmlQuote] of CASES) {
    void it(`${file}: ${kind} — text and HTML signed above the quote`, async () => {
      const input = fs.readFileSync(path.join(fixtures, file));
      const { decision, output } = await signBuffer(input, TEST_SIGNATURE, { chunkSize: 211 });
      assert.equal(decision.action, 'signed', decision.reason);
      assert.deepEqual(await checkSignedMessage(input, output, TEST_SIGNATURE), []);
      const parsed = await simpleParser(output);
      assertAbove((parsed.text ?? '').replace(/\r\n/g, '\n'), SIGNATURE_TEXT, newText, textQuote);
      assertAbove(typeof parsed.html === 'string' ? parsed.html : '', BLOCK, newText, htmlQuote);
    });
  }
});

/**
 * Languages added for issue 18 (Microsoft 365 ships Outlook in far more languages than the first
 * table had), written here rather than as fixture files: each is the three shapes above, built the
 * way the clients write them — Thunderbird's attribution (a `moz-cite-prefix` div in HTML), Outlook's
 * header block (bold labels in HTML, no marker tag) and Thunderbird's separator — from the words in
 * reply-markers.ts's sources, filled with our own text.
 */
interface Sample {
  lang: string;
  reply: string;
  attribution: string;
  /** From, Sent, To, Subject labels of Outlook's header block. */
  labels: [string, string, string, string];
  separator: string;
}

const SAMPLES: Sample[] = [
  {
    lang: 'he',
    reply: 'צהריים מתאים לי.',
    attribution: 'נכתב על ידי Bob Martin, ב־3.6.2024 בשעה 10:00:',
    labels: ['מאת', 'נשלח', 'אל', 'נושא'],
    separator: 'הודעה מקורית',
  },
  {
    lang: 'th',
    reply: 'เที่ยงสะดวกครับ',
    attribution: 'เมื่อ 3/6/2567 เวลา 10:00 Bob Martin เขียนว่า:',
    labels: ['จาก', 'ส่ง', 'ถึง', 'ชื่อเรื่อง'],
    separator: 'ข้อความต้นฉบับ',
  },
  {
    lang: 'vi',
    reply: 'Buổi trưa được đấy.',
    attribution: 'Vào lúc 10:00 3/6/2024, Bob Martin đã viết:',
    labels: ['Từ', 'Đã gửi', 'Đến', 'Chủ đề'],
    separator: 'Thư gốc',
  },
  {
    lang: 'id',
    reply: 'Siang cocok untuk saya.',
    attribution: 'Pada 03/06/24 10.00, Bob Martin menulis:',
    labels: ['Dari', 'Dikirim', 'Kepada', 'Subjek'],
    separator: 'Pesan Asli',
  },
  {
    lang: 'ms',
    reply: 'Tengah hari sesuai untuk saya.',
    attribution: 'Pada 03/06/24 10:00, Bob Martin membalas:',
    labels: ['Daripada', 'Dihantar', 'Kepada', 'Subjek'],
    separator: 'Mesej Asal',
  },
  {
    lang: 'sk',
    reply: 'Obed mi vyhovuje.',
    attribution: 'Dňa 3. 6. 2024 o 10:00 Bob Martin napísal(a):',
    labels: ['Od', 'Odoslané', 'Komu', 'Predmet'],
    separator: 'Pôvodná správa',
  },
  {
    lang: 'sl',
    reply: 'Opoldne mi ustreza.',
    attribution: 'Bob Martin je 3. 06. 2024 ob 10:00 napisal:',
    labels: ['Od', 'Poslano', 'Za', 'Zadeva'],
    separator: 'Izvirno sporočilo',
  },
  {
    lang: 'hr',
    reply: 'Podne mi odgovara.',
    attribution: '3.6.2024. u 10:00, Bob Martin piše:',
    labels: ['Šalje', 'Poslano', 'Prima', 'Predmet'],
    separator: 'Izvorna poruka',
  },
  {
    lang: 'sr',
    reply: 'Подне ми одговара.',
    attribution: 'Дана 3.6.2024. у 10:00, Bob Martin пише:',
    labels: ['Од', 'Послато', 'За', 'Тема'],
    separator: 'Изворна порука',
  },
  {
    lang: 'bg',
    reply: 'Обедът ми е удобен.',
    attribution: 'На 3.06.2024 г. в 10:00, Bob Martin написа:',
    labels: ['От', 'Изпратено', 'До', 'Относно'],
    separator: 'Оригинално писмо',
  },
  {
    lang: 'lt',
    reply: 'Vidurdienis man tinka.',
    attribution: '2024-06-03 10:00, Bob Martin rašė:',
    labels: ['Nuo', 'Išsiųsta', 'Kam', 'Tema'],
    separator: 'Originalus laiškas',
  },
  {
    lang: 'lv',
    reply: 'Pusdienlaiks man der.',
    attribution: '03.06.2024 10:00 Bob Martin rakstīja:',
    labels: ['No', 'Nosūtīts', 'Kam', 'Tēma'],
    separator: 'Sākotnējā vēstule',
  },
  {
    lang: 'et',
    reply: 'Keskpäev sobib mulle.',
    attribution: '03.06.2024 10:00 Bob Martin kirjutas:',
    labels: ['Saatja', 'Saadetud', 'Adressaat', 'Teema'],
    separator: 'Algne kiri',
  },
  {
    lang: 'hi',
    reply: 'दोपहर मेरे लिए ठीक है।',
    attribution: '3 जून 2024, 10:00 को Bob Martin <bob@example.org> ने लिखा:',
    labels: ['प्रेषक', 'भेजा गया', 'प्रति', 'विषय'],
    separator: 'मूल संदेश',
  },
  {
    lang: 'fa',
    reply: 'ظهر برای من مناسب است.',
    attribution: 'در تاریخ ۳ ژوئن ۲۰۲۴ ساعت 10:00، Bob Martin <bob@example.org> نوشت:',
    labels: ['از', 'ارسال شده', 'به', 'موضوع'],
    separator: 'پیام اصلی',
  },
  {
    lang: 'is',
    reply: 'Hádegi hentar mér.',
    attribution: 'Þann 3.6.2024 10:00, skrifaði Bob Martin:',
    labels: ['Frá', 'Sent', 'Til', 'Efni'],
    separator: 'Upprunalegur póstur',
  },
  {
    lang: 'eu',
    reply: 'Eguerdia ondo datorkit.',
    attribution: '2024/06/03 10:00(e)an, Bob Martin igorleak idatzi zuen:',
    labels: ['Nork', 'Noiz', 'Nori', 'Gaia'],
    separator: 'Jatorrizko mezua',
  },
  {
    lang: 'gl',
    reply: 'O mediodía vénme ben.',
    attribution: 'O 03/06/2024 ás 10:00, Bob Martin escribiu:',
    labels: ['De', 'Enviado', 'Para', 'Asunto'],
    separator: 'Mensaxe orixinal',
  },
  {
    lang: 'kk',
    reply: 'Түс маған ыңғайлы.',
    attribution: '03.06.2024 10:00 уақытында, Bob Martin жазған:',
    labels: ['Кімнен', 'Жіберілді', 'Кімге', 'Тақырып'],
    separator: 'Түпнұсқа хабарламасы',
  },
  {
    lang: 'nn',
    reply: 'Middag passar fint.',
    attribution: 'Den 03.06.2024 10:00, skreiv Bob Martin:',
    labels: ['Frå', 'Sendt', 'Til', 'Emne'],
    separator: 'Opphavleg melding',
  },
];

const QUESTION = 'Can we meet at noon on Tuesday?';

function message(text: string, html: string): Buffer {
  return Buffer.from(
    'From: Alice Tester <alice@contoso.com>\r\nTo: Bob Martin <bob@example.org>\r\nSubject: RE: Train\r\n' +
      'Date: Mon, 03 Jun 2024 10:05:00 +0000\r\nMessage-ID: <languages@contoso.com>\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n--alt\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
      `${text}\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n` +
      `<html><body>${html}</body></html>\r\n--alt--\r\n`,
  );
}

/** [name, message, new text, first line of the text quote, start of the HTML quote] */
function shapes(s: Sample): [string, Buffer, string, string, string][] {
  const [from, sent, to, subject] = s.labels;
  const header = [
    `${from}: Bob Martin <bob@example.org>`,
    `${sent}: 3.6.2024 10:00`,
    `${to}: Alice Tester <alice@contoso.com>`,
    `${subject}: RE: Train`,
  ];
  const htmlHeader = header.map((line) => line.replace(/^([^:]+):/u, '<b>$1:</b>')).join('<br>');
  const mine = `<div>${s.reply}</div><div>Alice</div><div><br></div>`;
  return [
    [
      `${s.lang} attribution (Thunderbird)`,
      message(
        `${s.reply}\r\n\r\nAlice\r\n\r\n${s.attribution}\r\n> ${QUESTION}\r\n`,
        `${mine}<div class="moz-cite-prefix">${s.attribution.replace(/</gu, '&lt;').replace(/>/gu, '&gt;')}<br></div>` +
          `<blockquote type="cite"><div>${QUESTION}</div></blockquote>`,
      ),
      s.reply,
      s.attribution,
      '<div class="moz-cite-prefix">',
    ],
    [
      `${s.lang} Outlook header block`,
      message(
        `${s.reply}\r\n\r\nAlice\r\n\r\n${header.join('\r\n')}\r\n\r\n${QUESTION}\r\n`,
        `${mine}<div><font face="Calibri">${htmlHeader}<br></font></div><div>${QUESTION}</div>`,
      ),
      s.reply,
      header[0] ?? '',
      `<div><font face="Calibri"><b>${from}`,
    ],
    [
      `${s.lang} original-message separator`,
      message(
        `${s.reply}\r\n\r\nAlice\r\n\r\n-----${s.separator}-----\r\n${header.join('\r\n')}\r\n\r\n${QUESTION}\r\n`,
        `${mine}<div>-------- ${s.separator} --------<br><table><tr><td>${from}: Bob Martin ` +
          `&lt;bob@example.org&gt;</td></tr></table><br><div>${QUESTION}</div></div>`,
      ),
      s.reply,
      `-----${s.separator}-----`,
      `<div>-------- ${s.separator}`,
    ],
  ];
}

void describe('localized quote markers of the languages added for held-out shapes', () => {
  for (const sample of SAMPLES) {
    for (const [name, input, newText, textQuote, htmlQuote] of shapes(sample)) {
      void it(`${name} — text and HTML signed above the quote`, async () => {
        const { decision, output } = await signBuffer(input, TEST_SIGNATURE, { chunkSize: 211 });
        assert.equal(decision.action, 'signed', decision.reason);
        assert.deepEqual(await checkSignedMessage(input, output, TEST_SIGNATURE), []);
        const parsed = await simpleParser(output);
        assertAbove((parsed.text ?? '').replace(/\r\n/g, '\n'), SIGNATURE_TEXT, newText, textQuote);
        assertAbove(typeof parsed.html === 'string' ? parsed.html : '', BLOCK, newText, htmlQuote);
      });
    }
  }

  void it('every language of the table has its samples, in a fixture file or here', () => {
    const covered = new Set([
      ...CASES.map(([file]) => file.slice(0, file.indexOf('-'))),
      ...SAMPLES.map((s) => s.lang),
    ]);
    assert.deepEqual([...MARKER_LANGUAGES].sort(), [...covered].sort());
    assert.ok(MARKER_LANGUAGES.length >= 40);
  });
});
