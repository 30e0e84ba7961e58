import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layout's rules (DESIGN §5), read from the code's own imports: no module imports itself
 * round a cycle, machines stay pure, and the engine is the generic ledger only.
 */
const root = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const files = [...sources('src'), ...sources('machines')];
/** Each file's project imports, type-only ones included (a cycle of types is still a knot for a reader). */
const imports = new Map(
  files.map((file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const targets = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms)].map((m) => relative(root, join(root, dirname(file), m[1]!)));
    return [file, targets.filter((target) => files.includes(target))];
  }),
);

function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const next of imports.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

describe('the layout', () => {
  it('reads the imports of every source file', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(imports.get('src/engine/engine.ts')).toContain('src/engine/ledger.ts');
  });

  it('has no import cycle', () => {
    expect(cycles().map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('keeps the engine generic: it imports nothing from the HTTP layer, the reads, the catalogues or a workflow', () => {
    const forbidden = ['src/http/', 'src/read/', 'src/i18n/', 'src/workflows/'];
    const offending = [...imports].filter(([file]) => file.startsWith('src/engine/')).flatMap(([file, targets]) => targets.filter((t) => forbidden.some((f) => t.startsWith(f))).map((t) => `${file} → ${t}`));
    expect(offending).toEqual([]);
  });

  it('keeps the machines pure: they import only other machines and the pure domain', () => {
    const offending = [...imports].filter(([file]) => file.startsWith('machines/')).flatMap(([file, targets]) => targets.filter((t) => !t.startsWith('machines/') && !t.startsWith('src/domain/')).map((t) => `${file} → ${t}`));
    expect(offending).toEqual([]);
  });

  it('keeps workflow rules out of the HTTP layer and the templates: no condition on a state or a role there', () => {
    // The access table itself (src/http/authorization.ts) is where role rules live.
    const webFiles = sources('src/http').filter((f) => f !== join('src', 'http', 'authorization.ts'));
    const templates = readdirSync(join(root, 'views'), { recursive: true }).map(String).filter((f) => f.endsWith('.eta')).map((f) => join('views', f));
    const condition = /\b(?:role|state)\s*[!=]==\s*'[a-z-.]+'|'[a-z-.]+'\s*[!=]==\s*[\w.]*\b(?:role|state)\b|\.includes\((?:actor|it\.actor|request\.actor)[\w.?]*\.role\)/;
    const offending = [...webFiles, ...templates].flatMap((file) =>
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${file}:${i + 1}` }))
        .filter(({ line }) => condition.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
    expect(offending).toEqual([]);
  });
});
