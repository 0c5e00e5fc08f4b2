// A small deterministic YAML writer for JSON-shaped values (maps, lists, strings, numbers, booleans, null). The
// `yaml` package is used for reading; writing hundreds of cell configs per snapshot or export with it dominated their
// cost, and JSON values need only a small subset of YAML. Strings that could read as anything else are written as
// JSON strings (valid YAML double-quoted scalars), so `YAML.parse(emitYaml(v))` equals `v` (property-tested).

const PLAIN = /^[A-Za-z_][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./-]+)*$/;
// Words YAML 1.1 or 1.2 readers take as booleans or null.
const RESERVED = /^(?:y|n|yes|no|on|off|true|false|null|~)$/i;

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return Object.is(v, -0) ? '-0.0' : String(v);
    return Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
  }
  const s = String(v);
  if (PLAIN.test(s) && !RESERVED.test(s)) return s;
  // JSON escapes control characters; the few other characters YAML treats specially are escaped too.
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEmptyCollection(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (isMap(v) && Object.keys(v).length === 0);
}

function inline(v: unknown): string {
  if (Array.isArray(v)) return '[]';
  if (isMap(v)) return '{}';
  return scalar(v);
}

function emit(v: unknown, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (isMap(item) && !isEmptyCollection(item)) {
        const lines: string[] = [];
        emit(item, `${indent}  `, lines);
        lines[0] = `${indent}- ${lines[0].slice(indent.length + 2)}`;
        out.push(...lines);
      } else if (Array.isArray(item) && item.length) {
        out.push(`${indent}-`);
        emit(item, `${indent}  `, out);
      } else {
        out.push(`${indent}- ${inline(item)}`);
      }
    }
    return;
  }
  if (isMap(v)) {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) continue;
      const key = scalar(k);
      if ((isMap(val) || Array.isArray(val)) && !isEmptyCollection(val)) {
        out.push(`${indent}${key}:`);
        emit(val, Array.isArray(val) ? `${indent}  ` : `${indent}  `, out);
      } else {
        out.push(`${indent}${key}: ${inline(val)}`);
      }
    }
    return;
  }
  out.push(`${indent}${scalar(v)}`);
}

/** YAML text for a JSON-shaped value, keys in the order given, ending with one newline. */
export function emitYaml(value: unknown): string {
  if (isEmptyCollection(value) || !(isMap(value) || Array.isArray(value))) return `${inline(value)}\n`;
  const out: string[] = [];
  emit(value, '', out);
  return `${out.join('\n')}\n`;
}
