import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type {
  ApiError,
  DirectoryUserHit,
  MessageType,
  PreviewResponse,
  RuleJson,
  SaveResult,
} from '../../../src/admin/contract';
import type { PageProps } from '../page-props';
import { api, ApiFailure, preconditionFor, unlessMissing } from '../api';
import { CompatPanel } from '../components/compat-panel';
import { CheckField, NameSelect } from '../components/fields';
import { ImageUpload } from '../components/image-upload';
import { ErrorNotice, Notice } from '../components/notice';
import { PreviewPane } from '../components/preview-pane';
import { SenderPicker } from '../components/sender-picker';
import { insertAtCursor, TemplateEditor, type EditorError } from '../components/template-editor';
import { VersionList } from '../components/version-list';
import { apiErrorOf, describeApiError, isConflict, messageOf } from '../errors';
import { useDebounced } from '../hooks';
import { lastTemplate, unsavedEdits, useLeaveWarning } from '../drafts';
import { inScope } from '../paths';

/** One template file being edited: what is on the server (etag, saved) and what is in the editor. */
interface Doc {
  path: string;
  /** Absent while the file does not exist (a template without a .txt twin). */
  etag: string | undefined;
  saved: string;
  content: string;
}

type SaveState =
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'saved'; results: SaveResult[]; inlined: boolean }
  | { kind: 'conflict'; path: string; currentEtag: string | undefined }
  | { kind: 'invalid'; error: ApiError }
  | { kind: 'failed'; error: ApiError };

const dirty = (doc: Doc | undefined) => doc !== undefined && doc.content !== doc.saved;
/** A missing .txt left empty is not a change: nothing to create. */
const wantsSave = (doc: Doc | undefined): doc is Doc =>
  dirty(doc) && !(doc?.etag === undefined && doc?.content === '');

/** The file as saved, with the edit left unsaved on another visit to the studio laid over it. */
async function loadDoc(path: string): Promise<Doc> {
  const file = await unlessMissing(api.readFile(path));
  const saved = file?.content ?? '';
  const edit = unsavedEdits.get(path);
  return edit ? { path, saved, ...edit } : { path, etag: file?.etag, saved, content: saved };
}

/**
 * The signature studio: a template's HTML and text Liquid side by side with the real engine's
 * preview of it inside sample conversations of five mail clients, for a chosen sender, audience and
 * message type. Saves are validated by the server, guarded by ETags, and versioned.
 */
