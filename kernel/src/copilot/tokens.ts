// Deterministic token estimate for prompt budgeting. Real tokenizers differ per model; SQL identifiers and type
// names split into more tokens than prose, so this counts one token per 3 characters (a conservative bound for
// BPE tokenizers on schema text) and never fewer than the number of words.
export function estimateTokens(text: string): number {
  if (!text) return 0;
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.max(Math.ceil(text.length / 3), words);
}

/** Tokens of a chat message list, with a small per-message overhead as the Chat Completions format adds. */
export function estimateMessagesTokens(messages: Array<{ role: string; content: string }>): number {
  let n = 3;
  for (const m of messages) n += 4 + estimateTokens(m.content);
  return n;
}
