import { render } from 'solid-js/web';
import { App } from './app.tsx';
import { captureTokenFromUrl } from './net/auth.ts';
import './styles.css';

captureTokenFromUrl();
render(() => <App />, document.getElementById('root')!);

// The app shell is cached by a service worker so a reload while offline still opens (built app only: the dev
// server's modules are not cacheable that way).
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch(() => undefined);
}
