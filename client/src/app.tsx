import { Match, Switch } from 'solid-js';
import { NotebookPage } from './pages/NotebookPage.tsx';
import { NotebooksPage } from './pages/NotebooksPage.tsx';
import { createRouter, navigate } from './router.ts';

export function App() {
  const route = createRouter();
  return (
    <Switch>
      <Match when={route().page === 'list'}>
        <NotebooksPage />
      </Match>
      <Match
        when={(() => {
          const r = route();
          return r.page === 'notebook' ? r : undefined;
        })()}
        keyed
      >
        {(r) => <NotebookPage id={r.id} />}
      </Match>
      <Match when={route().page === 'not_found'}>
        <main class="page">
          <h1>Page not found</h1>
          <button type="button" onClick={() => navigate({ page: 'list' })}>
            Back to notebooks
          </button>
        </main>
      </Match>
    </Switch>
  );
}
