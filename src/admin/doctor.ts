import type { Settings, Tenant } from '../config/index.js';
import { exitCodeOf, runDoctor, type DoctorOptions } from '../doctor/index.js';
import type { DoctorCheck, DoctorReport } from './contract.js';
import { fail } from './http.js';

/**
 * The console's bounds on a doctor run: it runs inside an HTTP request (App Service ends those
 * at 230 s), so each step of a probe gets 10 s and a whole session 20 s, where the command,
 * run by hand, waits 30 s a step.
 */
export const consoleProbeTimeoutMs = 10_000;
export const consoleSessionTimeoutMs = 20_000;

export interface DoctorViewOptions {
  settings: Settings;
  /** The tenants in service (the same configuration the signing path uses). */
  tenants: () => Promise<readonly Tenant[]>;
  /** Our smart host (SIGRELAY_PUBLIC_FQDN), which the front certificate must name. */
  smartHost?: string;
  /** The tenant's verified domains from Graph, where the directory sync reads Graph. */
  tenantDomains?: DoctorOptions['tenantDomains'];
}

/**
 * `sigrelay doctor` for the console's health page. A run opens real SMTP sessions to Exchange,
 * so a second request while one is under way (another click, another admin) joins it instead of
 * opening more.
 */
export class DoctorView {
  private readonly running = new Map<string, Promise<DoctorReport>>();

  constructor(private readonly o: DoctorViewOptions) {}

  run(tenantId?: string): Promise<DoctorReport> {
    const key = tenantId ?? '';
    let run = this.running.get(key);
    if (!run) {
      run = this.check(tenantId).finally(() => this.running.delete(key));
      this.running.set(key, run);
    }
    return run;
  }

  private async check(tenantId: string | undefined): Promise<DoctorReport> {
    const all = await this.o.tenants();
    const tenants = tenantId ? all.filter((t) => t.id === tenantId) : all;
    if (tenantId && tenants.length === 0)
      throw fail(404, 'not-found', `unknown tenant ${tenantId} (known: ${all.map((t) => t.id).join(', ')})`);
    const options: DoctorOptions = {
      settings: this.o.settings,
      tenants,
      smartHost: this.o.smartHost,
      // As the command does by default: Exchange's view of the front is probed only where it is public.
      front:
        this.o.settings.profile === 'production' && this.o.smartHost
          ? { host: this.o.smartHost, port: 25 }
          : undefined,
      probeTimeoutMs: consoleProbeTimeoutMs,
      sessionTimeoutMs: consoleSessionTimeoutMs,
      tenantDomains: this.o.tenantDomains,
    };
    const checks: DoctorCheck[] = await runDoctor(options);
    return { at: new Date().toISOString(), exitCode: exitCodeOf(checks), checks };
  }
}
