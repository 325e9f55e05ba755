export { ConfigError, jsonPath, parseWith } from './config-error.js';
export {
  loadSettings,
  frontRequiresTls,
  maskedSettings,
  projectRoot,
  sampleConfigDir,
  type Settings,
} from './settings.js';
export {
  graphCredentialSchema,
  graphPhotoSizes,
  loadTenants,
  readJson,
  TenantDirectory,
  tenantSchema,
  type GraphCredentialConfig,
  type Tenant,
} from './tenants.js';
