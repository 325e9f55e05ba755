import { loadSettings, loadTenants, maskedSettings } from '../../config/index.js';

export const summary = 'config print: show the effective configuration with secrets masked';

export async function run(args: string[]): Promise<number> {
  if (args[0] !== 'print') {
    console.error('usage: sigrelay config print');
    return 2;
  }
  const settings = loadSettings();
  const tenants = await loadTenants(settings.configDir);
  console.log(JSON.stringify({ settings: maskedSettings(settings), tenants: tenants.tenants }, null, 2));
  return 0;
}
