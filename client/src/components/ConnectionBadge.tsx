import { Match, Switch } from 'solid-js';
import { type ConnectionState, describeClose } from '../state/connection.ts';

export function ConnectionBadge(props: { state: ConnectionState }) {
  return (
    <output class={`connection connection-${props.state.kind}`} aria-live="polite" data-state={props.state.kind}>
      <Switch>
        <Match when={props.state.kind === 'online'}>● Online</Match>
        <Match when={props.state.kind === 'connecting'}>○ Connecting…</Match>
        <Match when={props.state.kind === 'offline'}>○ Offline: edits are kept and merge when you reconnect</Match>
        <Match when={props.state.kind === 'closed' && props.state}>
          {(s) => `✕ ${describeClose((s() as { code: number }).code, (s() as { reason: string }).reason)}`}
        </Match>
      </Switch>
    </output>
  );
}
