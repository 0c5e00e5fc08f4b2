import type {
  AggregateFn,
  CastType,
  CellKind,
  ColumnInfo,
  FileFormat,
  FilterCondition,
  FilterOp,
  JoinType,
} from '@pipebook/shared';
import { createUniqueId, For, type JSX, Show } from 'solid-js';
import {
  defaultMeasureName,
  FILTER_OPS,
  filterValue,
  opTakesValue,
  removeAt,
  replaceAt,
  showValue,
} from '../state/visual-config.ts';

export interface VisualStepFormProps {
  kind: CellKind;
  config: Record<string, unknown>;
  /** Cells this one may read from (every other cell that produces a relation). */
  candidates: Array<{ id: string; name: string }>;
  /** Output columns of a cell's last run, for the column pickers. */
  columnsOf(id: string | undefined): ColumnInfo[];
  readOnly: boolean;
  onPatch(patch: Record<string, unknown>): void;
}

const CASTS: CastType[] = ['integer', 'bigint', 'double', 'decimal', 'varchar', 'boolean', 'date', 'timestamp'];
const AGGS: AggregateFn[] = ['count', 'count_distinct', 'sum', 'avg', 'min', 'max'];
const JOINS: JoinType[] = ['inner', 'left', 'right', 'full'];

/** Column picker: suggests the upstream columns but accepts any name (the upstream may not have run yet). */
function ColumnInput(p: {
  label: string;
  value: string | undefined;
  columns: ColumnInfo[];
  disabled: boolean;
  onChange(v: string): void;
}) {
  const list = createUniqueId();
  return (
    <label class="field">
      <span>{p.label}</span>
      <input
        list={list}
        value={p.value ?? ''}
        disabled={p.disabled}
        onChange={(e) => p.onChange(e.currentTarget.value.trim())}
      />
      <datalist id={list}>
        <For each={p.columns}>{(c) => <option value={c.name}>{c.type}</option>}</For>
      </datalist>
    </label>
  );
}

function CellPicker(p: {
  label: string;
  value: string | undefined;
  candidates: Array<{ id: string; name: string }>;
  disabled: boolean;
  onChange(v: string): void;
}) {
  return (
    <label class="field">
      <span>{p.label}</span>
      <select value={p.value ?? ''} disabled={p.disabled} onChange={(e) => p.onChange(e.currentTarget.value)}>
        <option value="" disabled>
          choose a cell
        </option>
        <For each={p.candidates}>{(c) => <option value={c.id}>{c.name}</option>}</For>
      </select>
    </label>
  );
}

function Choice<T extends string>(p: {
  label: string;
  value: T | undefined;
  options: readonly T[];
  disabled: boolean;
  labels?: (v: T) => string;
  onChange(v: T): void;
}) {
  return (
    <label class="field">
      <span>{p.label}</span>
      <select value={p.value ?? ''} disabled={p.disabled} onChange={(e) => p.onChange(e.currentTarget.value as T)}>
        <For each={p.options}>{(o) => <option value={o}>{p.labels ? p.labels(o) : o}</option>}</For>
      </select>
    </label>
  );
}

function TextInput(p: {
  label: string;
  value: string | number | undefined;
  type?: string;
  disabled: boolean;
  onChange(v: string): void;
}) {
  return (
    <label class="field">
      <span>{p.label}</span>
      <input
        type={p.type ?? 'text'}
        value={p.value ?? ''}
        disabled={p.disabled}
        onChange={(e) => p.onChange(e.currentTarget.value)}
      />
    </label>
  );
}

function Rows<T>(p: {
  legend: string;
  items: T[];
  disabled: boolean;
  empty: T;
  onChange(items: T[]): void;
  row(item: T, i: number): JSX.Element;
}) {
  return (
    <fieldset class="rows">
      <legend>{p.legend}</legend>
      <For each={p.items}>
        {(item, i) => (
          <fieldset class="row">
            <legend class="visually-hidden">{`${p.legend} ${i() + 1}`}</legend>
            {p.row(item, i())}
            <button
              type="button"
              disabled={p.disabled}
              aria-label={`Remove ${p.legend.toLowerCase()} ${i() + 1}`}
              onClick={() => p.onChange(removeAt(p.items, i()))}
            >
              ✕
            </button>
          </fieldset>
        )}
      </For>
      <button type="button" disabled={p.disabled} onClick={() => p.onChange([...p.items, p.empty])}>
        Add {p.legend.toLowerCase()}
      </button>
    </fieldset>
  );
}

/**
 * Where a source reads from or a target writes to: a table (name, optional schema) or a file (path, format).
 * Table-only extras, such as the target's write mode, come in as children.
 */
