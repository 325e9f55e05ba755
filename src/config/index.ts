export { ConfigError, jsonPath, parseWith } from './config-error.js';
export {
  loadSettings,
  frontRequiresTls,
  maskedSettings,
  projectRoot,
  sampleConfigDir,
  type Settings,
} from './settings.js';
export { loadTenants, readJson, TenantDirectory, tenantSchema, type Tenant } from './tenants.js';
