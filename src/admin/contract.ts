/**
 * The admin console's HTTP contract: every route under `/api/admin`, what it takes and what it
 * answers. The browser app (console/) and the server (src/admin) both import these types, so a change
 * here is a change for both: after the first release of this file, change it only additively.
 *
 * Conventions
 * - JSON in and out (`content-type: application/json`), UTF-8.
 * - Every write (POST, PUT, DELETE) must carry the header `X-Sigrelay-Console: 1` (CSRF: a page on
 *   another origin cannot set a custom header without a CORS preflight, which we never allow).
 * - Auth: 401 `unauthenticated` without a sign-in, 403 `forbidden` without the admin role.
 * - Files are named by their path relative to the configuration root, `/`-separated, exactly as in
 *   the configuration directory / the `config` container: `rules.json`, `templates/corporate.html`,
 *   `tenants/northwind/templates/sales.html`, `tenants/northwind/images/logo.png`.
 * - A "scope" is a folder whose users.json, rules.json, templates/ and images/ belong together: `''`
 *   (the root, for tenants without a `folder`) or a tenant's `folder` (`tenants/northwind`).
 * - Optimistic concurrency: reads return `etag` (also as the `ETag` header); saves send it back as
 *   `If-Match`. A stale `If-Match` answers 412 `conflict` and nothing is written. `If-None-Match: *`
 *   creates a file that must not exist yet. A save without either answers 428.
 * - Times are ISO 8601 strings in UTC.
 * - Types the server's own modules also use live in src/contracts/ files without imports (named in
 *   console/tsconfig.json), re-exported here, so there is one definition for both sides.
 */
import type { DeadLetter } from '../contracts/dead-letter.js';
import type { ReplyExplanation } from '../contracts/reply-explanation.js';
import type { RecentActivity, ServiceStatus } from '../contracts/service-status.js';

export type { DeadLetter } from '../contracts/dead-letter.js';
export {
  oldestMessageLimitSeconds,
  type RecentActivity,
  type RetryReason,
  type ServiceStatus,
  type TenantDirectoryStatus,
} from '../contracts/service-status.js';

/** The header every write must carry (value `1`). */
export const csrfHeader = 'x-sigrelay-console';

/** Where the console and its API live. */
export const consoleBase = '/admin';
export const apiBase = '/api/admin';

// ---------------------------------------------------------------------------------------------
// Errors

export type ErrorCode =
  | 'bad-request' // 400: the request itself is malformed (missing field, wrong type)
  | 'unauthenticated' // 401
  | 'forbidden' // 403: signed in, but not an admin
  | 'csrf' // 403: a write without the X-Sigrelay-Console header
  | 'not-found' // 404
  | 'conflict' // 409 (replay already done) or 412 (stale If-Match)
  | 'precondition-required' // 428: a save without If-Match / If-None-Match
  | 'too-large' // 413: an upload over the limit
  | 'invalid-config' // 422: the configuration would not load; names file + field or line
  | 'unavailable'; // 503: storage or the console build is not there

/** Every non-2xx answer has this body. */
export interface ApiError {
  error: string;
  code: ErrorCode;
  /** The configuration file at fault, relative to the configuration root (`templates/sales.html`). */
  file?: string;
  /** The JSON path inside the file (`[2].senders[0]`), for JSON files. */
  field?: string;
  /** The 1-based line in a template, for Liquid errors and cid: references. */
  line?: number;
  /** On 412: the file's current ETag, so the UI can offer "reload" / "show theirs". */
  currentEtag?: string;
}

// ---------------------------------------------------------------------------------------------
// Who is signed in

export type AuthMode = 'easyauth' | 'dev';

/** GET /api/admin/me → 200 Me, or 401 ApiError & { signIn: SignInHint } */
export interface Me {
  name: string;
  /** Stable id: Entra object id in Azure, `dev:<name>` locally. */
  id: string;
  roles: string[];
  isAdmin: boolean;
  mode: AuthMode;
}

/** Part of the 401 body: how to sign in. */
export interface SignInHint {
  mode: AuthMode;
  /** Easy Auth: `/.auth/login/aad?post_login_redirect_uri=/admin`; dev: POST /api/admin/dev/signin. */
  url: string;
}
export type UnauthenticatedError = ApiError & { signIn: SignInHint };

