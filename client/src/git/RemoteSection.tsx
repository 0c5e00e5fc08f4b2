import { createSignal, Show } from 'solid-js';
import { FIELD, FORM, type GitPanelStore, mergeSummary, short } from './git-panel-store.ts';

/** Export download, and the remote: set it (owners), push and pull. */
export function RemoteSection(props: { store: GitPanelStore }) {
  const s = props.store;
  const [remoteUrl, setRemoteUrl] = createSignal('');
  const [remoteTokenEnv, setRemoteTokenEnv] = createSignal('PIPEBOOK_GIT_TOKEN');

  const download = () =>
    s.act('export', async () => {
      const { blob, filename } = await s.api.exportZip();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return `Downloaded ${filename}.`;
    });

  return (
    <section aria-label="Export and remote">
      <h3>Export and remote</h3>
      <button type="button" disabled={!!s.busy()} onClick={download}>
        Download project (.zip)
      </button>
      <Show
        when={s.status()?.remote}
        fallback={
          <form
            aria-label="Remote"
            style={FORM}
            onSubmit={(e) => {
              e.preventDefault();
              void s.act('remote', async () => {
                await s.api.setRemote({ url: remoteUrl(), tokenEnv: remoteTokenEnv() || undefined });
                return 'Remote saved.';
              });
            }}
          >
            <label style={FIELD}>
              Remote URL (https)
              <input value={remoteUrl()} onInput={(e) => setRemoteUrl(e.currentTarget.value)} />
            </label>
            <label style={FIELD}>
              Token variable on the server
              <input value={remoteTokenEnv()} onInput={(e) => setRemoteTokenEnv(e.currentTarget.value)} />
            </label>
            <button type="submit" disabled={!remoteUrl() || !!s.busy()}>
              Save remote
            </button>
          </form>
        }
      >
        {(remote) => (
          <div>
            <p>
              Remote: {remote().url}
              {remote().tokenEnv
                ? remote().tokenPresent
                  ? ` (token from ${remote().tokenEnv})`
                  : ` (${remote().tokenEnv} is not set on the server)`
                : ''}
            </p>
            <button
              type="button"
              disabled={!!s.busy()}
              onClick={() =>
                s.act('push', async () => {
                  const r = await s.api.push();
                  return r.status === 'up_to_date'
                    ? 'The remote is up to date.'
                    : `Pushed ${short(r.commit)} to ${r.branch}.`;
                })
              }
            >
              Push
            </button>
            <button
              type="button"
              disabled={!!s.busy()}
              onClick={() =>
                s.act('pull', async () => {
                  const r = await s.api.pull();
                  s.setConflicts(r.conflicts);
                  if (r.restoreId) s.setUndoId(r.restoreId);
                  return `Pull: ${mergeSummary(r)}`;
                })
              }
            >
              Pull
            </button>
          </div>
        )}
      </Show>
    </section>
  );
}
