import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainerBinary } from './native-trainer.js';

const scratch = mkdtempSync(join(tmpdir(), 'npllm-packaged-trainer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('finding the trainer', () => {
  it('in a packaged app, uses the one main names in NPLLM_TRAINER (<resources>/trainer/npllm-train)', () => {
    const resources = join(scratch, 'opt', 'npllm', 'resources');
    mkdirSync(join(resources, 'trainer'), { recursive: true });
    const shipped = join(resources, 'trainer', 'npllm-train');
    writeFileSync(shipped, '#!/bin/sh\n');
    chmodSync(shipped, 0o755);
    expect(trainerBinary({ NPLLM_TRAINER: shipped })).toBe(shipped);
  });

  it('a named trainer that is missing fails with the fix', () => {
    expect(() => trainerBinary({ NPLLM_TRAINER: join(scratch, 'missing', 'npllm-train') })).toThrow(
      expect.objectContaining({ code: 'MODEL_NOT_FOUND', fix: expect.stringContaining('build:trainer') }),
    );
  });
});