/**
 * POST /api/admin/dev/signin → 204 + HttpOnly SameSite=Strict cookie. Only when the dev sign-in is
 * enabled (SIGRELAY_PROFILE=local set explicitly, as `npm start` does); 404 otherwise. `admin: false` signs in a
 * user without the admin role (to see the 403 pages).
 */
export interface DevSignInRequest {
  name: string;
  admin?: boolean;
}
/** POST /api/admin/dev/signout → 204, cookie cleared. */

// ---------------------------------------------------------------------------------------------
// Configuration files

export type FileKind = 'tenants' | 'users' | 'rules' | 'template-html' | 'template-text' | 'image';

export interface ConfigFileInfo {
  path: string;
  kind: FileKind;
  size: number;
  etag: string;
}

export interface ScopeInfo {
  /** `''` for the root, else the tenant folder (`tenants/northwind`). */
  scope: string;
  /** Tenants whose messages use this scope. */
  tenants: { id: string; name: string }[];
  files: ConfigFileInfo[];
  /** Template names (file name without .html) in this scope. */
  templates: string[];
}

/** GET /api/admin/config → 200 ConfigOverview */
export interface ConfigOverview {
  /** `directory` locally (SIGRELAY_CONFIG), `blob` in Azure (the `config` container). */
  source: 'directory' | 'blob';
  /** The directory path or `config` container name. */
  location: string;
  scopes: ScopeInfo[];
  status: ConfigStatus;
}

export interface ConfigStatus {
  /** Short hash of the configuration this process signs with. */
  versionInService: string;
  /** When this process took it into service. */
  loadedAt: string;
  /** The newer configuration that failed to load (the last good one stays in service), if any. */
  lastError?: ApiError;
}

/**
 * GET /api/admin/config/files/{*path} → 200 ConfigFile (+ ETag header). Text files (json, html,
 * txt) come as `encoding: 'utf8'`, images as `base64`.
 */
export interface ConfigFile {
  path: string;
  kind: FileKind;
  encoding: 'utf8' | 'base64';
  content: string;
  etag: string;
}

/**
 * PUT /api/admin/config/files/{*path} with If-Match (or If-None-Match: *) → 200 SaveResult.
 * The whole configuration is loaded with the change by the same loaders the service uses; if it
 * fails: 422 `invalid-config` naming the file and field/line, and nothing is written.
 * Images: `encoding: 'base64'`, png/jpeg/gif/webp only (checked by content, not only the name), at
 * most `imageMaxBytes`; 413 above.
 */
export interface SaveFileRequest {
  content: string;
  encoding?: 'utf8' | 'base64';
  /** HTML templates only: inline the `<style>` CSS into style attributes (juice) before saving. */
  inlineCss?: boolean;
}
export interface SaveResult {
  path: string;
  etag: string;
  /** The version id this save created (see versions). */
  version: string;
  /** The configuration version in service after the save (this process). */
  versionInService: string;
  /** For inlineCss saves: the content as saved. */
  content?: string;
}

/** DELETE /api/admin/config/files/{*path} with If-Match → 200 { path, version }; 422 if the rest needs it. */
export interface DeleteResult {
  path: string;
  version: string;
}

export const imageMaxBytes = 512 * 1024;

/** What a template says to use an uploaded image (returned by the PUT of an image under images/). */
export interface ImageUse {
  /** `cid:logo.png`: embedded in every message as an inline part. */
  embedded: string;
  /** An https URL when the console knows where images are hosted (SIGRELAY_IMAGE_BASE_URL), else absent. */
  hosted?: string;
}
export type SaveImageResult = SaveResult & { use: ImageUse };

// ---------------------------------------------------------------------------------------------
// Versions and rollback

/** GET /api/admin/config/versions?path=<path> → 200 VersionList (newest first, at most `versionsKept`). */
export interface VersionInfo {
  version: string;
  path: string;
  at: string;
  by: string;
  /** SHA-256 (hex) of the content; `deleted` versions have none. */
  sha256?: string;
  size: number;
  action: 'save' | 'delete' | 'rollback' | 'original';
}
export interface VersionList {
  path: string;
  versions: VersionInfo[];
}
export const versionsKept = 20;

