/**
 * The images' build context (.dockerignore, an allow-list) and what they compile
 * (tsconfig.build.json) agree: every file tsc compiles is in the context, every TypeScript file of
 * the context is compiled, and nothing compiled imports a file the context leaves out (a src/
 * module importing test/ would build here and fail in the image); and the packages each image's
 * `deps` stage removes (`npm uninstall --no-save ...`) are never imported by its entrypoint.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../support/corpus.js';

/** .dockerignore's rules in order: [pattern, ignored?]; the last matching rule wins, as Docker does. */
function dockerignoreRules(): Array<[RegExp, boolean]> {
  return readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = (negated ? line.slice(1) : line).replace(/\/+$/, '');
      const regex = pattern
        .split('**/')
        .map((part) => part.split('**').map((piece) => piece.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('.*'))
        .join('(?:.*/)?');
      // A pattern matches a path or anything under it.
      return [new RegExp(`^${regex}(?:/.*)?$`), !negated] as [RegExp, boolean];
    });
}

function inContext(path: string, rules: Array<[RegExp, boolean]>): boolean {
  let ignored = false;
  for (const [regex, ignores] of rules) if (regex.test(path)) ignored = ignores;
  return !ignored;
}

function walk(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    return entry.isDirectory() ? walk(path) : [path];
  });
}

describe('image build context (.dockerignore) and tsconfig.build.json', () => {
  const rules = dockerignoreRules();
  const config = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.build.json'), (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO_ROOT);
  const compiled = parsed.fileNames.map((f) => relative(REPO_ROOT, f)).sort();

  it('lets in the files the Dockerfiles copy, and no tests, scripts, docs or build output', () => {
    for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/server/main.ts', 'src/operator/main.ts', 'src/server/runtime/graph/op-defs.json']) {
      assert.ok(inContext(path, rules), `${path} must be in the context`);
    }
    for (const path of ['test/support/corpus.ts', 'src/operator/render/render.test.ts', 'dist/src/server/main.js', 'node_modules/express/package.json', '.git/HEAD', 'bench/server/run.ts', 'docker/server.Dockerfile', 'README.md', 'scripts/python-env.sh', '.env']) {
      assert.ok(!inContext(path, rules), `${path} must stay out of the context`);
    }
    for (const dockerfile of ['server', 'server-gpu', 'operator']) {
      const text = readFileSync(join(REPO_ROOT, 'docker', `${dockerfile}.Dockerfile`), 'utf8');
      for (const [, sources] of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
        for (const source of sources!.split(/\s+/)) assert.ok(inContext(source, rules), `${dockerfile}.Dockerfile copies ${source}, which the context leaves out`);
      }
    }
  });

  it('compiles exactly the TypeScript files of the context', () => {
    assert.equal(parsed.errors.length, 0, parsed.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('\n'));
    const contextSources = walk('src').filter((f) => f.endsWith('.ts') && inContext(f, rules)).sort();
    assert.ok(compiled.length > 100, `${compiled.length} files`);
    assert.deepEqual(compiled, contextSources);
  });

  it('compiles nothing that imports a file outside the context', () => {
    const outside: string[] = [];
    for (const file of compiled) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      for (const [, specifier] of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = relative(REPO_ROOT, resolve(REPO_ROOT, dirname(file), specifier!)).replace(/\.js$/, '.ts');
        if (!inContext(target, rules) || !existsSync(join(REPO_ROOT, target))) outside.push(`${file} -> ${specifier}`);
      }
    }
    assert.deepEqual(outside, []);
  });
});

/** The npm packages `entry` (a src/ .ts file) imports, directly or through other src/ modules. */
function packagesImportedBy(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    for (const [, a, b] of text.matchAll(/(?:from\s*|import\(\s*|^import\s+)'([^']+)'|require\('([^']+)'\)/gm)) {
      const specifier = (a ?? b)!;
      if (specifier.startsWith('.')) visit(relative(REPO_ROOT, resolve(REPO_ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts'));
      else if (!specifier.startsWith('node:')) packages.add(specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
    }
  };
  visit(entry);
  return packages;
}

/** The packages a Dockerfile's deps stage uninstalls. */
function uninstalled(dockerfile: string): string[] {
  const text = readFileSync(join(REPO_ROOT, 'docker', `${dockerfile}.Dockerfile`), 'utf8').replace(/\\\n/g, ' ');
  return [...text.matchAll(/npm uninstall ([^&]+)/g)].flatMap(([, args]) => args!.trim().split(/\s+/).filter((a) => !a.startsWith('-')));
}

describe('what the images leave out of node_modules', () => {
  for (const [dockerfile, entry] of [['server', 'src/server/main.ts'], ['server-gpu', 'src/server/main.ts'], ['operator', 'src/operator/main.ts']] as const) {
    it(`${dockerfile}.Dockerfile removes no package ${entry} imports`, () => {
      const removed = uninstalled(dockerfile);
      const imported = packagesImportedBy(entry);
      assert.ok(imported.size > 2, [...imported].join(','));
      assert.deepEqual(removed.filter((p) => imported.has(p)), []);
      if (dockerfile !== 'server-gpu') assert.ok(removed.length > 0, 'the deps stage trims nothing?');
    });
  }
});
