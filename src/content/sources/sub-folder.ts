import type { ConfigFiles } from './config-files.js';

/** One tenant's folder inside a configuration, read with the same loaders as the root. */
export class SubFolderFiles implements ConfigFiles {
  private readonly parent: ConfigFiles;
  private readonly prefix: string;

  constructor(parent: ConfigFiles, folder: string) {
    this.parent = parent;
    this.prefix = `${folder}/`;
  }

  label(name: string): string {
    return this.parent.label(this.prefix + name);
  }

  read(name: string): Promise<Buffer | undefined> {
    return this.parent.read(this.prefix + name);
  }

  async list(folder: string): Promise<string[]> {
    return (await this.parent.list(this.prefix + folder)).map((name) => name.slice(this.prefix.length));
  }

  /** The root's fingerprint covers every tenant folder, so a sub-folder never needs its own. */
  fingerprint(): Promise<string> {
    return this.parent.fingerprint();
  }
}
