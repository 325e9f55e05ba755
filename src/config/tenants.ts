import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, parseWith } from './config-error.js';

const guid = z
  .string()
  .regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    'expected a GUID (the Entra tenant id)',
  )
  .transform((s) => s.toLowerCase());
const domain = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$/,
    'expected a domain name',
  )
  .transform((s) => s.toLowerCase());

/**
 * Where a tenant's signed mail goes back to. tenants.json is data the console edits, so it may only
 * name the tenant's own Exchange Online endpoint: anything else would let whoever edits it route a
 * tenant's mail (over our certified connection) to a host of their choosing. A different endpoint
 * (the local stand-in, a test server) is a deployment setting, SIGRELAY_DELIVERY_HOST.
 */
const exchangeOnlineEndpoint = z
  .string()
  .regex(
    /^(?=.{1,253}$)(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+mail\.protection\.outlook\.com$/,
    'expected <tenant>.mail.protection.outlook.com; another endpoint is a deployment setting (SIGRELAY_DELIVERY_HOST), not tenant data',
  )
  .transform((s) => s.toLowerCase());

/**
 * A certificate file named in tenants.json: a relative path that stays inside the configuration
 * directory, where the deployment puts it (the console can write only JSON, templates and images
 * there). An absolute path or `..` would let an edit of tenants.json present any file as the
 * tenant's client certificate.
 */
const certificatePath = z
  .string()
  .min(1)
  .refine(
    (p) => !path.isAbsolute(p) && !path.win32.isAbsolute(p) && !p.split(/[\\/]/).includes('..'),
    'expected a path relative to the configuration directory, without ".."; the default certificate is a deployment setting (SIGRELAY_DELIVERY_CLIENT_CERT / _KEY)',
  );

/** Where a secret comes from: a Key Vault secret (production) or an environment variable (local runs). */
const secretSource = z.union([
  z
    .object({ keyVault: z.string().regex(/^[0-9a-zA-Z-]{1,127}$/, 'expected a Key Vault secret name') })
    .strict(),
  z
    .object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') })
    .strict(),
]);

/**
 * The identity one tenant's Graph calls use. A multi-tenant app registration consented in each
 * customer tenant is `client-secret` or `client-certificate` with the same `clientId` (and secret) in
 * every tenant entry: the token is requested from the tenant's own authority. `managed-identity` only
 * works for the tenant the Function App lives in (the home tenant).
 */
export const graphCredentialSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('managed-identity'), clientId: guid.optional() }).strict(),
  z.object({ type: z.literal('client-secret'), clientId: guid, secret: secretSource }).strict(),
  z
    .object({
      type: z.literal('client-certificate'),
      clientId: guid,
      /** PEM (certificate + private key), as Key Vault returns a PEM certificate's secret. */
      certificate: secretSource,
    })
    .strict(),
]);

export type GraphCredentialConfig = z.infer<typeof graphCredentialSchema>;

const graphProperty = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'expected a Graph user property name');

/** Graph's stored photo sizes (profilePhoto); the sync asks for the smallest one not below `size`. */
export const graphPhotoSizes = [48, 64, 96, 120, 240, 360, 432, 504, 648] as const;

const directorySchema = z
  .object({
    credential: graphCredentialSchema,
    /** Minutes between two syncs of this tenant (the timer wakes every 5 minutes). */
    everyMinutes: z.number().int().min(5).max(1440).default(15),
    /** Extra user properties to `$select` (extension attributes, `employeeId`, …) for templates. */
    attributes: z.array(graphProperty).default([]),
    /** Group names resolved into `groups`; default: every `group:<name>` in the tenant's rules.json. */
    groups: z.array(z.string().min(1)).optional(),
    /** A tenant's sync that takes longer is abandoned (and reported), so it cannot hold up the others. */
    timeoutSeconds: z.number().int().min(1).max(3600).default(600),
    photos: z
      .object({
        /** Edge in pixels of the square photo stored and embedded. */
        size: z.number().int().min(16).max(648).default(96),
        /** How often each user's photo is checked for a change. */
        refreshHours: z.number().positive().default(24),
      })
      .strict()
      .optional(),
  })
  .strict();

const sentItemsSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Defaults to the directory credential; needs Mail.ReadWrite, scoped by the Exchange script. */
    credential: graphCredentialSchema.optional(),
    /** After this long without success the Sent Items copy is left as it is (delivery is never affected). */
    giveUpAfterMinutes: z.number().int().min(1).max(10_080).default(60),
  })
  .strict();

const folder = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/,
    'expected a relative folder of lower-case letters, digits, - and _ (e.g. "tenants/fabrikam")',
  );

