/**
 * Where a configuration directory lives: a local directory, or the Blob container `config` in Azure.
 * Both have the same layout, so loading, validation and reload are written once against this.
 */
export interface ConfigFiles {
  /** How error messages name a file: a path locally, `<container>/<blob>` in Azure. */
  label(name: string): string;
  /** Content of a file relative to the root (`rules.json`, `templates/corporate.html`), or undefined. */
  read(name: string): Promise<Buffer | undefined>;
  /** Names (relative, `/`-separated) of the files directly under a folder (`templates`, `images`). */
  list(folder: string): Promise<string[]>;
  /** A value that changes whenever any file changes (mtimes locally, ETags in Blob). */
  fingerprint(): Promise<string>;
}

/** A configuration location the directory sync may write its snapshot into. */
export interface WritableConfigFiles extends ConfigFiles {
  write(name: string, content: string | Buffer): Promise<void>;
}
