// References from PySpark cells: which cell names a piece of Python reads (rule in docs/compiler.md, section 2).
import { findReferences } from './references.ts';

const SQL_HINT = /\b(?:from|join)\b/i;

const PY_KEYWORDS = new Set([
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield',
]);

/**
 * Names a PySpark cell reads. The rule: a Python identifier outside comments and strings that is not an attribute
 * (`df.orders` is not a reference) and not a keyword argument name (`f(orders=1)`), or a string literal whose whole
 * text is a name (`spark.table("orders")`), or a table reference in SQL inside a string
 * (`spark.sql("SELECT * FROM orders")`, read as Spark SQL). Python names are case-sensitive, but cell names are
 * unique without regard to case, so matching ignores case like SQL does.
 */
export function pythonReferences(source: string): Array<{ name: string; start: number; end: number }> {
  const out: Array<{ name: string; start: number; end: number }> = [];
  const n = source.length;
  let i = 0;
  let prevSignificant = '';
  while (i < n) {
    const ch = source[i];
    if (ch === '#') {
      while (i < n && source[i] !== '\n') i++;
      continue;
    }
    const strStart = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(source.slice(i, i + 5));
    if (strStart && (strStart[1] === '' || /[A-Za-z_]/.test(ch))) {
      const quote = strStart[2];
      const raw = /[rR]/.test(strStart[1]);
      let j = i + strStart[0].length;
      const bodyStart = j;
      while (j < n && !source.startsWith(quote, j)) {
        if (!raw && source[j] === '\\') j++;
        else if (quote.length === 1 && source[j] === '\n') break;
        j++;
      }
      const body = source.slice(bodyStart, Math.min(j, n));
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(body))
        out.push({ name: body, start: bodyStart, end: bodyStart + body.length });
      else if (SQL_HINT.test(body)) {
        // SQL in a string (`spark.sql("SELECT * FROM orders")`): its table references, read as Spark SQL
        for (const r of findReferences(body, 'databricks')) {
          // a quoted name's offsets exclude its quotes, so a rename keeps them
          const inner = r.quote ? 1 : 0;
          out.push({ name: r.name, start: bodyStart + r.start + inner, end: bodyStart + r.end - inner });
        }
      }
      i = Math.min(n, j + quote.length);
      prevSignificant = 'str';
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(source[j])) j++;
      const word = source.slice(i, j);
      let k = j;
      while (k < n && (source[k] === ' ' || source[k] === '\t')) k++;
      const isKwarg =
        source[k] === '=' && source[k + 1] !== '=' && (prevSignificant === '(' || prevSignificant === ',');
      if (prevSignificant !== '.' && !PY_KEYWORDS.has(word) && !isKwarg) out.push({ name: word, start: i, end: j });
      prevSignificant = word;
      i = j;
      continue;
    }
    if (/[0-9]/.test(ch)) {
      while (i < n && /[0-9A-Za-z_.]/.test(source[i])) i++;
      prevSignificant = '0';
      continue;
    }
    if (!/\s/.test(ch)) prevSignificant = ch;
    i++;
  }
  return out;
}

/**
 * Edits that rename the references to `from` in Python source (the identifiers and whole-string names that
 * pythonReferences finds) to `to`; for the rename operation on PySpark cells.
 */
export function rewritePythonReferences(
  source: string,
  from: string,
  to: string,
): Array<{ start: number; end: number; text: string }> {
  const lower = from.toLowerCase();
  return pythonReferences(source)
    .filter((r) => r.name.toLowerCase() === lower)
    .map((r) => ({ start: r.start, end: r.end, text: to }));
}
