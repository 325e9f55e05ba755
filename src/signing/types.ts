/**
 * The contract between the signature engine (src/signing), which edits MIME, and the signature
 * content (src/content), which decides what a given message's signature says. The engine reads the
 * root headers, asks `ResolveSignature` once, and then either signs or leaves the message alone.
 */

/** An image the signature embeds as an inline `cid:` part. */
export interface InlineImage {
  /** Content-ID without angle brackets; the HTML refers to it as `cid:<cid>`. */
  cid: string;
  contentType: string;
  filename: string;
  content: Buffer;
}

/** A rendered signature, ready to insert. */
export interface SignatureContent {
  /** Name of the template (and variant) used, reported in decisions and traces. */
  template: string;
  /** Name of the rule that matched. */
  rule: string;
  html: string;
  text: string;
  images: InlineImage[];
  placement: 'underReply' | 'bottom';
}

/** What the engine knows about a message when it asks for the signature: envelope + root headers. */
export interface MessageFacts {
  /** Envelope sender (MAIL FROM), lower-cased. */
  sender: string;
  /** Envelope recipients (RCPT TO), lower-cased. */
  recipients: string[];
  /** Address from the From header, lower-cased, when parseable. */
  from?: string;
  /** Decoded Subject (used for reply/forward prefixes only; never logged or stored). */
  subject?: string;
  inReplyTo?: string;
  references?: string;
  /** Every root header, lower-cased name → raw values (unfolded). */
  headers: ReadonlyMap<string, string[]>;
}

export type SignatureResolution =
  { action: 'sign'; content: SignatureContent } | { action: 'skip'; reason: string; rule?: string };

export type ResolveSignature = (facts: MessageFacts) => Promise<SignatureResolution>;

/** What the engine did with one message. */
export interface SignDecision {
  action: 'signed' | 'skipped' | 'failed';
  /** Machine-friendly reason: `signed`, `smime`, `calendar`, `no-rule`, `already-signed`, `engine-error: …` */
  reason: string;
  template?: string;
  rule?: string;
  bytesIn: number;
  bytesOut: number;
}