export function StudioPage({ scope, reloadConfig }: PageProps) {
  const templates = scope.templates;
  const [template, setTemplate] = useState(() => {
    const last = lastTemplate.get(scope.scope);
    return last && templates.includes(last) ? last : '';
  });
  const [html, setHtml] = useState<Doc>();
  const [text, setText] = useState<Doc>();
  const [loadError, setLoadError] = useState<ApiError>();
  const [sender, setSender] = useState<DirectoryUserHit>();
  const [recipient, setRecipient] = useState<'internal' | 'external'>('external');
  const [messageType, setMessageType] = useState<MessageType>('new');
  const [preview, setPreview] = useState<PreviewResponse>();
  const [previewError, setPreviewError] = useState<ApiError>();
  const [previewing, setPreviewing] = useState(false);
  const [inlineCss, setInlineCss] = useState(false);
  const [save, setSave] = useState<SaveState>({ kind: 'idle' });
  const [versionsKey, setVersionsKey] = useState(0);
  const htmlArea = useRef<HTMLTextAreaElement>(null);
  const previewSeq = useRef(0);

  const htmlPath = inScope(scope.scope, `templates/${template}.html`);
  const textPath = inScope(scope.scope, `templates/${template}.txt`);

  // Open the template most senders get: the catch-all rule's (no sender, audience or type matcher).
  useEffect(() => {
    let current = true;
    const pick = (rules: RuleJson[]) =>
      [...rules]
        .reverse()
        .find((r) => !r.senders && !r.tenants && !r.messageTypes && (r.recipients ?? 'any') === 'any')
        ?.template;
    // Rules that cannot be read only cost the choice of template: the first one opens instead
    // (the Rules page reports why they cannot be read).
    void api
      .rules(scope.scope)
      .then(
        (doc) => pick(doc.rules),
        () => undefined,
      )
      .then((name) => {
        if (current)
          setTemplate((t) => t || (name && templates.includes(name) ? name : (templates[0] ?? '')));
      });
    return () => {
      current = false;
    };
  }, [scope.scope, templates]);

  useEffect(() => {
    if (!template) return;
    lastTemplate.set(scope.scope, template);
    let current = true;
    setHtml(undefined);
    setText(undefined);
    setSave({ kind: 'idle' });
    Promise.all([loadDoc(htmlPath), loadDoc(textPath)])
      .then(([h, t]) => {
        if (!current) return;
        setHtml(h);
        setText(t);
        setLoadError(undefined);
      })
      .catch((err: unknown) => current && setLoadError(apiErrorOf(err)));
    return () => {
      current = false;
    };
  }, [htmlPath, textPath, template]);

  // The first user of this tenant's directory, so the preview shows something at once.
  useEffect(() => {
    let current = true;
    api
      .directory('')
      .then((hits) => {
        const first = hits.find((h) => h.scope === scope.scope);
        if (current && first) setSender((s) => s ?? first);
      })
      .catch((err: unknown) => current && setPreviewError(apiErrorOf(err)));
    return () => {
      current = false;
    };
  }, [scope.scope]);

  const request = useMemo(() => {
    if (!html || !text || !sender) return undefined;
    const drafts: Record<string, string> = { [html.path]: html.content };
    if (text.etag !== undefined || text.content !== '') drafts[text.path] = text.content;
    return { sender: sender.address, recipient, messageType, template, drafts };
  }, [html, text, sender, recipient, messageType, template]);
  const settled = useDebounced(request, 400);

  useEffect(() => {
    if (!settled) return;
    const seq = ++previewSeq.current;
    setPreviewing(true);
    api
      .preview(settled)
      .then((answer) => {
        if (seq !== previewSeq.current) return;
        setPreview(answer);
        setPreviewError(undefined);
      })
      .catch((err: unknown) => seq === previewSeq.current && setPreviewError(apiErrorOf(err)))
      .finally(() => seq === previewSeq.current && setPreviewing(false));
  }, [settled]);

  const saveError = save.kind === 'invalid' ? save.error : undefined;
  const editorError = (path: string): EditorError | undefined => {
    for (const error of [saveError, previewError]) {
      if (error?.code === 'invalid-config' && error.file === path)
        return { line: error.line, message: messageOf(error) };
    }
    return undefined;
  };
  // An invalid-config error about another file (rules.json, an included template) is shown above.
  const otherError = [saveError, previewError].find(
    (e) => e && !(e.code === 'invalid-config' && (e.file === htmlPath || e.file === textPath)),
  );

  const changeTemplate = (next: string) => {
    if ((dirty(html) || dirty(text)) && !confirm(`Discard your unsaved changes to ${template}?`)) return;
    unsavedEdits.discard(htmlPath, textPath);
    setTemplate(next);
  };

  const doSave = async () => {
    if (!html || !text) return;
    setSave({ kind: 'saving' });
    const results: SaveResult[] = [];
    try {
      for (const [doc, setDoc, isHtml] of [
        [html, setHtml, true],
        [text, setText, false],
      ] as const) {
        if (!wantsSave(doc)) continue;
        const result = await api.saveFile(
          doc.path,
          { content: doc.content, ...(isHtml && inlineCss ? { inlineCss: true } : {}) },
          preconditionFor(doc.etag),
        );
        const content = result.content ?? doc.content;
        setDoc({ ...doc, etag: result.etag, saved: content, content });
        results.push(result);
      }
      setSave({ kind: 'saved', results, inlined: inlineCss });
      setVersionsKey((k) => k + 1);
      await reloadConfig();
    } catch (err) {
      if (results.length > 0) setVersionsKey((k) => k + 1);
      if (isConflict(err)) {
        const path = err.body.file ?? (results.length > 0 ? text.path : html.path);
        setSave({ kind: 'conflict', path, currentEtag: err.body.currentEtag });
      } else if (err instanceof ApiFailure && err.status === 422)
        setSave({ kind: 'invalid', error: err.body });
      else setSave({ kind: 'failed', error: apiErrorOf(err) });
    }
  };

  /** After a conflict: load their version into the editor (yours is discarded). */
  const loadTheirs = async (path: string) => {
    unsavedEdits.discard(path);
    const doc = await loadDoc(path);
    (path === htmlPath ? setHtml : setText)(doc);
    setSave({ kind: 'idle' });
  };
  /** After a conflict: keep your text and take their ETag, so the next save knowingly replaces theirs. */
  const keepMine = (path: string, currentEtag: string | undefined) => {
    const set = path === htmlPath ? setHtml : setText;
    set((doc) => (doc ? { ...doc, etag: currentEtag } : doc));
    setSave({ kind: 'idle' });
  };

  const onRolledBack = async () => {
    unsavedEdits.discard(htmlPath, textPath);
    const [h, t] = await Promise.all([loadDoc(htmlPath), loadDoc(textPath)]);
    setHtml(h);
    setText(t);
    setSave({ kind: 'idle' });
    setVersionsKey((k) => k + 1);
    await reloadConfig();
  };

  const unsaved = wantsSave(html) || wantsSave(text);
  useLeaveWarning(unsaved);
  useEffect(() => {
    for (const doc of [html, text])
      if (doc) unsavedEdits.keep(doc.path, { etag: doc.etag, content: doc.content }, doc.saved);
  }, [html, text]);

  if (templates.length === 0)
    return (
      <section>
        <h1 tabIndex={-1}>Signature studio</h1>
        <Notice kind="info">This tenant has no templates yet (templates/*.html).</Notice>
      </section>
    );

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Signature studio</h1>
        <NameSelect
          label="Template"
          inline
          id="template"
          value={template}
          names={templates}
          onChange={changeTemplate}
        />
      </div>
      <ErrorNotice error={loadError} />
      <div class="studio">
        <section class="studio-edit" aria-label="Template source">
          {html && text ? (
            <>
              <TemplateEditor
                id="html-template"
                label={`HTML template (${html.path})`}
                hint="Liquid: {{ user.displayName }}, {% if user.mobilePhone %}…{% endif %}"
                value={html.content}
                onInput={(content) => setHtml({ ...html, content })}
                error={editorError(html.path)}
                textareaRef={htmlArea}
              />
              <TemplateEditor
                id="text-template"
                label={`Text template (${text.path})`}
                hint={
                  text.etag === undefined
                    ? 'Optional: without it, the text is derived from the HTML.'
                    : undefined
                }
                value={text.content}
                onInput={(content) => setText({ ...text, content })}
                error={editorError(text.path)}
              />
              <ErrorNotice error={otherError} />
              <div class="save-bar">
                <CheckField
                  id="inline-css"
                  label="Inline CSS on save"
                  checked={inlineCss}
                  onChange={setInlineCss}
                />
                <button
                  type="button"
                  class="primary"
                  disabled={!unsaved || save.kind === 'saving'}
                  onClick={() => void doSave()}
                >
                  {save.kind === 'saving' ? 'Saving…' : 'Save'}
                </button>
                <span class="hint" aria-live="polite">
                  {unsaved ? 'Unsaved changes' : 'No unsaved changes'}
                </span>
              </div>
              <SaveMessage save={save} onLoadTheirs={(p) => void loadTheirs(p)} onKeepMine={keepMine} />
              <ImageUpload
                scope={scope}
                onUploaded={async (src) => {
                  const tag = `<img src="${src}" alt="" style="display:block;border:0">`;
                  setHtml({ ...html, content: insertAtCursor(htmlArea.current, html.content, tag) });
                  await reloadConfig();
                }}
              />
              <VersionList
                key={`${html.path}:${versionsKey}`}
                paths={[html.path, ...(text.etag === undefined ? [] : [text.path])]}
                currentEtag={(path) => (path === html.path ? html.etag : text.etag)}
                onRolledBack={onRolledBack}
              />
            </>
          ) : (
            !loadError && <p class="loading">Loading {template}…</p>
          )}
        </section>
        <section class="studio-preview" aria-label="Preview">
          <fieldset class="preview-controls">
            <legend>Preview for</legend>
            <SenderPicker id="sender" scope={scope.scope} value={sender} onChange={setSender} />
            <fieldset class="radio-row">
              <legend>Recipient</legend>
              {(['internal', 'external'] as const).map((r) => (
                <span key={r} class="radio">
                  <input
                    type="radio"
                    id={`recipient-${r}`}
                    name="recipient"
                    checked={recipient === r}
                    onChange={() => setRecipient(r)}
                  />
                  <label for={`recipient-${r}`}>{r === 'internal' ? 'Internal' : 'External'}</label>
                </span>
              ))}
            </fieldset>
            <fieldset class="radio-row">
              <legend>Message</legend>
              {(['new', 'reply', 'forward'] as const).map((t) => (
                <span key={t} class="radio">
                  <input
                    type="radio"
                    id={`type-${t}`}
                    name="message-type"
                    checked={messageType === t}
                    onChange={() => setMessageType(t)}
                  />
                  <label for={`type-${t}`}>{t[0]?.toUpperCase() + t.slice(1)}</label>
                </span>
              ))}
            </fieldset>
          </fieldset>
          <PreviewPane preview={preview} error={previewError} busy={previewing} />
          {html && <CompatPanel html={html.content} />}
        </section>
      </div>
    </>
  );
}

function SaveMessage({
  save,
  onLoadTheirs,
  onKeepMine,
}: {
  save: SaveState;
  onLoadTheirs: (path: string) => void;
  onKeepMine: (path: string, etag: string | undefined) => void;
}) {
  switch (save.kind) {
    case 'saved':
      return (
        <Notice kind="success">
          Saved{save.inlined ? ' with the CSS inlined' : ''}:{' '}
          {save.results.map((r) => `${r.path} (version ${r.version})`).join(', ')}. In service: configuration{' '}
          {save.results.at(-1)?.versionInService}.
        </Notice>
      );
    case 'conflict':
      return (
        <Notice kind="error">
          <p>
            <strong>Not saved: conflict.</strong> Someone else saved {save.path} after you opened it. Nothing
            was overwritten; your edits are still in the editor.
          </p>
          <div class="actions">
            <button type="button" onClick={() => onLoadTheirs(save.path)}>
              Load their version (discard mine)
            </button>
            <button type="button" onClick={() => onKeepMine(save.path, save.currentEtag)}>
              Keep mine (the next save replaces theirs)
            </button>
          </div>
        </Notice>
      );
    case 'invalid':
      return <Notice kind="error">Not saved: {describeApiError(save.error)}</Notice>;
    case 'failed':
      return <Notice kind="error">Not saved: {describeApiError(save.error)}</Notice>;
    default:
      return null;
  }
}
