// Counters for GET /metrics (Prometheus text format). Plain numbers, updated inline where things happen.
export class CollabMetrics {
  connections = 0;
  pendingHandshakes = 0;
  connectionsTotal = 0;
  updatesTotal = 0;
  updatesRefusedTotal = 0;
  messagesTotal = 0;
  closedTotal = new Map<string, number>();
  handshakesRejectedTotal = new Map<string, number>();
  storeCommits = 0;
  storeCommitSecondsSum = 0;
  storeCommitSecondsMax = 0;
  storeFailuresTotal = 0;
  compactionsTotal = 0;
  loadFailuresTotal = 0;
  broadcastBytesTotal = 0;
  private window: Array<{ at: number; updates: number }> = [];

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  commit(seconds: number): void {
    this.storeCommits++;
    this.storeCommitSecondsSum += seconds;
    if (seconds > this.storeCommitSecondsMax) this.storeCommitSecondsMax = seconds;
  }

  /** Updates per second over the last 10 seconds (sampled each scrape). */
  updatesPerSecond(now = Date.now()): number {
    this.window.push({ at: now, updates: this.updatesTotal });
    while (this.window.length > 1 && now - this.window[0].at > 10_000) this.window.shift();
    const first = this.window[0];
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? (this.updatesTotal - first.updates) / seconds : 0;
  }

  render(docsLoaded: number): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: Array<[string, number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
    };
    const labelled = (label: string, m: Map<string, number>): Array<[string, number]> =>
      [...m].map(([k, v]) => [`{${label}="${k}"}`, v]);
    metric('pipebook_collab_connections', 'gauge', 'Open document sockets.', [['', this.connections]]);
    metric('pipebook_collab_handshakes_pending', 'gauge', 'Socket handshakes being authenticated.', [
      ['', this.pendingHandshakes],
    ]);
    metric('pipebook_collab_connections_total', 'counter', 'Document sockets accepted.', [['', this.connectionsTotal]]);
    metric('pipebook_collab_docs_loaded', 'gauge', 'Documents held in memory.', [['', docsLoaded]]);
    metric('pipebook_collab_updates_total', 'counter', 'Document updates stored and broadcast.', [
      ['', this.updatesTotal],
    ]);
    metric('pipebook_collab_updates_per_second', 'gauge', 'Updates per second over the last 10 s.', [
      ['', Number(this.updatesPerSecond().toFixed(3))],
    ]);
    metric('pipebook_collab_updates_refused_total', 'counter', 'Updates refused (viewers).', [
      ['', this.updatesRefusedTotal],
    ]);
    metric('pipebook_collab_messages_total', 'counter', 'Socket messages received.', [['', this.messagesTotal]]);
    metric('pipebook_collab_broadcast_bytes_total', 'counter', 'Bytes sent to peers.', [
      ['', this.broadcastBytesTotal],
    ]);
    metric('pipebook_collab_socket_closes_total', 'counter', 'Sockets closed by the server, by reason.', [
      ...labelled('reason', this.closedTotal),
    ]);
    metric('pipebook_collab_handshakes_rejected_total', 'counter', 'Socket handshakes refused, by reason.', [
      ...labelled('reason', this.handshakesRejectedTotal),
    ]);
    metric('pipebook_collab_store_commit_seconds', 'summary', 'Group commit latency of the store.', [
      ['_sum', Number(this.storeCommitSecondsSum.toFixed(6))],
      ['_count', this.storeCommits],
    ]);
    metric('pipebook_collab_store_commit_seconds_max', 'gauge', 'Slowest group commit so far.', [
      ['', Number(this.storeCommitSecondsMax.toFixed(6))],
    ]);
    metric('pipebook_collab_store_failures_total', 'counter', 'Failed loads and commits.', [
      ['', this.storeFailuresTotal + this.loadFailuresTotal],
    ]);
    metric('pipebook_collab_compactions_total', 'counter', 'Log-to-snapshot compactions.', [
      ['', this.compactionsTotal],
    ]);
    return `${lines.join('\n')}\n`;
  }
}
