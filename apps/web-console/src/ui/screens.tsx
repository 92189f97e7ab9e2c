// Whole-page states: signed out, not allowed, broken configuration. Each says what happened and the
// one thing to do next.
import type { ComponentChildren } from 'preact';

export function Notice(props: {
  title: string;
  tone?: 'info' | 'warn' | 'error';
  children?: ComponentChildren;
  testId?: string;
}) {
  return (
    <main class={`notice notice-${props.tone ?? 'info'}`} data-testid={props.testId}>
      <h1>{props.title}</h1>
      {props.children}
    </main>
  );
}

export function SignedOutScreen(props: { onSignIn: () => void; reason?: string }) {
  return (
    <Notice title="You are signed out" testId="signed-out">
      <p>{props.reason ?? 'Sign in with your work account to handle mail or watch the queues.'}</p>
      <button class="primary big" onClick={props.onSignIn} autoFocus>
        Sign in with Microsoft
      </button>
    </Notice>
  );
}

export function NotAllowedScreen(props: { what: string; detail?: string; children?: ComponentChildren }) {
  return (
    <Notice title="Not allowed" tone="warn" testId="not-allowed">
      <p>{props.what}</p>
      {props.detail ? <p class="muted">{props.detail}</p> : null}
      {props.children}
    </Notice>
  );
}

export function ConfigErrorScreen(props: { message: string }) {
  return (
    <Notice title="The console is not set up" tone="error" testId="config-error">
      <p>{props.message}</p>
      <p class="muted">An administrator needs to fix the console's config.json on the web gateway.</p>
    </Notice>
  );
}
