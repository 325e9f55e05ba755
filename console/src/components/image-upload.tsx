import { useState } from 'preact/hooks';
import { imageMaxBytes, type ApiError, type ScopeInfo } from '../../../src/admin/contract';
import { api, preconditionFor } from '../api';
import { apiErrorOf } from '../errors';
import { inScope } from '../paths';
import { RadioOption } from './fields';
import { ErrorNotice, Notice } from './notice';

interface Props {
  scope: ScopeInfo;
  /** Called with the `src` to use (cid:… or the hosted URL) once the image is stored. */
  onUploaded: (src: string) => Promise<void>;
}

/** `My Logo (1).PNG` → `my-logo-1-.png`: a name that is safe as a file name and in cid: */
function imageFileName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
}

function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () =>
      resolve(typeof reader.result === 'string' ? reader.result.replace(/^data:[^,]*,/, '') : '');
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsDataURL(file);
  });
}

/**
 * Puts an image into the configuration's images/ and inserts an <img> at the caret of the HTML
 * template: embedded (cid:, sent inside every message) or hosted (an https URL, where configured).
 */
export function ImageUpload({ scope, onUploaded }: Props) {
  const [file, setFile] = useState<File>();
  const [mode, setMode] = useState<'embedded' | 'hosted'>('embedded');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();

  const upload = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setError(undefined);
    setDone(undefined);
    if (file.size > imageMaxBytes) {
      setError({
        error: `${file.name} is ${Math.ceil(file.size / 1024)} KB; images may be at most ${imageMaxBytes / 1024} KB.`,
        code: 'too-large',
      });
      return;
    }
    setBusy(true);
    try {
      const path = inScope(scope.scope, `images/${imageFileName(file.name)}`);
      const existing = scope.files.find((f) => f.path === path);
      const result = await api.saveImage(path, await readBase64(file), preconditionFor(existing?.etag));
      const src = mode === 'hosted' ? result.use.hosted : result.use.embedded;
      if (!src) {
        setDone(
          `Stored ${path}, but this server has no hosting address for images (SIGRELAY_IMAGE_BASE_URL); choose “Embedded” to use it.`,
        );
        return;
      }
      await onUploaded(src);
      setDone(`Stored ${path}; inserted <img src="${src}"> at the cursor of the HTML template.`);
    } catch (err) {
      setError(apiErrorOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="panel">
      <summary>Images</summary>
      <form onSubmit={(e) => void upload(e)}>
        <div class="field">
          <label for="image-file">Image (PNG, JPEG, GIF or WebP, at most {imageMaxBytes / 1024} KB)</label>
          <input
            id="image-file"
            type="file"
            accept="image/png,image/jpeg,image/gif,image/webp"
            onChange={(e) => setFile(e.currentTarget.files?.[0])}
          />
        </div>
        <fieldset class="radio-row">
          <legend>Use it</legend>
          <RadioOption
            id="image-embedded"
            name="image-mode"
            checked={mode === 'embedded'}
            onSelect={() => setMode('embedded')}
          >
            Embedded (cid:, inside each message)
          </RadioOption>
          <RadioOption
            id="image-hosted"
            name="image-mode"
            checked={mode === 'hosted'}
            onSelect={() => setMode('hosted')}
          >
            Hosted (https link)
          </RadioOption>
        </fieldset>
        <button type="submit" disabled={!file || busy}>
          {busy ? 'Uploading…' : 'Upload and insert'}
        </button>
      </form>
      <ErrorNotice error={error} />
      {done && <Notice kind="success">{done}</Notice>}
    </details>
  );
}
