// The notebooks page's state: the list from the collaboration server and the actions on it.
import { parseNotebookJson } from '@pipebook/shared';
import { type Accessor, createSignal } from 'solid-js';
import { type NotebookSummary, notebooksApi, type Role } from '../net/api.ts';

export interface NotebookListStore {
  notebooks: Accessor<NotebookSummary[]>;
  loading: Accessor<boolean>;
  error: Accessor<string | undefined>;
  refresh(): Promise<void>;
  create(template: 'empty' | 'demo', title?: string): Promise<NotebookSummary | undefined>;
  importFile(text: string): Promise<NotebookSummary | undefined>;
  rename(id: string, title: string): Promise<void>;
  remove(id: string): Promise<void>;
  share(id: string, userId: string, role: Role): Promise<void>;
  exportFile(id: string): Promise<string | undefined>;
}

export function createNotebookListStore(api = notebooksApi): NotebookListStore {
  const [notebooks, setNotebooks] = createSignal<NotebookSummary[]>([]);
  const [loading, setLoading] = createSignal(true);
  const [error, setError] = createSignal<string | undefined>();

  const guard = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      setError(undefined);
      return await fn();
    } catch (e) {
      setError((e as Error).message);
      return undefined;
    }
  };
  const refresh = async () => {
    await guard(async () => setNotebooks(await api.list()));
    setLoading(false);
  };
  void refresh();

  return {
    notebooks,
    loading,
    error,
    refresh,
    create: (template, title) =>
      guard(async () => {
        const nb = await api.create({ template, ...(title ? { title } : {}) });
        await refresh();
        return nb;
      }),
    importFile: (text) =>
      guard(async () => {
        // Validate here so a bad file is explained before anything is sent.
        const file = parseNotebookJson(text);
        const nb = await api.create({ file });
        await refresh();
        return nb;
      }),
    rename: async (id, title) => {
      await guard(() => api.rename(id, title));
      await refresh();
    },
    remove: async (id) => {
      await guard(() => api.remove(id));
      await refresh();
    },
    share: async (id, userId, role) => {
      await guard(() => api.share(id, userId, role));
    },
    exportFile: (id) => guard(async () => JSON.stringify(await api.exportFile(id), null, 2)),
  };
}
