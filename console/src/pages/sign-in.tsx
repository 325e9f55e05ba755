import { useState } from 'preact/hooks';
import type { Me, SignInHint } from '../../../src/admin/contract';
import { api } from '../api';
import { CheckField } from '../components/fields';
import { ErrorNotice } from '../components/notice';
import { apiErrorOf } from '../errors';
import type { ApiError } from '../../../src/admin/contract';

interface Props {
  hint: SignInHint | undefined;
  onSignedIn: () => void;
}

/** The local dev sign-in (a name, no password), or the way to Entra ID when the console runs in Azure. */
export function SignInPage({ hint, onSignedIn }: Props) {
  const [name, setName] = useState('');
  const [admin, setAdmin] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.devSignIn({ name: name.trim(), admin });
      onSignedIn();
    } catch (err) {
      setError(apiErrorOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in" tabIndex={-1}>
      <div class="card">
        <h1>Sign in to sigrelay</h1>
        {hint?.mode === 'easyauth' ? (
          <>
            <p>This console is protected by your organisation's Microsoft Entra ID.</p>
            <a class="button primary" href={hint.url}>
              Sign in with Microsoft Entra ID
            </a>
          </>
        ) : (
          <form onSubmit={(e) => void submit(e)}>
            <p class="hint">
              Local development sign-in: a name, no password. In Azure the console signs in with Microsoft
              Entra ID instead.
            </p>
            <div class="field">
              <label for="signin-name">Your name</label>
              <input
                id="signin-name"
                type="text"
                required
                autocomplete="username"
                value={name}
                onInput={(e) => setName(e.currentTarget.value)}
              />
            </div>
            <CheckField
              id="signin-admin"
              label="With the administrator role"
              checked={admin}
              onChange={setAdmin}
            />
            <ErrorNotice error={error} />
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        )}
      </div>
    </main>
  );
}

/** Signed in, but without the administrator role: every page would answer 403. */
export function ForbiddenPage({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  return (
    <main id="main" class="sign-in" tabIndex={-1}>
      <div class="card">
        <h1>No access</h1>
        <p>
          You are signed in as <strong>{me.name}</strong>, without the sigrelay administrator role. Ask an
          administrator to give you the role, then sign in again.
        </p>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </main>
  );
}
