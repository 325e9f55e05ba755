import type { ConfigFiles, WritableConfigFiles } from './config-files.js';

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

/** A tenant's folder the directory sync writes its users.json and bookkeeping into. */
export class WritableSubFolderFiles extends SubFolderFiles implements WritableConfigFiles {
  private readonly writable: WritableConfigFiles;
  private readonly folder: string;

  constructor(parent: WritableConfigFiles, folder: string) {
    super(parent, folder);
    this.writable = parent;
    this.folder = folder;
  }

  write(name: string, content: string | Buffer): Promise<void> {
    return this.writable.write(`${this.folder}/${name}`, content);
  }
}
