/**
 * The arrows point one way (DESIGN.md, "Inside"): cli → gateway → actors → events. Read from
 * the TypeScript sources, so that a `import type` counts too: a layer that knows about one
 * above it cannot be used, or tested, without it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's src/ (tests run from dist/test/). */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Each layer, and the layers it must not import. */
const FORBIDDEN: Record<string, string[]> = {
  events: ['actors', 'gateway', 'cli', 'audit', 'ops'],
  actors: ['gateway', 'cli', 'ops'],
  gateway: ['cli', 'ops'],
  // Beside the node, observing it: the CLI starts it, never the other way.
  ops: ['cli'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** `layer/file.ts imports ../up/x.js` for every import of a forbidden layer. */
function wrongArrows(layer: string): string[] {
  const found: string[] = [];
  for (const file of sources(join(SRC, layer))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      const target = /^(?:\.\.\/)+([a-z-]+)\//.exec(spec)?.[1];
      if (target && FORBIDDEN[layer]!.includes(target)) found.push(`${file.slice(SRC.length)} imports ${spec}`);
    }
  }
  return found;
}

for (const layer of Object.keys(FORBIDDEN)) {
  test(`src/${layer} imports none of ${FORBIDDEN[layer]!.join(', ')}`, () => {
    assert.ok(sources(join(SRC, layer)).length > 0, `src/${layer} has sources`);
    assert.equal(wrongArrows(layer), []);
  });
}

test.run();
