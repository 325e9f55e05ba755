/**
 * The signature engine's public door: stream a raw message through `signMessage`, get the signed
 * message on the output and a decision back. Host-agnostic: used by the orchestration activity,
 * the CLI, the local host and the tests alike.
 */
export { signMessage, DEFAULT_PROCESSED_HEADER, type SignOptions } from './sign-message.js';
export { HTML_MARKER_CLASS } from './placement.js';
export { envelopeFromHeaders } from './message-facts.js';
export type {
  InlineImage,
  MessageFacts,
  ResolveSignature,
  SignatureContent,
  SignatureResolution,
  SignDecision,
} from './types.js';
