// Autocompletion: the kernel's catalog tables and columns, plus the other cells of the notebook by name with the
// output columns of their last run. The schema is read through a getter at completion time, so new catalog data or
// a colleague's run never reconfigures the editors.
import type { Completion, CompletionContext, CompletionSource } from '@codemirror/autocomplete';
import { type SQLNamespace, schemaCompletionSource } from '@codemirror/lang-sql';
import { EditorState, type Extension } from '@codemirror/state';
import { type CellKind, type ColumnInfo, producesRelation } from '@pipebook/shared';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { codemirrorDialect } from './dialects.ts';

export interface CatalogTableInfo {
  schema?: string;
  name: string;
  columns: ColumnInfo[];
}

export interface CompletionCell {
  id: string;
  name: string;
  kind: CellKind;
  /** Output columns of the cell's last run, when known. */
  columns?: ColumnInfo[];
}

function columnOptions(cols: ColumnInfo[] | undefined): Completion[] {
  return (cols ?? []).map((c) => ({ label: c.name, type: 'property', detail: c.type }));
}

/** The SQL namespace for one cell: catalog tables (bare and schema-qualified) and every other cell that has output. */
export function buildCompletionSchema(
  catalog: CatalogTableInfo[],
  cells: CompletionCell[],
  selfId: string | undefined,
): SQLNamespace {
  const ns: Record<string, SQLNamespace> = {};
  for (const t of catalog) {
    const cols = columnOptions(t.columns);
    ns[t.name] = {
      self: { label: t.name, type: 'type', detail: t.schema ? `table ${t.schema}` : 'table' },
      children: cols,
    };
    if (t.schema) {
      const inSchema = (ns[t.schema] as Record<string, SQLNamespace> | undefined) ?? {};
      if (!Array.isArray(inSchema) && !('self' in inSchema)) {
        inSchema[t.name] = cols;
        ns[t.schema] = inSchema;
      }
    }
  }
  // Cells shadow catalog tables of the same name, as they do when the notebook compiles.
  for (const c of cells) {
    if (c.id === selfId || !c.name || !producesRelation(c.kind)) continue;
    ns[c.name] = {
      self: { label: c.name, type: 'variable', detail: `cell (${c.kind})`, boost: 1 },
      children: columnOptions(c.columns),
    };
  }
  return ns;
}

export function cellCompletion(getSchema: () => SQLNamespace, getDialect: () => Dialect): Extension {
  let cachedFor: SQLNamespace | undefined;
  let cachedDialect: Dialect | undefined;
  let source: CompletionSource | undefined;
  const complete: CompletionSource = (ctx: CompletionContext) => {
    const schema = getSchema();
    const dialect = getDialect();
    if (!source || schema !== cachedFor || dialect !== cachedDialect) {
      source = schemaCompletionSource({ schema, dialect: codemirrorDialect(dialect), upperCaseKeywords: true });
      cachedFor = schema;
      cachedDialect = dialect;
    }
    return source(ctx);
  };
  return EditorState.languageData.of(() => [{ autocomplete: complete }]);
}
