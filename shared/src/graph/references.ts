// Placeholder until the SQL tokenizer lands: finds no references.
export interface TextEdit {
  start: number;
  end: number;
  text: string;
}
export function rewriteReferences(_sql: string, _from: string, _to: string): TextEdit[] {
  return [];
}