/** GET /api/admin/config/version?path=<path>&version=<id> → 200 ConfigFile (etag: the version's content hash). */

/**
 * POST /api/admin/config/rollback with If-Match (the file's current ETag) → 200 SaveResult.
 * Validated like a save: a version that no longer fits the rest of the configuration answers 422.
 */
export interface RollbackRequest {
  path: string;
  version: string;
}

// ---------------------------------------------------------------------------------------------
// Preview (signature studio)

export type MessageType = 'new' | 'reply' | 'forward';
export type ClientShape = 'outlook-desktop' | 'owa' | 'gmail' | 'apple-mail' | 'thunderbird';
export const clientShapes: readonly ClientShape[] = [
  'outlook-desktop',
  'owa',
  'gmail',
  'apple-mail',
  'thunderbird',
];

/**
 * POST /api/admin/preview → 200 PreviewResponse, 422 `invalid-config` (the unsaved template's Liquid
 * error with `file` and `line`), 400 for a malformed request.
 */
export interface PreviewRequest {
  sender: string;
  /** `internal`: a colleague in the sender's tenant; `external`: someone outside; or explicit addresses. */
  recipient: 'internal' | 'external' | { addresses: string[] };
  messageType: MessageType;
  /**
   * Unsaved edits laid over the saved configuration for this preview only: path → content
   * (`tenants/northwind/templates/sales.html` → '<table>…'). Usually the template being edited.
   */
  drafts?: Record<string, string>;
  /**
   * `rules` (default): the template the rules give this sender; `template`: render this template
   * (name under the sender's scope, e.g. `sales`) whatever the rules say.
   */
  template?: string;
  /** Which client shapes to render; all five when absent. */
  clients?: ClientShape[];
  /** Evaluate dates (rules, banners) at this instant instead of now. */
  at?: string;
}

export interface PreviewResponse {
  tenant?: string;
  user?: string;
  audience?: 'internal' | 'external';
  messageType: MessageType;
  /** Every rule's verdict, in order. */
  rules: { rule: string; matched: boolean; reason?: string }[];
  /** What the rules decided: sign with rule/template, or skip with the reason. */
  result:
    | { action: 'sign'; rule: string; template: string; placement: 'underReply' | 'bottom' }
    | { action: 'skip'; reason: string; rule?: string };
  /** The signature alone; absent when skipped. `html` has images as data: URIs for the iframe. */
  signature?: { html: string; text: string };
  /** The signed message in each client's reply shape, as the real engine produced it. */
  conversations: ClientConversation[];
  /** A newer saved configuration that fails to load, reported beside the answer. */
  configError?: ApiError;
}

export interface ClientConversation {
  client: ClientShape;
  /** Human name: "Outlook (desktop)", "Outlook on the web / new Outlook", … */
  label: string;
  /** What the engine did with this sample message (`signed`, or skipped with its reason). */
  decision: { action: 'signed' | 'skipped' | 'failed'; reason: string };
  /**
   * The whole signed HTML body, cid: images replaced by data: URIs. Show it in
   * `<iframe sandbox srcdoc=…>` (no allow-scripts): it is mail content.
   */
  html: string;
  /** The text/plain part as signed. */
  text: string;
  /** How many times the signature appears in the HTML (must be 1 for a signed message). */
  signatureCount: number;
}

/** GET /api/admin/directory/users?q=<text>[&limit=20] → 200 DirectoryUserHit[] (name or address contains q). */
export interface DirectoryUserHit {
  address: string;
  displayName?: string;
  jobTitle?: string;
  department?: string;
  tenantId: string;
  tenantName: string;
  scope: string;
}

// ---------------------------------------------------------------------------------------------
// Template tools

/** POST /api/admin/templates/compat { html } → 200 CompatReport (caniemail data). */
export interface CompatRequest {
  html: string;
  /** caniemail client ids/globs (`gmail.*`, `outlook.windows`); a default set of major clients when absent. */
  clients?: string[];
}
export interface CompatIssue {
  /** `error`: not supported by some client; `warning`: partial support or a note. */
  severity: 'error' | 'warning';
  /** caniemail's feature title, e.g. "<style> element", "CSS display:flex". */
  feature: string;
  /** The clients concerned (`outlook.windows`, `gmail.android`, …). */
  clients: string[];
  message: string;
}
export interface CompatReport {
  clients: string[];
  errors: CompatIssue[];
  warnings: CompatIssue[];
}

