/**
 * PLACEHOLDER door of the content module (issue 4 replaces it): loads tenants and answers every
 * message of a known tenant with a fixed signature naming the sender. Keep the exported names.
 */
import { loadTenants, type TenantDirectory } from '../config/index.js';
import type { ResolveSignature } from '../signing/types.js';

export interface Content {
  tenants: TenantDirectory;
  resolve: ResolveSignature;
}

export async function loadContent(configDir: string): Promise<Content> {
  const tenants = await loadTenants(configDir);
  const resolve: ResolveSignature = (facts) => {
    const tenant = tenants.forAddress(facts.sender);
    if (!tenant) return Promise.resolve({ action: 'skip', reason: 'unknown-tenant' });
    return Promise.resolve({
      action: 'sign',
      content: {
        template: 'placeholder',
        rule: 'placeholder',
        html: `<p>--<br>${facts.sender}<br>${tenant.name}</p>`,
        text: `-- \n${facts.sender}\n${tenant.name}`,
        images: [],
        placement: 'underReply',
      },
    });
  };
  return { tenants, resolve };
}
