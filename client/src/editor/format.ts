// Format a cell's SQL in its engine's dialect. The result replaces the text as a minimal edit (shared replaceText),
// so a colleague typing elsewhere in the same cell keeps their edit.
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { formatterLanguage } from './dialects.ts';

// sql-formatter is a large module needed only when someone formats: it loads on first use, not with the page.
export async function formatSql(sql: string, dialect: Dialect): Promise<string> {
  const { format } = await import('sql-formatter');
  return format(sql, { language: formatterLanguage(dialect), keywordCase: 'upper', tabWidth: 2 });
}