/** POST /api/admin/templates/inline-css { html } → 200 { html } (juice; Liquid tags kept as written). */
export interface InlineCssRequest {
  html: string;
}
export interface InlineCssResponse {
  html: string;
}

// ---------------------------------------------------------------------------------------------
// Rules

/** A rule as written in rules.json (see docs/configuration.md); unknown fields are refused on save. */
export interface RuleJson {
  name: string;
  template: string;
  tenants?: string[];
  senders?: string[];
  recipients?: 'any' | 'internal' | 'external';
  messageTypes?: MessageType[];
  from?: string;
  until?: string;
  placement?: 'underReply' | 'bottom';
  replyVariant?: string;
  banner?: BannerJson;
}
export interface BannerJson {
  template: string;
  from?: string;
  until?: string;
  link?: string;
  image?: string;
}

/** GET /api/admin/rules?scope=<scope> → 200 RulesDocument (+ ETag: the rules.json ETag; '' if absent). */
export interface RulesDocument {
  scope: string;
  path: string;
  etag: string;
  rules: RuleJson[];
}

/**
 * PUT /api/admin/rules?scope=<scope> with If-Match → 200 SaveResult (reorder = the same rules in a new
 * order). 422 names `field` like `[2].senders[0]` (file: the rules.json path).
 * POST /api/admin/rules/validate?scope=<scope> { rules } → 200 { ok: true } or 422: the same check, no save.
 */
export interface SaveRulesRequest {
  rules: RuleJson[];
}

/** What one user gets for one kind of message. */
export interface WhoGetsWhatCell {
  action: 'sign' | 'skip';
  rule?: string;
  template?: string;
  /** Skip reason (`no-rule`, `reply-variant-none`, …). */
  reason?: string;
  /** A campaign banner is added (full signatures in their window only). */
  banner?: string;
}
export interface WhoGetsWhatRow {
  address: string;
  displayName?: string;
  tenantName: string;
  internalNew: WhoGetsWhatCell;
  internalReply: WhoGetsWhatCell;
  externalNew: WhoGetsWhatCell;
  externalReply: WhoGetsWhatCell;
}
/**
 * GET /api/admin/rules/who-gets-what?scope=<scope>[&at=<iso>] → 200 WhoGetsWhat, computed by the
 * rule engine over the scope's users. POST the same route with { rules } to see an unsaved order.
 */
export interface WhoGetsWhat {
  scope: string;
  at: string;
  rows: WhoGetsWhatRow[];
}
export interface WhoGetsWhatRequest {
  rules?: RuleJson[];
  at?: string;
}

// ---------------------------------------------------------------------------------------------
// Campaign banners

export interface Campaign {
  scope: string;
  /** The rule the banner rides on. */
  rule: string;
  banner: BannerJson;
  status: 'scheduled' | 'active' | 'ended';
  /** Users who get it on a new message right now (empty unless active), internal and external. */
  activeFor: { internal: string[]; external: string[] };
}
/** GET /api/admin/campaigns[?at=<iso>] → 200 { at, campaigns: Campaign[] } over every scope. */
export interface CampaignList {
  at: string;
  campaigns: Campaign[];
}
/**
 * PUT /api/admin/campaigns with If-Match (the scope's rules.json ETag) → 200 SaveResult: sets or
 * (banner: null) removes the banner of one rule. Validated like a rules save.
 */
export interface SaveCampaignRequest {
  scope: string;
  rule: string;
  banner: BannerJson | null;
}

// ---------------------------------------------------------------------------------------------
// Messages: trace, dead letters, replay

export type TraceEventName =
  | 'received'
  | 'signed'
  | 'skipped'
  | 'failed'
  | 'delivery-attempt'
  | 'delivered'
  | 'dsn-sent'
  | 'dead-lettered'
  | 'deleted'
  | 'missing'
  | 'replayed'
  | 'restarted'
  | 'handed-over'
  /** The sender's Sent Items copy was replaced with the signed message (or why not). */
  | 'sent-items';

/**
 * GET /api/admin/messages?id=<id>|sender=<address>[&from=<iso>][&to=<iso>][&limit=100]
 * → 200 MessageSummary[] newest first. Without `from`, the last 24 hours. No content is ever stored.
 */
