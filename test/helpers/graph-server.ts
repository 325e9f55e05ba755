import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/identity';

export interface GraphUser {
  id: string;
  [key: string]: unknown;
}

export interface StoredItem {
  id: string;
  isDraft: boolean;
  subject?: string;
  body?: { contentType: string; content: string };
  sentDateTime?: string;
  receivedDateTime?: string;
  toRecipients?: unknown[];
  ccRecipients?: unknown[];
  bccRecipients?: unknown[];
  from?: unknown;
  internetMessageId?: string;
  singleValueExtendedProperties: { id: string; value: string }[];
  attachments: {
    name: string;
    contentType: string;
    content: Buffer;
    contentId?: string;
    isInline: boolean;
  }[];
}

/** One tenant as the server sees it: its directory, its mailboxes, and the faults to inject. */
export class TenantGraph {
  users: GraphUser[] = [];
  groups: Record<string, { id: string; members: string[] }> = {};
  /** The tenant's domains (`GET /domains`), as Graph lists them. */
  domains: { id: string; isVerified: boolean }[] = [];
  photos = new Map<string, Buffer>();
  /** Sent Items per mailbox (lower-case address). */
  sentItems = new Map<string, StoredItem[]>();
  /** Answer every request with this status (401 consent withdrawn, 403 missing role). */
  failWith: number | undefined;
  /** Never answer (a timeout). */
  hang = false;
  /** The next N requests get 429 with this Retry-After (seconds). */
  throttleNext = 0;
  retryAfterSeconds = 1;
  /** The next N Sent Items lookups by Message-ID answer 404 (a mailbox Exchange has not finished provisioning). */
  notFoundLookups = 0;
  requests: string[] = [];

  sentItemsOf(mailbox: string): StoredItem[] {
    const key = mailbox.toLowerCase();
    let list = this.sentItems.get(key);
    if (!list) this.sentItems.set(key, (list = []));
    return list;
  }
}

/** A credential that presents the tenant's own token, so the server knows whose request it serves. */
export function tenantToken(tenantId: string): TokenCredential {
  return {
    getToken: () =>
      Promise.resolve({
        token: `token-${tenantId}`,
        expiresOnTimestamp: Date.now() + 3_600_000,
      } as AccessToken),
  };
}

const extendedFilter = /^singleValueExtendedProperties\/Any\(ep: ep\/id eq '(.+)' and ep\/value eq '(.+)'\)$/;

/**
 * A Microsoft Graph shaped server on 127.0.0.1 for several tenants at once (each known by its
 * token): users and delta, groups and transitive members, domains, photos (`/users/{id}/photos/{size}/$value`),
 * and Sent Items (lookup by internetMessageId or extended property, create with extended properties,
 * attachments incl. upload sessions, PATCH, DELETE). Faults per tenant: 401/403, 429, hanging.
 */
