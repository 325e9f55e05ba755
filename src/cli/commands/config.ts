import { loadSettings, loadTenants, maskedSettings } from '../../config/index.js';

/** `sigrelay config print` */
export async function print(): Promise<number> {
  const settings = loadSettings();
  const tenants = await loadTenants(settings.configDir);
  console.log(JSON.stringify({ settings: maskedSettings(settings), tenants: tenants.tenants }, null, 2));
  return 0;
}
