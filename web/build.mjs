// Builds src/herald-notifications.js into one minified ES module,
// dist/herald-notifications.js (DOMPurify included, its licence kept).
//   node build.mjs          write dist/
//   node build.mjs --check  exit 1 when dist/ is not the build of src/
import { build } from 'esbuild';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, 'src/herald-notifications.js');
const output = join(here, 'dist/herald-notifications.js');

async function bundle() {
  const result = await build({
    absWorkingDir: here,
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
    minify: true,
    legalComments: 'inline',
    charset: 'utf8',
    sourcemap: false,
    metafile: false,
    write: false,
    logLevel: 'warning',
  });
  return Buffer.from(result.outputFiles[0].contents);
}

const fresh = await bundle();
if (process.argv.includes('--check')) {
  const committed = await readFile(output).catch(() => Buffer.alloc(0));
  if (!committed.equals(fresh)) {
    console.error('dist/herald-notifications.js is not the build of src/: run `node build.mjs` in web/ and commit dist/');
    process.exit(1);
  }
  console.log(`dist/herald-notifications.js is up to date (${fresh.length} bytes, ${gzipSync(fresh, { level: 9 }).length} gzipped)`);
} else {
  await mkdir(dirname(output), { recursive: true });
  await writeFile(output, fresh);
  console.log(`wrote dist/herald-notifications.js: ${fresh.length} bytes, ${gzipSync(fresh, { level: 9 }).length} gzipped`);
}