export class GraphServer {
  readonly tenants = new Map<string, TenantGraph>();
  /**
   * The tenant whose token the managed-identity endpoint hands out (App Service's protocol, the one
   * `ManagedIdentityCredential` uses when IDENTITY_ENDPOINT and IDENTITY_HEADER are set): a process
   * of the local loop gets real tokens from it without any secret.
   */
  managedIdentityTenant: string | undefined;
  readonly identityHeader = 'sigrelay-test-identity';
  base = '';
  private origin = '';
  private nextId = 1;
  private readonly uploads = new Map<
    string,
    { tenant: TenantGraph; item: StoredItem; meta: Record<string, unknown>; chunks: Buffer[]; size: number }
  >();
  private readonly hanging = new Set<http.ServerResponse>();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
  });

  tenant(id: string): TenantGraph {
    let t = this.tenants.get(id);
    if (!t) this.tenants.set(id, (t = new TenantGraph()));
    return t;
  }

  /** IDENTITY_ENDPOINT and IDENTITY_HEADER for a child process that should use this server's identity. */
  identityEnv(): Record<string, string> {
    return { IDENTITY_ENDPOINT: `${this.origin}/msi/token`, IDENTITY_HEADER: this.identityHeader };
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.base = `${this.origin}/v1.0`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    const send = (status: number, value?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(value === undefined ? undefined : JSON.stringify(value));
    };
    const upload = /^\/upload\/(.+)$/.exec(url.pathname);
    if (upload?.[1]) return this.uploadChunk(upload[1], req, body, send);
    if (url.pathname === '/msi/token') {
      const tenant = this.managedIdentityTenant;
      if (req.headers['x-identity-header'] !== this.identityHeader || !tenant)
        return send(401, { error: 'invalid_request', error_description: 'no managed identity here' });
      return send(200, {
        access_token: `token-${tenant}`,
        expires_on: String(Math.floor(Date.now() / 1000) + 3600),
        resource: url.searchParams.get('resource'),
        token_type: 'Bearer',
      });
    }

    const token = /^Bearer token-(.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const tenant = token ? this.tenants.get(token) : undefined;
    if (!tenant)
      return send(401, { error: { code: 'InvalidAuthenticationToken', message: 'unknown token' } });
    tenant.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (tenant.hang) {
      this.hanging.add(res);
      return;
    }
    if (tenant.failWith)
      return send(tenant.failWith, {
        error: {
          code: tenant.failWith === 403 ? 'Authorization_RequestDenied' : 'InvalidAuthenticationToken',
          message: 'denied',
        },
      });
    if (tenant.throttleNext > 0) {
      tenant.throttleNext--;
      return send(
        429,
        { error: { code: 'TooManyRequests', message: 'slow down' } },
        { 'retry-after': String(tenant.retryAfterSeconds) },
      );
    }
    const route = url.pathname.replace(/^\/v1\.0/, '');
    const method = req.method ?? 'GET';
    const json = () => JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;

    if (route === '/users') return send(200, { value: tenant.users.map((u) => select(u, url)) });
    if (route === '/domains') return send(200, { value: tenant.domains });
    if (route === '/users/delta') {
      return send(200, { value: [], '@odata.deltaLink': `${this.base}/users/delta?$deltatoken=t1` });
    }
    if (route === '/groups') {
      const name = /^displayName eq '(.*)'$/.exec(url.searchParams.get('$filter') ?? '')?.[1];
      const group = name ? tenant.groups[name] : undefined;
      return send(200, { value: group ? [{ id: group.id, displayName: name }] : [] });
    }
    const members = /^\/groups\/([^/]+)\/transitiveMembers\/microsoft\.graph\.user$/.exec(route);
    if (members) {
      const group = Object.values(tenant.groups).find((g) => g.id === members[1]);
      return send(200, { value: (group?.members ?? []).map((id) => ({ id })) });
    }
    const photo = /^\/users\/([^/]+)\/photos\/(\d+)x\2\/\$value$/.exec(route);
    if (photo) {
      const content = tenant.photos.get(decodeURIComponent(photo[1] ?? ''));
      if (!content) return send(404, { error: { code: 'ImageNotFound', message: 'no photo' } });
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(content);
      return;
    }
    const folder = /^\/users\/([^/]+)\/mailFolders\/sentitems\/messages$/.exec(route);
    if (folder) {
      const items = tenant.sentItemsOf(decodeURIComponent(folder[1] ?? ''));
      if (method === 'GET') {
        if (tenant.notFoundLookups > 0 && url.searchParams.get('$filter')?.startsWith('internetMessageId')) {
          tenant.notFoundLookups--;
          return send(404, { error: { code: 'ErrorItemNotFound', message: 'not found' } });
        }
        return send(200, { value: this.find(items, url) });
      }
      const input = json();
      const properties =
        (input.singleValueExtendedProperties as StoredItem['singleValueExtendedProperties']) ?? [];
      const flags = properties.find((p) => p.id.toLowerCase() === 'integer 0x0e07')?.value;
      const submit = properties.find((p) => p.id.toLowerCase() === 'systemtime 0x0039')?.value;
      const delivery = properties.find((p) => p.id.toLowerCase() === 'systemtime 0x0e06')?.value;
      const item: StoredItem = {
        ...(input as Partial<StoredItem>),
        id: `item-${this.nextId++}`,
        // Exchange: without PidTagMessageFlags set on create, a created item is a draft for ever.
        isDraft: flags === undefined || (Number(flags) & 8) !== 0,
        sentDateTime: submit,
        receivedDateTime: delivery,
        singleValueExtendedProperties: properties.filter((p) => !/^(integer|systemtime) /i.test(p.id)),
        attachments: [],
      };
      items.push(item);
      return send(201, { id: item.id });
    }
    const attachments = /^\/users\/([^/]+)\/messages\/([^/]+)\/attachments(\/createUploadSession)?$/.exec(
      route,
    );
    if (attachments && method === 'POST') {
      const item = tenant
        .sentItemsOf(decodeURIComponent(attachments[1] ?? ''))
        .find((i) => i.id === attachments[2]);
      if (!item) return send(404, { error: { code: 'ErrorItemNotFound', message: 'no item' } });
      const input = json();
      if (attachments[3]) {
        const meta = input.AttachmentItem as Record<string, unknown>;
        const key = `u${this.nextId++}`;
        this.uploads.set(key, { tenant, item, meta, chunks: [], size: Number(meta.size) });
        return send(201, { uploadUrl: `${this.origin}/upload/${key}` });
      }
      item.attachments.push({
        name: String(input.name),
        contentType: String(input.contentType),
        content: Buffer.from(String(input.contentBytes), 'base64'),
        contentId: input.contentId as string | undefined,
        isInline: input.isInline === true,
      });
      return send(201, { id: `att-${this.nextId++}` });
    }
    const message = /^\/users\/([^/]+)\/messages\/([^/]+)$/.exec(route);
    if (message) {
      const items = tenant.sentItemsOf(decodeURIComponent(message[1] ?? ''));
      const index = items.findIndex((i) => i.id === message[2]);
      if (index < 0) return send(404, { error: { code: 'ErrorItemNotFound', message: 'no item' } });
      const item = items[index] as StoredItem;
      if (method === 'DELETE') {
        items.splice(index, 1);
        return send(204);
      }
      if (method === 'PATCH') {
        for (const p of (json()
          .singleValueExtendedProperties as StoredItem['singleValueExtendedProperties']) ?? []) {
          const existing = item.singleValueExtendedProperties.find(
            (e) => e.id.toLowerCase() === p.id.toLowerCase(),
          );
          if (existing) existing.value = p.value;
          else item.singleValueExtendedProperties.push(p);
        }
        return send(200, { id: item.id });
      }
    }
    send(400, { error: { code: 'BadRequest', message: `no route ${method} ${route}` } });
  }

  private find(items: StoredItem[], url: URL): unknown[] {
    const filter = url.searchParams.get('$filter') ?? '';
    const byMessageId = /^internetMessageId eq '(.*)'$/.exec(filter)?.[1]?.replace(/''/g, "'");
    const byProperty = extendedFilter.exec(filter);
    const matched = items.filter((i) =>
      byMessageId !== undefined
        ? i.internetMessageId === byMessageId
        : byProperty
          ? i.singleValueExtendedProperties.some(
              (p) => p.id.toLowerCase() === byProperty[1]?.toLowerCase() && p.value === byProperty[2],
            )
          : true,
    );
    const expanded = [...(url.searchParams.get('$expand') ?? '').matchAll(/id eq '([^']+)'/g)].map((m) =>
      m[1]?.toLowerCase(),
    );
    return matched.map((i) => {
      const { attachments: _a, singleValueExtendedProperties, ...rest } = i;
      const props = singleValueExtendedProperties.filter((p) => expanded.includes(p.id.toLowerCase()));
      return { ...rest, ...(props.length > 0 && { singleValueExtendedProperties: props }) };
    });
  }

  private uploadChunk(
    key: string,
    req: http.IncomingMessage,
    body: Buffer,
    send: (status: number, value?: unknown) => void,
  ): void {
    const upload = this.uploads.get(key);
    if (!upload || req.headers.authorization)
      return send(401, { error: { code: 'Unauthorized', message: 'upload URLs take no token' } });
    upload.chunks.push(body);
    const received = upload.chunks.reduce((n, c) => n + c.length, 0);
    if (received < upload.size) return send(200, { nextExpectedRanges: [`${received}-`] });
    upload.item.attachments.push({
      name: String(upload.meta.name),
      contentType: String(upload.meta.contentType),
      content: Buffer.concat(upload.chunks),
      contentId: upload.meta.contentId as string | undefined,
      isInline: upload.meta.isInline === true,
    });
    this.uploads.delete(key);
    send(201);
  }
}

function select(user: GraphUser, url: URL): GraphUser {
  const fields = url.searchParams.get('$select')?.split(',');
  if (!fields) return user;
  return Object.fromEntries(
    Object.entries(user).filter(([k]) => fields.includes(k) || k === 'id'),
  ) as GraphUser;
}
