import type * as Y from 'yjs';

export interface CopilotPanelProps {
  notebookId: string;
  doc: Y.Doc;
  /** The cell the user is in; generated cells go after it. */
  focusedCellId: () => string | undefined;
  authHeaders: () => Record<string, string>;
}

/** Generate, fix and explain cells with the configured model. */
export function CopilotPanel(_props: CopilotPanelProps) {
  return <section aria-label="Copilot">Copilot is not available yet.</section>;
}
