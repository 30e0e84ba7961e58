import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * One folder per run for the seeded demo templates (test/demo-template.ts): the first test file
 * that asks for the demo at a given clock seeds it there once, every test then opens its own copy.
 * Removed when the run ends.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'isu-ib-demo-templates-'));
  project.provide('demoTemplates', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