export const tenantSchema = z
  .object({
    id: guid,
    name: z.string().min(1),
    /** Approved sender domains: the tenant's accepted domains whose mail we sign (incl. onmicrosoft.com). */
    domains: z.array(domain).min(1),
    /** Where signed mail goes back: `<tenant>.mail.protection.outlook.com:25` in production. */
    delivery: z.object({
      host: exchangeOnlineEndpoint,
      port: z.number().int().min(1).max(65535).default(25),
    }),
    /** The client certificate the tenant's inbound connector trusts (TlsSenderCertificateName). */
    certificate: z
      .object({
        name: z.string().min(1),
        certFile: certificatePath.optional(),
        keyFile: certificatePath.optional(),
      })
      .optional(),
    settings: z
      .object({
        tenantCheck: z.enum(['headers-if-present', 'headers-required', 'dkim']).default('headers-if-present'),
        nullSender: z.enum(['reject', 'pass-through']).default('reject'),
        signingFailure: z.enum(['fail-open', 'fail-closed']).default('fail-open'),
        permanentFailure: z.enum(['dsn', 'alert']).default('dsn'),
        mixedRecipients: z.enum(['external', 'internal']).default('external'),
        deliveryRetry: z
          .object({
            firstIntervalSeconds: z.number().positive().default(30),
            maxIntervalSeconds: z.number().positive().default(3600),
            giveUpAfterHours: z.number().positive().default(48),
          })
          .prefault({}),
        limits: z
          .object({
            messagesPerMinute: z.number().int().positive().default(30),
            messagesPerDay: z.number().int().positive().default(10_000),
          })
          .prefault({}),
      })
      .prefault({}),
    /**
     * The tenant's own users.json, rules.json, templates/ and images/, relative to the configuration
     * root. Without it the tenant uses the root's (one-tenant configurations).
     */
    folder: folder.optional(),
    /** Directory sync from this tenant's Entra ID; absent: users.json is maintained by hand. */
    directory: directorySchema.optional(),
    /** Replace the sender's Sent Items copy with the signed message (off by default). */
    sentItems: sentItemsSchema.optional(),
  })
  .strict();

export type Tenant = z.infer<typeof tenantSchema>;

const tenantsFileSchema = z.union([
  z.array(tenantSchema),
  z.object({ tenants: z.array(tenantSchema) }).strict(),
]);

/** Looks tenants up by id and by sender domain; a domain belongs to at most one tenant. */
export class TenantDirectory {
  readonly tenants: readonly Tenant[];
  private readonly byDomain = new Map<string, Tenant>();
  private readonly byId = new Map<string, Tenant>();

  constructor(tenants: readonly Tenant[], file = 'tenants.json') {
    this.tenants = tenants;
    tenants.forEach((t, i) => {
      if (this.byId.has(t.id)) throw new ConfigError(file, `[${i}].id`, `duplicate tenant id ${t.id}`);
      this.byId.set(t.id, t);
      t.domains.forEach((d, j) => {
        const owner = this.byDomain.get(d);
        if (owner)
          throw new ConfigError(
            file,
            `[${i}].domains[${j}]`,
            `domain ${d} already belongs to tenant ${owner.name}`,
          );
        this.byDomain.set(d, t);
      });
    });
    const folders = new Map<string, Tenant>();
    tenants.forEach((t, i) => {
      if (!t.folder) return;
      const owner = folders.get(t.folder);
      if (owner)
        throw new ConfigError(
          file,
          `[${i}].folder`,
          `folder ${t.folder} already belongs to tenant ${owner.name}`,
        );
      folders.set(t.folder, t);
    });
    // Two syncs writing the root users.json would overwrite each other's users.
    const rootSynced = tenants.filter((t) => t.directory && !t.folder);
    if (rootSynced.length > 1) {
      const i = tenants.indexOf(rootSynced[1] as Tenant);
      throw new ConfigError(
        file,
        `[${i}].folder`,
        'every tenant with directory sync needs its own folder when more than one has one',
      );
    }
  }

  byTenantId(id: string): Tenant | undefined {
    return this.byId.get(id.toLowerCase());
  }

  /** The tenant owning an address's domain (exact domain match, case-insensitive). */
  forAddress(address: string): Tenant | undefined {
    const at = address.lastIndexOf('@');
    if (at < 1) return undefined;
    return this.byDomain.get(address.slice(at + 1).toLowerCase());
  }

  /** True when the address is in one of the tenant's domains (internal recipient). */
  isInternal(tenant: Tenant, address: string): boolean {
    return this.forAddress(address)?.id === tenant.id;
  }
}

/** Loads and validates `<configDir>/tenants.json`. Certificate paths are resolved against configDir. */
export async function loadTenants(configDir: string): Promise<TenantDirectory> {
  const file = path.join(configDir, 'tenants.json');
  return parseTenants(await readJson(file), file, configDir);
}

/** Validates already-read tenants.json content (e.g. from the Blob `config` container). */
export function parseTenants(value: unknown, file: string, configDir: string): TenantDirectory {
  const parsed = parseWith(tenantsFileSchema, value, file);
  const list = Array.isArray(parsed) ? parsed : parsed.tenants;
  const resolved = list.map((t) =>
    t.certificate
      ? {
          ...t,
          certificate: {
            ...t.certificate,
            certFile: t.certificate.certFile && path.resolve(configDir, t.certificate.certFile),
            keyFile: t.certificate.keyFile && path.resolve(configDir, t.certificate.keyFile),
          },
        }
      : t,
  );
  return new TenantDirectory(resolved, file);
}

/** Reads a JSON file, turning IO and syntax errors into ConfigErrors that name the file. */
export async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      file,
      '',
      `cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(file, '', `invalid JSON: ${(err as Error).message}`);
  }
}
