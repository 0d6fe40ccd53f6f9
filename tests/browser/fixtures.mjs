// Git repositories the browser tests and scripts/bench-ui.mjs compare.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// git with a fixed identity and date, so commit ids are reproducible.
export function git(dir, ...args) {
  execFileSync('git', ['-C', dir, '-c', 'user.name=chartimpact', '-c', 'user.email=ci@example.invalid',
    '-c', 'commit.gpgsign=false', ...args], { stdio: 'pipe', env: { ...process.env, GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z', GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z' } });
}

// A chart (charts/many) that renders `n` ConfigMaps of 12 keys whose every value changes
// between tags v1 and v2: a result of about 7.5 kB per resource, for large-result tests.
export function makeBigRepo(dir, n) {
  mkdirSync(join(dir, 'charts', 'many', 'templates'), { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'charts', 'many', 'Chart.yaml'), 'apiVersion: v2\nname: many\nversion: 1.0.0\n');
  writeFileSync(join(dir, 'charts', 'many', 'templates', 'cms.yaml'),
    '{{- range $i := until (int .Values.count) }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{{ $i }}\ndata:\n'
    + '  {{- range $j := until 12 }}\n  key{{ $j }}: "{{ $.Values.prefix }}-{{ $i }}-{{ $j }}-abcdefghijklmnopqrstuvwxyz0123456789"\n  {{- end }}\n{{- end }}\n');
  for (const [tag, prefix] of [['v1', 'old'], ['v2', 'new']]) {
    writeFileSync(join(dir, 'charts', 'many', 'values.yaml'), `count: ${n}\nprefix: ${prefix}\n`);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', tag);
    git(dir, 'tag', tag);
  }
}
