import type { ContentStore, Explanation, Rule } from '../content/index.js';
import { windowOf } from '../content/rules.js';
import type { ConfigEditor, Precondition } from './config-editor.js';
import { etagOf } from './config-editor.js';
import type {
  BannerJson,
  Campaign,
  CampaignList,
  Me,
  RuleJson,
  RulesDocument,
  SaveResult,
  WhoGetsWhat,
  WhoGetsWhatCell,
  WhoGetsWhatRow,
} from './contract.js';
import { fail } from './http.js';

const externalProbe = 'megan.bowen@fabrikam.example';

/** Rules, campaign banners and "who gets what", all through the rule engine the service signs with. */
export class RulesView {
  constructor(private readonly editor: ConfigEditor) {}

  async rules(scope: string): Promise<RulesDocument> {
    const path = await this.rulesPath(scope);
    const content = (await this.editor.current()).get(path);
    const rules = content ? (JSON.parse(content.toString('utf8')) as RuleJson[]) : [];
    return { scope, path, etag: content ? etagOf(content) : '', rules };
  }

  async save(scope: string, rules: unknown, condition: Precondition, who: Me): Promise<SaveResult> {
    const path = await this.rulesPath(scope);
    const exists = (await this.editor.current()).has(path);
    return this.editor.save(
      path,
      serialize(checkArray(rules)),
      exists ? condition : { ifNoneMatch: '*', ...condition },
      who,
    );
  }

  async validate(scope: string, rules: unknown): Promise<void> {
    const path = await this.rulesPath(scope);
    await this.editor.validate(new Map([[path, serialize(checkArray(rules))]]));
  }

  /** Every user of the scope × internal/external × new/reply, decided by the rule engine. */
  async whoGetsWhat(scope: string, draftRules?: unknown, at?: Date): Promise<WhoGetsWhat> {
    const path = await this.rulesPath(scope);
    const drafts = new Map<string, Buffer | null>();
    if (draftRules !== undefined) drafts.set(path, serialize(checkArray(draftRules)));
    const store = await this.editor.draft(drafts);
    const now = at ?? new Date();
    return { scope, at: now.toISOString(), rows: await this.rows(store, scope, now) };
  }

  async campaigns(at?: Date): Promise<CampaignList> {
    const now = at ?? new Date();
    const store = await this.editor.draft(new Map());
    const campaigns: Campaign[] = [];
    for (const scope of scopesOf(store)) {
      const { rules } = await this.rules(scope);
      const withBanner = rules.filter((r) => r.banner);
      if (withBanner.length === 0) continue;
      const rows = await this.rows(store, scope, now);
      for (const rule of withBanner) {
        const banner = rule.banner as BannerJson;
        const status = statusOf(banner, now);
        const gets = (cell: WhoGetsWhatCell) => cell.rule === rule.name && cell.banner !== undefined;
        campaigns.push({
          scope,
          rule: rule.name,
          banner,
          status,
          activeFor: {
            internal: rows.filter((r) => gets(r.internalNew)).map((r) => r.address),
            external: rows.filter((r) => gets(r.externalNew)).map((r) => r.address),
          },
        });
      }
    }
    return { at: now.toISOString(), campaigns };
  }

  /** Sets (or with null removes) the banner of one rule; validated and saved like any rules.json edit. */
  async saveCampaign(
    scope: string,
    ruleName: string,
    banner: unknown,
    condition: Precondition,
    who: Me,
  ): Promise<SaveResult> {
    const doc = await this.rules(scope);
    const index = doc.rules.findIndex((r) => r.name === ruleName);
    if (index < 0)
      throw fail(404, 'not-found', `${doc.path} has no rule named "${ruleName}"`, { file: doc.path });
    if (banner !== null && (typeof banner !== 'object' || Array.isArray(banner)))
      throw fail(400, 'bad-request', 'expected "banner": an object or null', { field: 'banner' });
    const rules = doc.rules.map((r, i) => {
      if (i !== index) return r;
      const { banner: _old, ...rest } = r;
      return banner === null ? rest : { ...rest, banner: banner as BannerJson };
    });
    return this.editor.save(doc.path, serialize(rules), condition, who);
  }

  private async rows(store: ContentStore, scope: string, now: Date): Promise<WhoGetsWhatRow[]> {
    const tenants = store.tenants.tenants.filter((t) => (t.folder ?? '') === scope);
    const first = tenants[0];
    if (!first) return [];
    const { users } = store.contentFor(first);
    const rows: WhoGetsWhatRow[] = [];
    for (const user of users.users) {
      const address = (user.mail ?? user.userPrincipalName ?? '').toLowerCase();
      if (!address.includes('@')) continue;
      const tenant = store.tenants.forAddress(address) ?? first;
      const internal = `sam.colleague@${tenant.domains[0] ?? 'example.com'}`;
      const external = store.tenants.isInternal(tenant, externalProbe)
        ? 'someone@external.example'
        : externalProbe;
      const cell = async (recipient: string, messageType: 'new' | 'reply') =>
        cellOf(
          await store.preview({ sender: address, recipients: [recipient], messageType, now }),
          store.contentFor(tenant).rules,
          now,
        );
      rows.push({
        address,
        ...(user.displayName ? { displayName: user.displayName } : {}),
        tenantName: tenant.name,
        internalNew: await cell(internal, 'new'),
        internalReply: await cell(internal, 'reply'),
        externalNew: await cell(external, 'new'),
        externalReply: await cell(external, 'reply'),
      });
    }
    return rows;
  }

  private async rulesPath(scope: string): Promise<string> {
    const store = await this.editor.draft(new Map());
    if (!scopesOf(store).includes(scope))
      throw fail(404, 'not-found', `no scope "${scope}": expected '' or a tenant folder of tenants.json`);
    return scope ? `${scope}/rules.json` : 'rules.json';
  }
}

function scopesOf(store: ContentStore): string[] {
  return [...new Set(['', ...store.tenants.tenants.map((t) => t.folder ?? '')])];
}

function cellOf(explanation: Explanation, rules: readonly Rule[], now: Date): WhoGetsWhatCell {
  const r = explanation.resolution;
  if (r.action === 'skip') return { action: 'skip', reason: r.reason, ...(r.rule ? { rule: r.rule } : {}) };
  const rule = rules.find((x) => x.name === r.content.rule);
  // Campaigns ride on the full signature only, inside their window (as src/content/signatures.ts adds them).
  const banner =
    rule?.banner && r.content.template === rule.template && statusOf(rule.banner, now) === 'active'
      ? rule.banner.template
      : undefined;
  return {
    action: 'sign',
    rule: r.content.rule,
    template: r.content.template,
    ...(banner ? { banner } : {}),
  };
}

function statusOf(banner: { from?: string; until?: string }, now: Date): Campaign['status'] {
  const at = now.getTime();
  const { from, until } = windowOf(banner);
  if (from !== undefined && at < from) return 'scheduled';
  if (until !== undefined && at >= until) return 'ended';
  return 'active';
}

function checkArray(rules: unknown): unknown[] {
  if (!Array.isArray(rules)) throw fail(400, 'bad-request', 'expected "rules": an array', { field: 'rules' });
  return rules;
}

function serialize(rules: unknown[]): Buffer {
  return Buffer.from(`${JSON.stringify(rules, null, 2)}\n`, 'utf8');
}
