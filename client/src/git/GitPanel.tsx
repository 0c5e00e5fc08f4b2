import type * as Y from 'yjs';

export interface GitPanelProps {
  notebookId: string;
  doc: Y.Doc;
  /** Headers for API calls (Authorization in token mode). */
  authHeaders: () => Record<string, string>;
}

/** Snapshot, history with diffs, restore, branches, export and push for one notebook. */
export function GitPanel(_props: GitPanelProps) {
  return <section aria-label="Git">Git is not available yet.</section>;
}
