// Who the browser is. In token mode the JWT arrives once as `?token=` in the URL, is kept in localStorage (so links
// without it keep working) and sent as a Bearer header and as the socket's `token` parameter. In local mode there is
// no token and the collaboration server treats every request as the local user.

const STORAGE_KEY = 'pipebook.token';

export interface Identity {
  id: string;
  name: string;
}

export const LOCAL_IDENTITY: Identity = { id: 'local', name: 'Local user' };

/** Takes `?token=` out of the address bar (so it is not shared by copy-paste) and remembers it. */
export function captureTokenFromUrl(loc: Location = window.location, storage: Storage = window.localStorage): void {
  const url = new URL(loc.href);
  const token = url.searchParams.get('token');
  if (!token) return;
  storage.setItem(STORAGE_KEY, token);
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
}

export function currentToken(storage: Storage = window.localStorage): string | undefined {
  return storage.getItem(STORAGE_KEY) ?? undefined;
}

export function authHeaders(): Record<string, string> {
  const token = currentToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * The display identity from the token's claims. The server verifies the token; the browser only reads `sub` and
 * `name` to label its own cursor, so no signature check is needed here.
 */
export function identityFromToken(token: string | undefined): Identity {
  if (!token) return LOCAL_IDENTITY;
  const part = token.split('.')[1];
  if (!part) return LOCAL_IDENTITY;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as { sub?: unknown; name?: unknown };
    const id = typeof claims.sub === 'string' ? claims.sub : LOCAL_IDENTITY.id;
    const name = typeof claims.name === 'string' && claims.name ? claims.name : id;
    return { id, name };
  } catch {
    return LOCAL_IDENTITY;
  }
}

const PALETTE = ['#d1495b', '#00798c', '#edae49', '#66a182', '#8d5a97', '#3d5a80', '#e07a5f', '#2a9d8f'];

/** A stable colour per person, so the same colleague has the same cursor colour on every screen. */
export function colorFor(userId: string): { color: string; light: string } {
  let h = 0;
  for (let i = 0; i < userId.length; i++) h = (h * 31 + userId.charCodeAt(i)) >>> 0;
  const color = PALETTE[h % PALETTE.length];
  return { color, light: `${color}33` };
}
