import type { Ref } from 'preact';
import { useRef } from 'preact/hooks';

export interface EditorError {
  /** 1-based line the server named, when it named one. */
  line?: number;
  message: string;
}

interface Props {
  id: string;
  label: string;
  hint?: string;
  value: string;
  onInput: (value: string) => void;
  error?: EditorError;
  textareaRef?: Ref<HTMLTextAreaElement>;
}

/**
 * A Liquid template in a plain <textarea> (native keyboard, screen-reader and mobile behaviour, and
 * a label like any other field), with line numbers and the server's error drawn at its line: the
 * line is banded and numbered in red, the message sits on it and again below with "Go to line".
 * The textarea grows with its content and never wraps, so line N is always N line-heights down.
 */
export function TemplateEditor({ id, label, hint, value, onInput, error, textareaRef }: Props) {
  const own = useRef<HTMLTextAreaElement>(null);
  const lines = value.split('\n').length;
  const errorLine = error?.line !== undefined && error.line >= 1 ? Math.min(error.line, lines) : undefined;
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');

  const goToLine = (line: number) => {
    const textarea = own.current;
    if (!textarea) return;
    const start =
      value
        .split('\n')
        .slice(0, line - 1)
        .join('\n').length + (line > 1 ? 1 : 0);
    textarea.focus();
    textarea.setSelectionRange(start, start);
    textarea.closest('.editor-scroll')?.querySelector(`[data-line="${line}"]`)?.scrollIntoView({
      block: 'center',
    });
  };

  const setRefs = (el: HTMLTextAreaElement | null) => {
    own.current = el;
    if (typeof textareaRef === 'function') textareaRef(el);
    else if (textareaRef) textareaRef.current = el;
  };

  return (
    <div class="editor-field">
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <div class={error ? 'editor-scroll has-error' : 'editor-scroll'}>
        <ol class="gutter" aria-hidden="true">
          {Array.from({ length: lines }, (_, i) => (
            <li key={i} data-line={i + 1} class={i + 1 === errorLine ? 'error' : undefined}>
              {i + 1}
            </li>
          ))}
        </ol>
        <div class="editor-body">
          {errorLine !== undefined && (
            <div
              class="error-band"
              data-error-line={errorLine}
              style={{ top: `calc(var(--editor-pad) + ${errorLine - 1} * var(--editor-line))` }}
              aria-hidden="true"
            >
              <span class="error-lens">{error?.message}</span>
            </div>
          )}
          <textarea
            id={id}
            ref={setRefs}
            rows={lines + 1}
            wrap="off"
            spellcheck={false}
            autocapitalize="off"
            autocomplete="off"
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={describedBy || undefined}
            value={value}
            onInput={(e) => onInput(e.currentTarget.value)}
          />
        </div>
      </div>
      {error && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {errorLine !== undefined ? <strong>Line {errorLine}: </strong> : null}
          {error.message}{' '}
          {errorLine !== undefined && (
            <button type="button" class="link" onClick={() => goToLine(errorLine)}>
              Go to line {errorLine}
            </button>
          )}
        </p>
      )}
    </div>
  );
}

/** Puts `text` at the caret of `textarea` (or at the end) and returns the new value. */
export function insertAtCursor(textarea: HTMLTextAreaElement | null, value: string, text: string): string {
  if (!textarea) return `${value}${text}`;
  const start = textarea.selectionStart ?? value.length;
  const end = textarea.selectionEnd ?? start;
  return `${value.slice(0, start)}${text}${value.slice(end)}`;
}
