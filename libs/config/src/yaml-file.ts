import * as fs from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, describeValue } from './errors';

export type PathSeg = string | number;

/** A parsed config file plus what is needed to point at a key in it. */
export interface ConfigFile {
  /** Absolute path. */
  readonly path: string;
  /** Top-level mapping as plain JS (null sections kept as null). */
  readonly data: Record<string, unknown>;
  readonly warnings: string[];
  /** The text as written for a plain (unquoted) scalar at `segs`, e.g. `05` for a YAML int 5. */
  sourceText(segs: readonly PathSeg[]): string | undefined;
  /** `file:line:col` of the key (or list item) at `segs`; just `file` when not found. */
  where(segs: readonly PathSeg[]): string;
}

/**
 * Read and parse a YAML config file (YAML 1.2 core schema; merge keys `<<` allowed as PyYAML did).
 * Missing/unreadable file, syntax error, or a top level that is not a mapping → ConfigError with
 * the path (and line:column). Never falls back to defaults (defect 5).
 */
export function readConfigFile(absPath: string): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(absPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : `cannot read (${code ?? (e as Error).message})`;
    throw new ConfigError(`config file ${absPath}: ${why}`);
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const at = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${absPath}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : '';
    // Only the parser's own sentence: never the offending source line, which may hold a password.
    const msg = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${at(err.pos[0])}: YAML syntax error: ${msg}${more}`);
  }

  const warnings = doc.warnings.map((w) => `${at(w.pos[0])}: YAML warning: ${w.message.split('\n')[0]}`);
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new ConfigError(`config file ${absPath}: cannot be converted: ${(e as Error).message.split('\n')[0]}`);
  }
  let data: Record<string, unknown>;
  if (js === null || js === undefined) {
    warnings.push(`config file ${absPath} is empty: only environment, flags and defaults apply`);
    data = {};
  } else if (typeof js !== 'object' || Array.isArray(js)) {
    throw new ConfigError(
      `${absPath}: the top level must be a mapping of sections (database, storage, pdr, …), got ${describeValue(js)}`,
    );
  } else {
    data = js as Record<string, unknown>;
  }

  return {
    path: absPath,
    data,
    warnings,
    sourceText(segs) {
      const node = doc.getIn(segs as PathSeg[], true) as unknown;
      if (isScalar(node) && node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
      return undefined;
    },
    where(segs) {
      const offset = keyOffset(doc, segs);
      return offset === undefined ? absPath : at(offset);
    },
  };
}

/** Offset of the key node (mapping) or item node (sequence) at the end of `segs`. */
function keyOffset(doc: Document, segs: readonly PathSeg[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const seg of segs) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) return offset;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return offset;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}
