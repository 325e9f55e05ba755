/**
 * The admin console's door: the JSON API under `/api/admin/*` and the single-page app under
 * `/admin`, built from the functions app's runtime (the same storage, trace and content the
 * signing path uses), and the function-key routes scripts call over the same handlers.
 * functions/adminConsole.ts only adapts HTTP to it.
 */
import path from 'node:path';
import { projectRoot } from '../config/index.js';
import { BlobFiles, DirectoryFiles, localPhotoFolder } from '../content/index.js';
import type { Runtime } from '../processing/index.js';
import { graphDomainsReader } from '../doctor/index.js';
import { runtimeStatusSources } from '../status/index.js';
import { names } from '../storage/index.js';
import { AuditLog } from './audit.js';
import { authSettingsFromEnv, ConsoleAuth } from './auth.js';
import { ConfigEditor } from './config-editor.js';
import { BlobStore, DirectoryStore } from './config-store.js';
import { DoctorView } from './doctor.js';
import { collectHealth } from './health.js';
import type { ApiAnswer, ApiRequest } from './http.js';
import { KeyRoutes } from './key-routes.js';
import { MessagesView } from './messages.js';
import { PreviewService } from './preview.js';
import { RulesView } from './rules-view.js';
import { AdminApi } from './routes.js';
import { StaticFiles } from './static.js';
import { VersionStore } from './versions.js';

export { parseJsonBody, readBodyCapped, requestMaxBytes, type ApiAnswer, type ApiRequest } from './http.js';
export { contentSecurityPolicy } from './static.js';
export type { KeyRoutes } from './key-routes.js';

/** Where `npm run build` puts the console's files. */
export const consoleDistDir = path.join(projectRoot, 'dist', 'console');

export interface AdminConsole {
  api(request: ApiRequest): Promise<ApiAnswer>;
  /** The function-key routes for scripts, over the same handlers and configuration cache. */
  keyRoutes: KeyRoutes;
  /** A file of the single-page app (`''` = index.html). */
  page(requestPath: string): Promise<ApiAnswer>;
}

export function createAdminConsole(
  rt: Runtime,
  env: Record<string, string | undefined> = process.env,
  staticDir = env.SIGRELAY_CONSOLE_DIR || consoleDistDir,
): AdminConsole {
  const production = rt.settings.profile === 'production';
  const store = production ? new BlobStore(rt.storage.config) : new DirectoryStore(rt.settings.configDir);
  const audit = new AuditLog(rt.storage.table(names.auditTable));
  const editor = new ConfigEditor({
    store,
    versions: new VersionStore(rt.storage.configVersions),
    audit,
    inService: () => rt.content(),
    photos: production
      ? new BlobFiles(rt.storage.photos)
      : new DirectoryFiles(path.join(rt.settings.configDir, localPhotoFolder)),
  });
  const doctor = new DoctorView({
    settings: rt.settings,
    tenants: async () => (await rt.content()).tenants.tenants,
    smartHost: env.SIGRELAY_PUBLIC_FQDN || undefined,
    tenantDomains: graphDomainsReader(env),
  });
  const messages = new MessagesView(rt, audit);
  const api = new AdminApi({
    auth: new ConsoleAuth(authSettingsFromEnv(env)),
    editor,
    preview: new PreviewService(editor, rt.settings.processedHeader),
    rules: new RulesView(editor),
    messages,
    audit,
    health: () =>
      collectHealth(
        runtimeStatusSources(rt.settings, rt.storage, () => rt.content()),
        rt.trace,
        () => editor.status(),
      ),
    doctor: (tenantId) => doctor.run(tenantId),
    logger: rt.logger.child({ fn: 'adminConsole' }),
    imageBaseUrl: env.SIGRELAY_IMAGE_BASE_URL || undefined,
  });
  const files = new StaticFiles(staticDir);
  return {
    api: (request) => api.handle(request),
    keyRoutes: new KeyRoutes(messages, () => rt.content()),
    page: (p) => files.serve(p),
  };
}