function TableOrFileFields(p: {
  label: string;
  /** The first one is the default. */
  formats: readonly FileFormat[];
  config: { type?: 'table' | 'file'; table?: string; schema?: string; path?: string; format?: FileFormat };
  disabled: boolean;
  onPatch(patch: Record<string, unknown>): void;
  children?: JSX.Element;
}) {
  const set = (k: string) => (v: unknown) => p.onPatch({ [k]: v });
  const type = () => p.config.type ?? 'table';
  return (
    <>
      <Choice
        label={p.label}
        value={type()}
        options={['table', 'file'] as const}
        disabled={p.disabled}
        onChange={set('type')}
      />
      <Show
        when={type() === 'table'}
        fallback={
          <>
            <TextInput label="Path" value={p.config.path} disabled={p.disabled} onChange={set('path')} />
            <Choice
              label="Format"
              value={p.config.format ?? p.formats[0]}
              options={p.formats}
              disabled={p.disabled}
              onChange={set('format')}
            />
          </>
        }
      >
        <TextInput label="Table" value={p.config.table} disabled={p.disabled} onChange={set('table')} />
        <TextInput
          label="Schema"
          value={p.config.schema}
          disabled={p.disabled}
          onChange={(v) => set('schema')(v || undefined)}
        />
        {p.children}
      </Show>
    </>
  );
}

