import { useRef, useState } from 'preact/hooks';
import type { ApiError, ClientShape, PreviewResponse } from '../../../src/admin/contract';
import { clientShapes } from '../../../src/admin/contract';
import { describeApiError } from '../errors';
import { Notice } from './notice';

interface Props {
  preview: PreviewResponse | undefined;
  error: ApiError | undefined;
  busy: boolean;
}

function resultLine(preview: PreviewResponse): string {
  const { result } = preview;
  const who = [preview.user, preview.audience && `${preview.audience} recipient`, preview.messageType]
    .filter(Boolean)
    .join(', ');
  // The server names its stand-in rule "(preview)" when asked for one template whatever the rules say.
  const rule = /^\(.*\)$/.test(result.rule ?? '') ? '' : ` (rule ${result.rule})`;
  if (result.action === 'sign')
    return `${who}: signed with template “${result.template}”${rule}, ${
      result.placement === 'underReply' ? 'under the reply' : 'at the bottom'
    }.`;
  return `${who}: no signature (${result.reason}${result.rule ? `, rule ${result.rule}` : ''}).`;
}

/**
 * The engine's signed sample conversations, one tab per mail client (arrow keys move between tabs),
 * each as sandboxed mail HTML (`sandbox` without allow-scripts: no script in a template can run)
 * with the text/plain part beside it.
 */
export function PreviewPane({ preview, error, busy }: Props) {
  const [client, setClient] = useState<ClientShape>('outlook-desktop');
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const shapes = preview ? preview.conversations.map((c) => c.client) : [...clientShapes];
  const conversation = preview?.conversations.find((c) => c.client === client) ?? preview?.conversations[0];

  const onTabKey = (e: KeyboardEvent, index: number) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    const to = e.key === 'Home' ? 0 : e.key === 'End' ? shapes.length - 1 : index + step;
    if (to === index || (step === 0 && e.key !== 'Home' && e.key !== 'End')) return;
    e.preventDefault();
    const next = (to + shapes.length) % shapes.length;
    const shape = shapes[next];
    if (shape) setClient(shape);
    tabs.current[next]?.focus();
  };

  return (
    <div class="preview" aria-busy={busy ? 'true' : 'false'}>
      <div class="preview-status" role="status">
        {preview
          ? resultLine(preview)
          : busy
            ? 'Rendering the preview…'
            : error
              ? ''
              : 'Pick a sender to see the preview.'}
        {busy && preview ? ' Updating…' : ''}
      </div>
      {error && (
        <Notice kind="error">
          Preview not updated: {describeApiError(error)}
          {preview ? ' The preview below is the last one that rendered.' : ''}
        </Notice>
      )}
      {preview?.configError && (
        <Notice kind="warning">
          A newer saved configuration fails to load: {describeApiError(preview.configError)}
        </Notice>
      )}
      {preview && conversation && (
        <>
          <div role="tablist" aria-label="Mail client" class="tabs">
            {preview.conversations.map((c, i) => (
              <button
                key={c.client}
                type="button"
                role="tab"
                id={`tab-${c.client}`}
                ref={(el) => {
                  tabs.current[i] = el;
                }}
                aria-selected={c.client === conversation.client ? 'true' : 'false'}
                aria-controls="client-panel"
                tabIndex={c.client === conversation.client ? 0 : -1}
                onClick={() => setClient(c.client)}
                onKeyDown={(e) => onTabKey(e, i)}
              >
                {c.label}
              </button>
            ))}
          </div>
          <div
            role="tabpanel"
            id="client-panel"
            aria-labelledby={`tab-${conversation.client}`}
            class="client-panel"
          >
            <p class="hint">
              {conversation.decision.action === 'signed'
                ? `Signed${conversation.decision.reason && conversation.decision.reason !== 'signed' ? ` (${conversation.decision.reason})` : ''}.`
                : `${conversation.decision.action === 'skipped' ? 'Not signed' : 'Signing failed'}: ${conversation.decision.reason}.`}
            </p>
            {conversation.decision.action === 'signed' && conversation.signatureCount !== 1 && (
              <Notice kind="warning">
                The signature appears {conversation.signatureCount} times in this conversation.
              </Notice>
            )}
            <div class="preview-body">
              <figure class="preview-html">
                <figcaption>HTML, as {conversation.label} shows the reply</figcaption>
                <iframe
                  title={`${conversation.label}: signed conversation`}
                  sandbox=""
                  referrerpolicy="no-referrer"
                  srcdoc={conversation.html}
                />
              </figure>
              <figure class="preview-text">
                <figcaption>Text variant</figcaption>
                <pre tabIndex={0} aria-label="Text variant of the signed message">
                  {conversation.text}
                </pre>
              </figure>
            </div>
          </div>
        </>
      )}
    </div>
  );
}
