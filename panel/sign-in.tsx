import { useState } from "preact/hooks";

/** The sign-in form: asks for the admin token; shows why the last one was refused. */
export function SignIn(props: { error?: string; onToken: (token: string) => void }) {
  const [token, setToken] = useState("");
  return (
    <div class="signin">
      <form
        class="card signin-card"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) props.onToken(token.trim());
        }}
      >
        <div class="brand big">
          <span class="logo">◆</span> dis.io
        </div>
        <p class="muted">Sign in to this manager with its admin token. The manager prints where it keeps it (<code>.disio/manager/admin-token</code>).</p>
        {props.error && (
          <p class="error" role="alert">
            {props.error}
          </p>
        )}
        <label>
          Admin token
          <input name="token" type="password" autoComplete="current-password" value={token} onInput={(e) => setToken(e.currentTarget.value)} autoFocus />
        </label>
        <button class="primary" type="submit">
          Sign in
        </button>
        <p class="muted small">The token stays in this tab only. Scripts and bookmarks may pass it as <code>#token=…</code>.</p>
      </form>
    </div>
  );
}
