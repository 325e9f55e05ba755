import type { GraphClient } from '../content/graph/index.js';
import { GraphError } from '../content/graph/index.js';

/** sigrelay's named-property set: marks the copies it created so a retry finds them. */
const propertySet = '{5b1e6a3c-7d24-4f0e-9c8b-2a6f1d9e4c73}';
export const copyOfProperty = `String ${propertySet} Name SigrelayCopyOf`;
export const copyStateProperty = `String ${propertySet} Name SigrelayCopyState`;
/** PidTagMessageFlags: 1 (read) without MSGFLAG_UNSENT makes a created item a sent message, not a draft. Settable on create only. */
const messageFlags = 'Integer 0x0E07';
/** PidTagClientSubmitTime and PidTagMessageDeliveryTime: the dates Outlook shows as Sent. */
const submitTime = 'SystemTime 0x0039';
const deliveryTime = 'SystemTime 0x0E06';

interface Recipient {
  emailAddress: { name?: string; address: string };
}

export interface MailItem {
  id: string;
  subject?: string | null;
  sentDateTime?: string | null;
  receivedDateTime?: string | null;
  toRecipients?: Recipient[];
  ccRecipients?: Recipient[];
  bccRecipients?: Recipient[];
  replyTo?: Recipient[];
  from?: Recipient | null;
  importance?: string;
  internetMessageId?: string;
  singleValueExtendedProperties?: { id: string; value: string }[];
}

export interface NewAttachment {
  name: string;
  contentType: string;
  content: Buffer;
  contentId?: string;
  isInline: boolean;
}

/** Graph's limit for an attachment sent in one request; larger ones go through an upload session. */
export const inlineAttachmentLimit = 3 * 1024 * 1024;
const uploadChunk = 320 * 1024 * 10;

const itemFields =
  'id,subject,sentDateTime,receivedDateTime,toRecipients,ccRecipients,bccRecipients,replyTo,from,importance,internetMessageId';

/** The Sent Items calls the worker makes, in one mailbox. */
export class Mailbox {
  private readonly graph: GraphClient;
  private readonly base: string;

  constructor(graph: GraphClient, mailbox: string) {
    this.graph = graph;
    this.base = `/users/${encodeURIComponent(mailbox)}`;
  }

  /** Every Sent Items item with this Message-ID, with sigrelay's marker when it is our copy. */
  async findByMessageId(internetMessageId: string): Promise<MailItem[]> {
    const filter = encodeURIComponent(`internetMessageId eq '${internetMessageId.replace(/'/g, "''")}'`);
    const expand = encodeURIComponent(
      `singleValueExtendedProperties($filter=id eq '${copyOfProperty}' or id eq '${copyStateProperty}')`,
    );
    const page = await this.graph.get<{ value: MailItem[] }>(
      `${this.base}/mailFolders/sentitems/messages?$filter=${filter}&$select=${itemFields}&$expand=${expand}`,
    );
    return page.value;
  }

  /** Our copies of a message, whatever Message-ID Exchange gave them. */
  async findCopies(messageId: string): Promise<MailItem[]> {
    const filter = encodeURIComponent(
      `singleValueExtendedProperties/Any(ep: ep/id eq '${copyOfProperty}' and ep/value eq '${messageId}')`,
    );
    const expand = encodeURIComponent(`singleValueExtendedProperties($filter=id eq '${copyStateProperty}')`);
    const page = await this.graph.get<{ value: MailItem[] }>(
      `${this.base}/mailFolders/sentitems/messages?$filter=${filter}&$select=id&$expand=${expand}`,
    );
    return page.value;
  }