export interface MessageSummary {
  id: string;
  sender?: string;
  receivedAt?: string;
  /** The last event seen: `deleted` after a delivery, `dead-lettered`, … */
  lastEvent: TraceEventName;
  state: 'in-progress' | 'delivered' | 'dead-lettered' | 'unknown';
  events: number;
}

export interface TimelineEntry {
  at: string;
  event: TraceEventName;
  /** One line a person reads: "signed with corporate (rule corporate)", "250 2.0.0 OK from 127.0.0.1:2526". */
  summary: string;
  details: Record<string, unknown>;
  /** What the endpoint's reply means and what to do (src/exchange/replies.ts), for a failure it recognises. */
  explanation?: ReplyExplanationJson;
}
/** One entry of the Exchange reply catalogue, as the console shows it beside the raw reply. */
export type ReplyExplanationJson = Omit<ReplyExplanation, 'microsoft'>;
/** GET /api/admin/messages/{id} → 200 MessageTimeline, 404 when nothing is traced for the id. */
export interface MessageTimeline {
  id: string;
  sender?: string;
  state: MessageSummary['state'];
  timeline: TimelineEntry[];
  /** Present while the message is a dead letter. */
  deadLetter?: DeadLetter;
}

/** GET /api/admin/deadletters → 200 DeadLetter[] (oldest first). */

/**
 * POST /api/admin/deadletters/{id}/replay { confirm: <the same id> } → 202 ReplayResult.
 * 400 when `confirm` is not the id; 404 no such dead letter; 409 `conflict` when it was already
 * replayed (a second click never delivers twice).
 */
export interface ReplayRequest {
  confirm: string;
}
export interface ReplayResult {
  id: string;
  replayed: true;
}

// ---------------------------------------------------------------------------------------------
// Health

/**
 * GET /api/admin/health → 200 Health: the operators' read-model (src/status), exactly what
 * `sigrelay status --json` prints for the same storage, plus what only the console's own process
 * knows: the trace's last hour and the configuration it has in service.
 */
export interface Health extends ServiceStatus {
  /** What needs an operator, one sentence each; empty when all is well (the CLI exits 1 otherwise). */
  attention: string[];
  lastHour: RecentActivity;
  config: ConfigStatus;
}

// ---------------------------------------------------------------------------------------------
// Doctor

/** One finding of the connection doctor (src/doctor/check.ts), as `sigrelay doctor --json` prints it. */
export interface DoctorCheck {
  /** `front`, or the tenant's id. */
  scope: string;
  /** Short stable name (`return-leg.session`, `certificate.client.expiry`). */
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  /** What was found: names, dates, the endpoint's reply. Never message content. */
  detail: string;
  /** What the admin does; absent when there is nothing to do. */
  remedy?: string;
  /** The Exchange reply catalogue's explanation of the endpoint's answer, when there is one. */
  explanation?: string;
  /** The Microsoft page the explanation comes from. */
  source?: string;
}

/**
 * POST /api/admin/doctor[?tenant=<tenant id>] (with the CSRF header) → 200 DoctorReport: the checks of `sigrelay doctor`
 * (the same shape as its `--json`), run when asked — a real SMTP session to each tenant's endpoint
 * that sends nothing, each bounded in time. 404 `not-found` for an unknown tenant.
 */
export interface DoctorReport {
  at: string;
  /** 0 all well, 1 warnings, 2 failures (the command's exit code). */
  exitCode: number;
  checks: DoctorCheck[];
}

// ---------------------------------------------------------------------------------------------
// Audit

export interface AuditEntry {
  at: string;
  /** Display name and id of who did it. */
  by: string;
  byId: string;
  /** `config.save`, `config.delete`, `config.rollback`, `rules.save`, `campaign.save`, `deadletter.replay`. */
  action: string;
  /** The file path or message id. */
  target: string;
  /** SHA-256 (hex) of the content before and after; absent where there was none. */
  beforeSha256?: string;
  afterSha256?: string;
  /** Extra facts (version id, scope); never message content. */
  detail?: Record<string, string>;
}
/** GET /api/admin/audit[?limit=100][&before=<iso>] → 200 AuditEntry[] newest first. */

