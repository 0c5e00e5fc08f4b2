import { createSignal, onCleanup, Show } from 'solid-js';
import { kernelApi } from '../net/api.ts';
import { createResultPager } from '../state/results.ts';
import { ChartView } from './ChartView.tsx';
import { ResultsGrid } from './ResultsGrid.tsx';

/** A cell's last result as a table or a chart; mounted per run, so a new run starts from a fresh page cache. */
export function ResultsPanel(props: { notebookId: string; cellId: string; cellName: string }) {
  const pager = createResultPager((offset, limit, signal) =>
    kernelApi.results(props.notebookId, props.cellId, offset, limit, signal),
  );
  onCleanup(() => pager.dispose());
  const [tab, setTab] = createSignal<'table' | 'chart'>('table');
  return (
    <section class="results" aria-label={`Result of ${props.cellName}`}>
      <div class="tabs" role="tablist" aria-label="Result view">
        <button type="button" role="tab" aria-selected={tab() === 'table'} onClick={() => setTab('table')}>
          Table
        </button>
        <button type="button" role="tab" aria-selected={tab() === 'chart'} onClick={() => setTab('chart')}>
          Chart
        </button>
      </div>
      <Show when={tab() === 'table'} fallback={<ChartView pager={pager} label={props.cellName} />}>
        <ResultsGrid pager={pager} label={`Rows of ${props.cellName}`} />
      </Show>
    </section>
  );
}