  /**
   * Creates the signed copy in Sent Items as a sent message with the original's dates, recipients
   * and sender, marked `pending` until its attachments are in.
   */
  async createCopy(
    original: MailItem,
    messageId: string,
    body: { contentType: 'html' | 'text'; content: string },
  ): Promise<string> {
    const sent = original.sentDateTime ?? original.receivedDateTime ?? new Date().toISOString();
    const created = await this.graph.request<{ id: string }>(`${this.base}/mailFolders/sentitems/messages`, {
      method: 'POST',
      json: {
        subject: original.subject ?? '',
        body,
        toRecipients: original.toRecipients ?? [],
        ccRecipients: original.ccRecipients ?? [],
        bccRecipients: original.bccRecipients ?? [],
        replyTo: original.replyTo ?? [],
        ...(original.from && { from: original.from }),
        importance: original.importance ?? 'normal',
        ...(original.internetMessageId && { internetMessageId: original.internetMessageId }),
        isRead: true,
        singleValueExtendedProperties: [
          { id: messageFlags, value: '1' },
          { id: submitTime, value: sent },
          { id: deliveryTime, value: original.receivedDateTime ?? sent },
          { id: copyOfProperty, value: messageId },
          { id: copyStateProperty, value: 'pending' },
        ],
      },
    });
    if (!created?.id) throw new GraphError(0, 'NoId', 'creating the Sent Items copy returned no id');
    return created.id;
  }

  async addAttachment(itemId: string, attachment: NewAttachment): Promise<void> {
    const path = `${this.base}/messages/${encodeURIComponent(itemId)}/attachments`;
    if (attachment.content.length <= inlineAttachmentLimit) {
      await this.graph.request(path, {
        method: 'POST',
        json: {
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: attachment.name,
          contentType: attachment.contentType,
          contentBytes: attachment.content.toString('base64'),
          isInline: attachment.isInline,
          ...(attachment.contentId && { contentId: attachment.contentId }),
        },
      });
      return;
    }
    const session = await this.graph.request<{ uploadUrl: string }>(`${path}/createUploadSession`, {
      method: 'POST',
      json: {
        AttachmentItem: {
          attachmentType: 'file',
          name: attachment.name,
          size: attachment.content.length,
          contentType: attachment.contentType,
          isInline: attachment.isInline,
          ...(attachment.contentId && { contentId: attachment.contentId }),
        },
      },
    });
    if (!session?.uploadUrl)
      throw new GraphError(0, 'NoUploadUrl', 'createUploadSession returned no uploadUrl');
    await uploadInChunks(session.uploadUrl, attachment.content);
  }

  async markDone(itemId: string): Promise<void> {
    await this.graph.request(`${this.base}/messages/${encodeURIComponent(itemId)}`, {
      method: 'PATCH',
      json: { singleValueExtendedProperties: [{ id: copyStateProperty, value: 'done' }] },
    });
  }

  /** Deletes an item; one already gone counts as deleted. */
  async delete(itemId: string): Promise<void> {
    try {
      await this.graph.request(`${this.base}/messages/${encodeURIComponent(itemId)}`, { method: 'DELETE' });
    } catch (err) {
      if (err instanceof GraphError && err.status === 404) return;
      throw err;
    }
  }
}

/** The upload URL is pre-authorised (no bearer token), as Graph documents for upload sessions. */
async function uploadInChunks(url: string, content: Buffer): Promise<void> {
  for (let start = 0; start < content.length; start += uploadChunk) {
    const end = Math.min(content.length, start + uploadChunk);
    const response = await fetch(url, {
      method: 'PUT',
      headers: {
        'content-length': String(end - start),
        'content-range': `bytes ${start}-${end - 1}/${content.length}`,
        'content-type': 'application/octet-stream',
      },
      body: content.subarray(start, end),
    });
    if (!response.ok)
      throw new GraphError(response.status, 'UploadFailed', `attachment upload answered ${response.status}`);
    await response.body?.cancel();
  }
}

export function markerOf(item: MailItem, property: string): string | undefined {
  return item.singleValueExtendedProperties?.find((p) => p.id.toLowerCase() === property.toLowerCase())
    ?.value;
}
