import { createSignal, For, Show } from 'solid-js';
import type { Role } from '../net/api.ts';
import { navigate } from '../router.ts';
import { createNotebookListStore } from '../state/notebook-list.ts';

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

export function NotebooksPage() {
  const list = createNotebookListStore();
  const [renaming, setRenaming] = createSignal<string | undefined>();
  const [sharing, setSharing] = createSignal<string | undefined>();
  let fileInput!: HTMLInputElement;

  const open = (id: string) => navigate({ page: 'notebook', id });
  const create = async (template: 'empty' | 'demo') => {
    const nb = await list.create(template);
    if (nb) open(nb.id);
  };

  return (
    <main class="page notebooks-page">
      <header class="page-header">
        <h1>Pipebook</h1>
        <div class="actions" role="toolbar" aria-label="New notebook">
          <button type="button" onClick={() => create('empty')}>
            New notebook
          </button>
          <button type="button" onClick={() => create('demo')}>
            New from demo
          </button>
          <button type="button" onClick={() => fileInput.click()}>
            Import .pipebook.json
          </button>
          <input
            ref={fileInput}
            type="file"
            accept=".json,application/json"
            aria-label="Notebook file to import"
            class="visually-hidden"
            onChange={async (e) => {
              const input = e.currentTarget;
              const f = input.files?.[0];
              if (!f) return;
              const text = await f.text();
              input.value = '';
              const nb = await list.importFile(text);
              if (nb) open(nb.id);
            }}
          />
        </div>
      </header>
      <Show when={list.error()}>
        <p role="alert" class="error">
          {list.error()}
        </p>
      </Show>
      <Show when={!list.loading()} fallback={<p aria-busy="true">Loading notebooks…</p>}>
        <Show when={list.notebooks().length > 0} fallback={<p>No notebooks yet. Create one to start.</p>}>
          <ul class="notebook-list" aria-label="Notebooks">
            <For each={list.notebooks()}>
              {(nb) => (
                <li class="notebook-item">
                  <Show
                    when={renaming() === nb.id}
                    fallback={
                      <a
                        href={`/notebooks/${nb.id}`}
                        onClick={(e) => {
                          e.preventDefault();
                          open(nb.id);
                        }}
                      >
                        {nb.title}
                      </a>
                    }
                  >
                    <form
                      onSubmit={async (e) => {
                        e.preventDefault();
                        const title = new FormData(e.currentTarget).get('title') as string;
                        await list.rename(nb.id, title);
                        setRenaming(undefined);
                      }}
                    >
                      <input name="title" aria-label="New title" value={nb.title} autofocus />
                      <button type="submit">Save</button>
                      <button type="button" onClick={() => setRenaming(undefined)}>
                        Cancel
                      </button>
                    </form>
                  </Show>
                  <Show when={nb.role}>
                    <span class="role">{nb.role}</span>
                  </Show>
                  <span class="actions">
                    <button type="button" aria-label={`Rename ${nb.title}`} onClick={() => setRenaming(nb.id)}>
                      Rename
                    </button>
                    <button type="button" aria-label={`Share ${nb.title}`} onClick={() => setSharing(nb.id)}>
                      Share
                    </button>
                    <button
                      type="button"
                      aria-label={`Export ${nb.title}`}
                      onClick={async () => {
                        const text = await list.exportFile(nb.id);
                        if (text) download(`${nb.title.replace(/[^\w-]+/g, '_')}.pipebook.json`, text);
                      }}
                    >
                      Export
                    </button>
                    <button
                      type="button"
                      aria-label={`Delete ${nb.title}`}
                      onClick={() => {
                        if (window.confirm(`Delete "${nb.title}"? This cannot be undone.`)) void list.remove(nb.id);
                      }}
                    >
                      Delete
                    </button>
                  </span>
                  <Show when={sharing() === nb.id}>
                    <form
                      class="share-form"
                      aria-label={`Share ${nb.title}`}
                      onSubmit={async (e) => {
                        e.preventDefault();
                        const data = new FormData(e.currentTarget);
                        await list.share(nb.id, String(data.get('user')), data.get('role') as Role);
                        setSharing(undefined);
                      }}
                    >
                      <label>
                        User id <input name="user" required />
                      </label>
                      <label>
                        Role
                        <select name="role">
                          <option value="editor">editor</option>
                          <option value="viewer">viewer</option>
                          <option value="owner">owner</option>
                        </select>
                      </label>
                      <button type="submit">Share</button>
                      <button type="button" onClick={() => setSharing(undefined)}>
                        Cancel
                      </button>
                    </form>
                  </Show>
                </li>
              )}
            </For>
          </ul>
        </Show>
      </Show>
    </main>
  );
}
