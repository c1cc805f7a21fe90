// Locations of the real files in ../shared/data (read-only, never copied into the repo).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// MASSFLOW_SHARED_DATA points elsewhere (e.g. from a worktree that is not beside shared/).
export const SHARED = process.env['MASSFLOW_SHARED_DATA']?.replace(/\/?$/, '/') ?? fileURLToPath(new URL('../../../shared/data/', import.meta.url));
export const CATALOGS = `${SHARED}catalogs/`;
export const FRAMES_ROOT = `${SHARED}sdss_dr12_frames/`;
export const frameFile = (band: string) => `${FRAMES_ROOT}301/2583/2/frame-${band}-002583-2-0136.fits.bz2`;
export const PHOTOFIELD = `${FRAMES_ROOT}301/2583/photoField-002583-2.fits`;
export const haveSharedData = existsSync(frameFile('r'));
