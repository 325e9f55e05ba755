import { PassThrough, Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { ConfigError } from '../config/index.js';
import { messageTypeOf, type ContentStore } from '../content/index.js';
import { HTML_MARKER_CLASS, signMessage, type InlineImage, type ResolveSignature } from '../signing/index.js';
import type { ConfigEditor } from './config-editor.js';
import {
  clientShapes,
  type ClientConversation,
  type ClientShape,
  type DirectoryUserHit,
  type MessageType,
  type PreviewRequest,
  type PreviewResponse,
} from './contract.js';
import { clientLabels, conversationMime, type ConversationParties } from './conversations.js';
import { fail } from './http.js';

const messageTypes: readonly MessageType[] = ['new', 'reply', 'forward'];
const externalRecipient = { address: 'megan.bowen@fabrikam.example', name: 'Megan Bowen' };

/**
 * The signature studio's preview: a (possibly unsaved) template laid over the configuration, the
 * signature decided by the real rules, and the real engine (`signMessage`, the code the functions
 * run) signing a sample conversation in each client's reply shape.
 */
export class PreviewService {
  constructor(
    private readonly editor: ConfigEditor,
    private readonly processedHeader: string,
  ) {}

  async preview(raw: unknown): Promise<PreviewResponse> {
    const request = parseRequest(raw);
    const now = request.at ? new Date(request.at) : undefined;
    const drafts = new Map<string, Buffer | null>(
      Object.entries(request.drafts ?? {}).map(([name, content]) => [name, Buffer.from(content, 'utf8')]),
    );
    let store = await this.editor.draft(drafts);
    const sender = request.sender.toLowerCase();
    const tenant = store.tenants.forAddress(sender);
    if (request.template && tenant) {
      // "Show me this template": a first rule that gives it to this sender, through the same rule engine.
      const rulesPath = `${tenant.folder ? `${tenant.folder}/` : ''}rules.json`;
      const saved = drafts.get(rulesPath) ?? (await this.editor.current()).get(rulesPath);
      const rules = saved ? (JSON.parse(saved.toString('utf8')) as unknown[]) : [];
      const forced = { name: '(preview)', template: request.template, senders: [sender] };
      drafts.set(rulesPath, Buffer.from(JSON.stringify([forced, ...rules])));
      store = await this.editor.draft(drafts);
    }
    const recipients = this.recipients(store, sender, request.recipient);
    let explanation;
    try {
      explanation = await store.preview({ sender, recipients, messageType: request.messageType, now });
    } catch (err) {
      if (err instanceof ConfigError) {
        const body = this.editor.describe(err);
        throw fail(422, 'invalid-config', body.error, body);
      }
      throw err;
    }
    const { resolution } = explanation;
    const resolve: ResolveSignature = now
      ? async (facts) =>
          (
            await store.preview({
              sender: facts.from ?? facts.sender,
              recipients: facts.recipients,
              messageType: messageTypeOf(facts),
              now,
            })
          ).resolution
      : store.resolve;
    const parties: ConversationParties = {
      sender: { address: sender, name: explanation.user ?? sender },
      recipient:
        request.recipient === 'internal'
          ? { address: recipients[0] ?? sender, name: 'Sam Colleague' }
          : { address: recipients[0] ?? externalRecipient.address, name: externalRecipient.name },
    };
    const conversations: ClientConversation[] = [];
    for (const client of request.clients ?? clientShapes)
      conversations.push(await this.conversation(client, request.messageType, parties, recipients, resolve));
    const lastError = (await this.editor.status()).lastError;
    return {
      ...(explanation.tenant ? { tenant: explanation.tenant } : {}),
      ...(explanation.user ? { user: explanation.user } : {}),
      ...(explanation.audience ? { audience: explanation.audience } : {}),
      messageType: request.messageType,
      rules: explanation.verdicts,
      result:
        resolution.action === 'sign'
          ? {
              action: 'sign',
              rule: resolution.content.rule,
              template: resolution.content.template,
              placement: resolution.content.placement,
            }
          : resolution,
      ...(resolution.action === 'sign'
        ? {
            signature: {
              html: withDataUris(resolution.content.html, resolution.content.images),
              text: resolution.content.text,
            },
          }
        : {}),
      conversations,
      ...(lastError ? { configError: lastError } : {}),
    };
  }

  /** Users by name or address, for the sender picker. */
  async searchUsers(query: string, limit = 20): Promise<DirectoryUserHit[]> {
    const store = await this.editor.draft(new Map());
    const q = query.trim().toLowerCase();
    const hits: DirectoryUserHit[] = [];
    const seen = new Set<unknown>();
    for (const tenant of store.tenants.tenants) {
      const { users } = store.contentFor(tenant);
      if (seen.has(users)) continue;
      seen.add(users);
      for (const user of users.users) {
        const address = (user.mail ?? user.userPrincipalName ?? '').toLowerCase();
        if (!address) continue;
        const haystack = [
          address,
          user.displayName,
          user.givenName,
          user.surname,
          ...(user.proxyAddresses ?? []),
        ]
          .filter((s): s is string => typeof s === 'string')
          .map((s) => s.toLowerCase());
        if (q && !haystack.some((s) => s.includes(q))) continue;
        const owner = store.tenants.forAddress(address) ?? tenant;
        hits.push({
          address,
          ...(user.displayName ? { displayName: user.displayName } : {}),
          ...(user.jobTitle ? { jobTitle: user.jobTitle } : {}),
          ...(user.department ? { department: user.department } : {}),
          tenantId: owner.id,
          tenantName: owner.name,
          scope: tenant.folder ?? '',
        });
        if (hits.length >= limit) return hits;
      }
    }
    return hits;
  }

  private recipients(store: ContentStore, sender: string, recipient: PreviewRequest['recipient']): string[] {
    if (typeof recipient === 'object') return recipient.addresses.map((a) => a.toLowerCase());
    const tenant = store.tenants.forAddress(sender);
    if (recipient === 'internal') {
      const domain = tenant?.domains[0] ?? sender.split('@')[1] ?? 'example.com';
      return [`sam.colleague@${domain}`];
    }
    return [
      tenant && store.tenants.isInternal(tenant, externalRecipient.address)
        ? 'someone@external.example'
        : externalRecipient.address,
    ];
  }

  private async conversation(
    client: ClientShape,
    type: MessageType,
    parties: ConversationParties,
    recipients: string[],
    resolve: ResolveSignature,
  ): Promise<ClientConversation> {
    const input = conversationMime(client, type, parties);
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (c: Buffer) => chunks.push(c));
    const decision = await signMessage(Readable.from([input]), output, resolve, {
      sender: parties.sender.address,
      recipients,
      processedHeader: this.processedHeader,
    });
    // Only a signed message's output is the message; otherwise it goes out as it came.
    const parsed = await simpleParser(decision.action === 'signed' ? Buffer.concat(chunks) : input);
    const images = parsed.attachments
      .filter((a) => a.cid)
      .map((a) => ({
        cid: a.cid ?? '',
        contentType: a.contentType,
        filename: a.filename ?? '',
        content: a.content,
      }));
    const html = withDataUris(typeof parsed.html === 'string' ? parsed.html : '', images);
    return {
      client,
      label: clientLabels[client],
      decision: { action: decision.action, reason: decision.reason },
      html,
      text: parsed.text ?? '',
      signatureCount: html.split(`class="${HTML_MARKER_CLASS}"`).length - 1,
    };
  }
}