export function VisualStepForm(props: VisualStepFormProps) {
  // biome-ignore lint/suspicious/noExplicitAny: config is validated per kind by the compiler; the form reads its fields loosely
  const c = () => props.config as Record<string, any>;
  const ro = () => props.readOnly;
  const cols = () => props.columnsOf(c().input);
  const set = (k: string) => (v: unknown) => props.onPatch({ [k]: v });

  const inputPicker = () => (
    <CellPicker label="Input" value={c().input} candidates={props.candidates} disabled={ro()} onChange={set('input')} />
  );

  return (
    <form class="visual-form" aria-label={`${props.kind} settings`} onSubmit={(e) => e.preventDefault()}>
      <Show when={props.kind === 'filter'}>
        {inputPicker()}
        <Choice
          label="Match"
          value={c().combinator ?? 'and'}
          options={['and', 'or'] as const}
          labels={(v) => (v === 'and' ? 'all conditions' : 'any condition')}
          disabled={ro()}
          onChange={set('combinator')}
        />
        <Rows<FilterCondition>
          legend="Condition"
          items={c().conditions ?? []}
          empty={{ column: '', op: '=', value: '' }}
          disabled={ro()}
          onChange={set('conditions')}
          row={(cond, i) => (
            <>
              <ColumnInput
                label="Column"
                value={cond.column}
                columns={cols()}
                disabled={ro()}
                onChange={(v) => set('conditions')(replaceAt(c().conditions, i, { column: v }))}
              />
              <Choice<FilterOp>
                label="Operator"
                value={cond.op}
                options={FILTER_OPS.map((o) => o.op)}
                labels={(v) => FILTER_OPS.find((o) => o.op === v)?.label ?? v}
                disabled={ro()}
                onChange={(op) =>
                  set('conditions')(replaceAt(c().conditions, i, { op, value: filterValue(op, showValue(cond.value)) }))
                }
              />
              <Show when={opTakesValue(cond.op)}>
                <TextInput
                  label="Value"
                  value={showValue(cond.value)}
                  disabled={ro()}
                  onChange={(v) => set('conditions')(replaceAt(c().conditions, i, { value: filterValue(cond.op, v) }))}
                />
              </Show>
            </>
          )}
        />
      </Show>
      <Show when={props.kind === 'select'}>
        {inputPicker()}
        <Rows<{ column: string; as?: string; cast?: CastType }>
          legend="Column"
          items={c().columns ?? []}
          empty={{ column: '' }}
          disabled={ro()}
          onChange={set('columns')}
          row={(col, i) => (
            <>
              <ColumnInput
                label="Column"
                value={col.column}
                columns={cols()}
                disabled={ro()}
                onChange={(v) => set('columns')(replaceAt(c().columns, i, { column: v }))}
              />
              <TextInput
                label="Rename to"
                value={col.as}
                disabled={ro()}
                onChange={(v) => set('columns')(replaceAt(c().columns, i, { as: v || undefined }))}
              />
              <label class="field">
                <span>Cast</span>
                <select
                  value={col.cast ?? ''}
                  disabled={ro()}
                  onChange={(e) =>
                    set('columns')(
                      replaceAt(c().columns, i, { cast: (e.currentTarget.value || undefined) as CastType | undefined }),
                    )
                  }
                >
                  <option value="">keep type</option>
                  <For each={CASTS}>{(t) => <option value={t}>{t}</option>}</For>
                </select>
              </label>
            </>
          )}
        />
      </Show>
      <Show when={props.kind === 'join'}>
        <CellPicker
          label="Left"
          value={c().left}
          candidates={props.candidates}
          disabled={ro()}
          onChange={set('left')}
        />
        <CellPicker
          label="Right"
          value={c().right}
          candidates={props.candidates}
          disabled={ro()}
          onChange={set('right')}
        />
        <Choice<JoinType>
          label="Join type"
          value={c().type ?? 'inner'}
          options={JOINS}
          disabled={ro()}
          onChange={set('type')}
        />
        <Rows<{ left: string; right: string }>
          legend="Key"
          items={c().on ?? []}
          empty={{ left: '', right: '' }}
          disabled={ro()}
          onChange={set('on')}
          row={(k, i) => (
            <>
              <ColumnInput
                label="Left column"
                value={k.left}
                columns={props.columnsOf(c().left)}
                disabled={ro()}
                onChange={(v) => set('on')(replaceAt(c().on, i, { left: v }))}
              />
              <ColumnInput
                label="Right column"
                value={k.right}
                columns={props.columnsOf(c().right)}
                disabled={ro()}
                onChange={(v) => set('on')(replaceAt(c().on, i, { right: v }))}
              />
            </>
          )}
        />
      </Show>
      <Show when={props.kind === 'aggregate'}>
        {inputPicker()}
        <Rows<string>
          legend="Group by"
          items={c().groupBy ?? []}
          empty={''}
          disabled={ro()}
          onChange={set('groupBy')}
          row={(g, i) => (
            <ColumnInput
              label="Column"
              value={g}
              columns={cols()}
              disabled={ro()}
              onChange={(v) => set('groupBy')((c().groupBy as string[]).map((x, j) => (j === i ? v : x)))}
            />
          )}
        />
        <Rows<{ fn: AggregateFn; column?: string; as: string }>
          legend="Measure"
          items={c().measures ?? []}
          empty={{ fn: 'count', as: 'row_count' }}
          disabled={ro()}
          onChange={set('measures')}
          row={(m, i) => (
            <>
              <Choice<AggregateFn>
                label="Function"
                value={m.fn}
                options={AGGS}
                disabled={ro()}
                onChange={(fn) => set('measures')(replaceAt(c().measures, i, { fn }))}
              />
              <ColumnInput
                label="Column"
                value={m.column}
                columns={cols()}
                disabled={ro()}
                onChange={(v) =>
                  set('measures')(
                    replaceAt(c().measures, i, {
                      column: v || undefined,
                      as:
                        m.as && m.as !== defaultMeasureName(m.fn, m.column)
                          ? m.as
                          : defaultMeasureName(m.fn, v || undefined),
                    }),
                  )
                }
              />
              <TextInput
                label="Name"
                value={m.as}
                disabled={ro()}
                onChange={(v) => set('measures')(replaceAt(c().measures, i, { as: v }))}
              />
            </>
          )}
        />
      </Show>
      <Show when={props.kind === 'sort'}>
        {inputPicker()}
        <Rows<{ column: string; direction: 'asc' | 'desc'; nulls?: 'first' | 'last' }>
          legend="Sort key"
          items={c().keys ?? []}
          empty={{ column: '', direction: 'asc' }}
          disabled={ro()}
          onChange={set('keys')}
          row={(k, i) => (
            <>
              <ColumnInput
                label="Column"
                value={k.column}
                columns={cols()}
                disabled={ro()}
                onChange={(v) => set('keys')(replaceAt(c().keys, i, { column: v }))}
              />
              <Choice
                label="Direction"
                value={k.direction}
                options={['asc', 'desc'] as const}
                disabled={ro()}
                onChange={(direction) => set('keys')(replaceAt(c().keys, i, { direction }))}
              />
            </>
          )}
        />
      </Show>
      <Show when={props.kind === 'limit'}>
        {inputPicker()}
        <TextInput
          label="Rows"
          type="number"
          value={c().count}
          disabled={ro()}
          onChange={(v) => set('count')(Math.max(0, Math.floor(Number(v) || 0)))}
        />
        <TextInput
          label="Skip"
          type="number"
          value={c().offset}
          disabled={ro()}
          onChange={(v) => set('offset')(v === '' ? undefined : Math.max(0, Math.floor(Number(v) || 0)))}
        />
      </Show>
      <Show when={props.kind === 'union'}>
        <Rows<string>
          legend="Input"
          items={c().inputs ?? []}
          empty={''}
          disabled={ro()}
          onChange={set('inputs')}
          row={(id, i) => (
            <CellPicker
              label="Cell"
              value={id}
              candidates={props.candidates}
              disabled={ro()}
              onChange={(v) => set('inputs')((c().inputs as string[]).map((x, j) => (j === i ? v : x)))}
            />
          )}
        />
        <label class="field checkbox">
          <input
            type="checkbox"
            checked={!!c().distinct}
            disabled={ro()}
            onChange={(e) => set('distinct')(e.currentTarget.checked)}
          />
          <span>Remove duplicate rows</span>
        </label>
      </Show>
      <Show when={props.kind === 'target'}>
        {inputPicker()}
        <TableOrFileFields
          label="Write to"
          formats={['parquet', 'csv', 'json']}
          config={c()}
          disabled={ro()}
          onPatch={props.onPatch}
        >
          <Choice
            label="Mode"
            value={c().mode ?? 'replace'}
            options={['replace', 'append'] as const}
            disabled={ro()}
            onChange={set('mode')}
          />
        </TableOrFileFields>
      </Show>
      <Show when={props.kind === 'source'}>
        <TableOrFileFields
          label="Read from"
          formats={['csv', 'parquet', 'json']}
          config={c()}
          disabled={ro()}
          onPatch={props.onPatch}
        />
      </Show>
    </form>
  );
}