// ---------------------------------------------------------------------------------------------
// The route table

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under the site root; `{name}` one segment, `{*name}` the rest of the path. */
  path: string;
  /** Writes need the admin role, the CSRF header, and are audited. */
  write: boolean;
  summary: string;
}

export const routes = {
  me: { method: 'GET', path: '/api/admin/me', write: false, summary: 'who is signed in' },
  devSignIn: {
    method: 'POST',
    path: '/api/admin/dev/signin',
    write: true,
    summary: 'local dev sign-in (cookie); 404 unless enabled',
  },
  devSignOut: {
    method: 'POST',
    path: '/api/admin/dev/signout',
    write: true,
    summary: 'clear the dev cookie',
  },
  config: { method: 'GET', path: '/api/admin/config', write: false, summary: 'scopes, files, status' },
  readFile: {
    method: 'GET',
    path: '/api/admin/config/files/{*path}',
    write: false,
    summary: 'one file + ETag',
  },
  saveFile: {
    method: 'PUT',
    path: '/api/admin/config/files/{*path}',
    write: true,
    summary: 'validated save with If-Match',
  },
  deleteFile: {
    method: 'DELETE',
    path: '/api/admin/config/files/{*path}',
    write: true,
    summary: 'validated delete with If-Match',
  },
  versions: {
    method: 'GET',
    path: '/api/admin/config/versions',
    write: false,
    summary: '?path= the last versions of a file',
  },
  version: {
    method: 'GET',
    path: '/api/admin/config/version',
    write: false,
    summary: '?path=&version= one old version',
  },
  rollback: {
    method: 'POST',
    path: '/api/admin/config/rollback',
    write: true,
    summary: 'restore a version (If-Match)',
  },
  preview: {
    method: 'POST',
    path: '/api/admin/preview',
    write: false,
    summary: 'signed sample conversations per client',
  },
  directory: {
    method: 'GET',
    path: '/api/admin/directory/users',
    write: false,
    summary: '?q= sender picker search',
  },
  compat: {
    method: 'POST',
    path: '/api/admin/templates/compat',
    write: false,
    summary: 'caniemail compatibility report',
  },
  inlineCss: {
    method: 'POST',
    path: '/api/admin/templates/inline-css',
    write: false,
    summary: 'juice CSS inlining',
  },
  rules: { method: 'GET', path: '/api/admin/rules', write: false, summary: '?scope= rules + ETag' },
  saveRules: {
    method: 'PUT',
    path: '/api/admin/rules',
    write: true,
    summary: '?scope= validated save (If-Match)',
  },
  validateRules: {
    method: 'POST',
    path: '/api/admin/rules/validate',
    write: false,
    summary: '?scope= check without saving',
  },
  whoGetsWhat: {
    method: 'GET',
    path: '/api/admin/rules/who-gets-what',
    write: false,
    summary: '?scope= users × rule/template',
  },
  whoGetsWhatDraft: {
    method: 'POST',
    path: '/api/admin/rules/who-gets-what',
    write: false,
    summary: '?scope= the same for unsaved rules',
  },
  campaigns: {
    method: 'GET',
    path: '/api/admin/campaigns',
    write: false,
    summary: 'banners and who gets them',
  },
  saveCampaign: {
    method: 'PUT',
    path: '/api/admin/campaigns',
    write: true,
    summary: "set/remove a rule's banner (If-Match)",
  },
  messages: { method: 'GET', path: '/api/admin/messages', write: false, summary: 'trace search' },
  message: { method: 'GET', path: '/api/admin/messages/{id}', write: false, summary: 'one timeline' },
  deadLetters: { method: 'GET', path: '/api/admin/deadletters', write: false, summary: 'dead letters' },
  replay: {
    method: 'POST',
    path: '/api/admin/deadletters/{id}/replay',
    write: true,
    summary: 'replay once, with confirmation',
  },
  health: {
    method: 'GET',
    path: '/api/admin/health',
    write: false,
    summary: 'queue, retries, config status',
  },
  doctor: {
    method: 'POST',
    path: '/api/admin/doctor',
    write: false,
    summary: '?tenant= the connection doctor, on demand',
  },
  audit: { method: 'GET', path: '/api/admin/audit', write: false, summary: 'who changed what' },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof routes;