/** cid: references as data: URIs, so the sandboxed iframe shows the images without any request. */
function withDataUris(html: string, images: readonly InlineImage[]): string {
  let out = html;
  for (const image of images)
    out = out
      .split(`cid:${image.cid}`)
      .join(`data:${image.contentType};base64,${image.content.toString('base64')}`);
  return out;
}

function parseRequest(raw: unknown): PreviewRequest {
  const body = (raw ?? {}) as Partial<PreviewRequest> & Record<string, unknown>;
  if (typeof body.sender !== 'string' || !body.sender.includes('@'))
    throw fail(400, 'bad-request', 'expected "sender": the address to preview for', { field: 'sender' });
  if (!messageTypes.includes(body.messageType as MessageType))
    throw fail(400, 'bad-request', 'expected "messageType": new, reply or forward', { field: 'messageType' });
  const r = body.recipient;
  const recipientOk =
    r === 'internal' ||
    r === 'external' ||
    (typeof r === 'object' &&
      r !== null &&
      Array.isArray(r.addresses) &&
      r.addresses.length > 0 &&
      r.addresses.every((a) => typeof a === 'string' && a.includes('@')));
  if (!recipientOk)
    throw fail(400, 'bad-request', 'expected "recipient": internal, external or { addresses: [...] }', {
      field: 'recipient',
    });
  if (body.drafts !== undefined) {
    if (typeof body.drafts !== 'object' || body.drafts === null || Array.isArray(body.drafts))
      throw fail(400, 'bad-request', 'expected "drafts": { path: content }', { field: 'drafts' });
    for (const [name, content] of Object.entries(body.drafts))
      if (typeof content !== 'string')
        throw fail(400, 'bad-request', `draft ${name} must be text`, { field: `drafts.${name}` });
  }
  if (
    body.template !== undefined &&
    (typeof body.template !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(body.template))
  )
    throw fail(400, 'bad-request', 'expected "template": a template name (templates/<name>.html)', {
      field: 'template',
    });
  if (
    body.clients !== undefined &&
    (!Array.isArray(body.clients) || !body.clients.every((c) => clientShapes.includes(c)))
  )
    throw fail(400, 'bad-request', `expected "clients" among ${clientShapes.join(', ')}`, {
      field: 'clients',
    });
  if (body.at !== undefined && (typeof body.at !== 'string' || Number.isNaN(Date.parse(body.at))))
    throw fail(400, 'bad-request', 'expected "at": an ISO date-time', { field: 'at' });
  return body as PreviewRequest;
}
