// After the machine went down (another boot id), the first command finds this boot's predecessor's
// write-back marker, says what it checked, drops the objects the crash tore, and the stage that made
// them runs again instead of restoring torn bytes. The crash is played by renaming the marker to
// another boot's id and truncating the output's object.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { readBootId } from '../../src/cache/write-back.js';
import { Rig } from './rig.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

const SPEC = 'name: crash\nstages:\n  s:\n    cmd: ["sh", "-c", "echo made once > out.txt; echo x >> ran.log"]\n    outs: [out.txt]\n';

describe('the cache after an unclean shutdown', () => {
  it('checks what was written unfsynced, removes the torn object, and the stage runs again', async () => {
    const boot = readBootId();
    expect(boot, 'this test needs /proc/sys/kernel/random/boot_id (Linux)').toBeDefined();
    rig = Rig.create({ 'massflow.yaml': SPEC });
    expect((await rig.run(['run'])).code).toBe(0);
    const unsynced = rig.path('.massflow/cache/unsynced');
    expect(readdirSync(unsynced)).toEqual([boot]);

    // The crash: the marker now belongs to a boot that ended without a shutdown, and the object
    // holding out.txt's bytes lost them.
    renameSync(join(unsynced, boot!), join(unsynced, '00000000-dead-boot'));
    const objects = rig.path('.massflow/cache/objects');
    const torn = readdirSync(objects, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && readFileSync(join(e.parentPath, e.name), 'utf8') === 'made once\n')
      .map((e) => join(e.parentPath, e.name));
    expect(torn).toHaveLength(1);
    chmodSync(torn[0]!, 0o644);
    truncateSync(torn[0]!, 0);
    rmSync(rig.path('out.txt'));

    const st = await rig.run(['status']);
    expect(st.code).toBe(0);
    const digest = torn[0]!.split('/').slice(-2).join('');
    expect(st.stderr).toMatch(new RegExp(`^cache: the machine went down since objects were last written; checked the \\d+ written since \\S+; removed 1 torn \\(${digest.slice(0, 12)}\\): what needs them runs or pulls again$`, 'm'));
    expect(st.stdout).toBe('s  stale  no cached result (last attempt failed, was interrupted, or was collected)\ncrash: 0 fresh, 0 restorable from cache, 1 stale\n');
    expect(readdirSync(unsynced)).toEqual([]);

    const run = await rig.run(['run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('cache: the machine went down');
    expect(readFileSync(rig.path('out.txt'), 'utf8')).toBe('made once\n');
    expect(readFileSync(rig.path('ran.log'), 'utf8')).toBe('x\nx\n');
  });
});
