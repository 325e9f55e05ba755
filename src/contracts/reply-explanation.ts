/**
 * One entry of the Exchange reply catalogue (src/exchange/replies.ts), as the server uses it and the
 * console shows it beside the raw reply. Shared with the console's browser build: imports nothing.
 */
export interface ReplyExplanation {
  /** Stable key: groups retrying messages by reason, anchors in docs/deploy.md. */
  id: string;
  title: string;
  /** True when sending the same message again cannot succeed until the admin changes something. */
  permanent: boolean;
  /** What it means for mail going through sigrelay. */
  meaning: string;
  /** What the admin does. */
  remedy: string;
  source: string;
  /** False when `source` is not a Microsoft page (no Microsoft page was found for this reply). */
  microsoft: boolean;
}
