// Format a cell's SQL in its engine's dialect. The result replaces the text as a minimal edit (shared replaceText),
// so a colleague typing elsewhere in the same cell keeps their edit.
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { format } from 'sql-formatter';
import { formatterLanguage } from './dialects.ts';

export function formatSql(sql: string, dialect: Dialect): string {
  return format(sql, { language: formatterLanguage(dialect), keywordCase: 'upper', tabWidth: 2 });
}
